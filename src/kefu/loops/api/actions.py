"""The improvement-actions API: create, list, read, change, move through the workflow, commit a fix
date, claim, comment (JSON or multipart with files), add evidence."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from kefu.core.errors import ValidationFailed
from kefu.loops import workflow
from kefu.loops.models import ImprovementAction
from kefu.loops.schemas.actions import (
    ActionCreateIn,
    ActionDetailOut,
    ActionPage,
    ActionPatchIn,
    CommentIn,
    CommentOut,
    CommitIn,
    EvidenceIn,
    EvidenceOut,
    TransitionIn,
)
from kefu.loops.selectors import actions as action_selectors
from kefu.loops.services import actions as svc
from kefu.tickets.schemas import ErrorOut

router = Router(tags=["closed loop: improvement actions"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def action_out(a: ImprovementAction) -> dict[str, Any]:
    overdue = getattr(a, "is_overdue", False)
    return {
        "id": a.pk,
        "number": a.number,
        "title": a.title,
        "problem": a.problem,
        "source": a.source,
        "status": a.status,
        "insight_id": a.insight_id,
        "department_id": a.department_id,
        "department": a.department.name,
        "owner_id": a.owner_id,
        "owner": str(a.owner) if a.owner else None,
        "created_by_id": a.created_by_id,
        "reject_reason": a.reject_reason,
        "commit_deadline": a.commit_deadline,
        "committed_date": a.committed_date,
        "escalation_level": a.escalation_level,
        "overdue": bool(overdue),
        "metric": a.metric,
        "metric_product_id": a.metric_product_id,
        "metric_shop_id": a.metric_shop_id,
        "metric_cause_id": a.metric_cause_id,
        "baseline_value": a.baseline_value,
        "goal_value": a.goal_value,
        "verified_value": a.verified_value,
        "claimed_by_id": a.claimed_by_id,
        "claimed_by": str(a.claimed_by) if a.claimed_by else None,
        "claimed_at": a.claimed_at,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "accepted_at": a.accepted_at,
        "implemented_at": a.implemented_at,
        "closed_at": a.closed_at,
        "allowed_transitions": workflow.allowed(a.status),
    }


def comment_out(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "author": str(c.author) if c.author else None,
        "body": c.body,
        "created_at": c.created_at,
        "files": [att.file_name for att in c.attachments.all()],
    }


def detail_out(request: HttpRequest, action_id: int) -> dict[str, Any]:
    a = action_selectors.get_action(actor=request.user, action_id=action_id)
    return {
        **action_out(a),
        "milestones": list(a.milestones.all()),
        "evidence": list(a.evidence.order_by("id")),
        "comments": [
            comment_out(c) for c in a.comments.select_related("author").prefetch_related("attachments")
        ],
    }


@router.post("/actions", response={201: ActionDetailOut, **ERRORS}, summary="Create an improvement action")
def actions_create(request: HttpRequest, payload: ActionCreateIn):
    """The owner (or the department head) is notified; the department must accept and commit a fix date
    within the configured business days, or the action escalates."""
    action = svc.create_action(actor=request.user, **payload.dict())
    return 201, detail_out(request, action.pk)


@router.get("/actions", response={200: ActionPage, **ERRORS}, summary="Improvement actions, overdue first")
def actions_list(
    request: HttpRequest,
    status: str = Query("", description="a status, a comma list, or 'open'"),
    department: int | None = None,
    owner: int | None = None,
    overdue: bool | None = None,
    claimed: bool | None = None,
    q: str = "",
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
):
    filters = action_selectors.ActionFilters(
        status=status, department=department, owner=owner, overdue=overdue, claimed=claimed, q=q.strip()
    )
    qs = action_selectors.list_actions(actor=request.user, filters=filters)
    return 200, {"items": [action_out(a) for a in qs[offset : offset + limit]], "count": qs.count()}


@router.get("/actions/{int:action_id}", response={200: ActionDetailOut, **ERRORS}, summary="One action")
def actions_get(request: HttpRequest, action_id: int):
    return 200, detail_out(request, action_id)


@router.patch("/actions/{int:action_id}", response={200: ActionDetailOut, **ERRORS}, summary="Change fields")
def actions_patch(request: HttpRequest, action_id: int, payload: ActionPatchIn):
    svc.update_action(actor=request.user, action_id=action_id, changes=payload.dict(exclude_unset=True))
    return 200, detail_out(request, action_id)


@router.post(
    "/actions/{int:action_id}/transition",
    response={200: ActionDetailOut, **ERRORS},
    summary="Move through the workflow (409 with the allowed targets)",
)
def actions_transition(request: HttpRequest, action_id: int, payload: TransitionIn):
    svc.transition_action(actor=request.user, action_id=action_id, to=payload.to, reason=payload.reason)
    return 200, detail_out(request, action_id)


@router.post(
    "/actions/{int:action_id}/commit", response={200: ActionDetailOut, **ERRORS}, summary="Commit a fix date"
)
def actions_commit(request: HttpRequest, action_id: int, payload: CommitIn):
    svc.commit_date(actor=request.user, action_id=action_id, date=payload.date)
    return 200, detail_out(request, action_id)


@router.post(
    "/actions/{int:action_id}/claim", response={200: ActionDetailOut, **ERRORS}, summary="Claim (executives)"
)
def actions_claim(request: HttpRequest, action_id: int):
    svc.claim_action(actor=request.user, action_id=action_id)
    return 200, detail_out(request, action_id)


_COMMENT_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": CommentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "body": {"type": "string"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                }
            },
        },
        "required": True,
    }
}


@router.post(
    "/actions/{int:action_id}/comments",
    response={201: CommentOut, **ERRORS, 413: ErrorOut, 415: ErrorOut},
    openapi_extra=_COMMENT_BODY,
    summary="Comment (JSON, or multipart with files)",
)
def actions_comment(request: HttpRequest, action_id: int):
    files: list[Any] = []
    if request.content_type == "multipart/form-data":
        body = request.POST.get("body", "")
        files = request.FILES.getlist("files")
    else:
        try:
            raw = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed(
                _("The body is not valid JSON."), field="body", code="malformed_json"
            ) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("body", ""), str):
            raise ValidationFailed(_("%(field)s must be text.") % {"field": "body"}, field="body")
        body = raw.get("body", "")
    comment = svc.add_comment(actor=request.user, action_id=action_id, body=body, files=files)
    return 201, comment_out(comment)


@router.post(
    "/actions/{int:action_id}/evidence",
    response={201: EvidenceOut, **ERRORS},
    summary="Link a feedback item or a ticket as evidence",
)
def actions_evidence(request: HttpRequest, action_id: int, payload: EvidenceIn):
    ev = svc.add_evidence(
        actor=request.user,
        action_id=action_id,
        feedback_item_id=payload.feedback_item_id,
        ticket_id=payload.ticket_id,
    )
    return 201, ev
