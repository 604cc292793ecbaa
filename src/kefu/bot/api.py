"""The bot API. `POST /ask` and `POST /feedback` are public (auth=None: no session or token is read, so
there is no CSRF to pass; rate-limited per IP); the tuning list and the settings need a token or a
signed-in session of a knowledge editor or administrator (bot.tune)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router

from kefu.bot import selectors, services
from kefu.bot.schemas import (
    AnswerOut,
    AskIn,
    BotSettingsIn,
    BotSettingsOut,
    FeedbackIn,
    FeedbackOut,
    HandoffOut,
    TuningOut,
    TuningResolvedOut,
    TuningResolveIn,
    TuningVariantIn,
)
from kefu.core.ratelimit import client_ip
from kefu.tickets.schemas import ErrorOut

router = Router()  # the API's authentication (token or session)
public = Router(auth=None)
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


@public.post(
    "/ask",
    response={200: AnswerOut | HandoffOut, **ERRORS},
    summary="Ask the answer bot (no sign-in)",
)
def bot_ask(request: HttpRequest, payload: AskIn):
    """An answer from the public knowledge base when the bot is sure enough (`type: "answer"`), else a
    hand-off to a person (`type: "handoff"`): a ticket is created — or, later in the same session,
    continued — with the conversation so far. Send the answer's `session` with the next question.
    `phone`/`email` say who the ticket is for; without them the customer is known by the session."""
    reply = services.ask(
        question=payload.question,
        session_key=payload.session,
        channel=payload.channel,
        phone=payload.phone,
        email=payload.email,
        ip=client_ip(request) or "unknown",
    )
    if reply.type == "answer":
        return 200, {
            "type": "answer",
            "text": reply.text,
            "article_id": reply.article_id,
            "title": reply.title,
            "confidence": reply.confidence,
            "url": reverse("help:article_id", args=[reply.article_id]),
            "session": reply.session,
        }
    return 200, {
        "type": "handoff",
        "ticket_number": reply.ticket_number,
        "message": reply.message,
        "session": reply.session,
    }


@public.post("/feedback", response={200: FeedbackOut, **ERRORS}, summary="Was the bot's answer helpful?")
def bot_feedback(request: HttpRequest, payload: FeedbackIn):
    """Stored as a vote on the article (source "bot"), once per session and article; only for an
    article the bot gave in this session."""
    _vote, created = services.record_feedback(
        session_key=payload.session,
        article_id=payload.article_id,
        helpful=payload.helpful,
        ip=client_ip(request) or "unknown",
    )
    return 200, {"created": created}


@router.get("/tuning", response={200: TuningOut, **ERRORS}, summary="The tuning list (bot.tune)")
def bot_tuning(request: HttpRequest, limit: int = 50):
    """Unresolved low-confidence and handed-off questions, grouped by similarity, largest group first."""
    groups, total = selectors.list_tuning_groups(actor=request.user, limit=max(1, min(limit, 200)))
    return 200, {
        "groups": [
            {
                "questions": [{"text": q.text, "count": q.count} for q in g.questions],
                "count": g.count,
                "last_asked": g.last_asked,
                "handed_off": g.handed_off,
                "low_confidence": g.low_confidence,
                "turn_ids": g.turn_ids,
                "article": {"id": g.article_id, "title": g.article_title} if g.article_id else None,
            }
            for g in groups
        ],
        "total_groups": total,
    }


@router.post(
    "/tuning/variants",
    response={200: TuningResolvedOut, **ERRORS},
    summary="Add a group's questions as variants",
)
def bot_tuning_variants(request: HttpRequest, payload: TuningVariantIn):
    """Add the questions (all of the group's, or `texts`) as question variants of the article and take
    the group off the list; the bot answers these questions with the article from now on."""
    n = services.add_tuning_variants(
        actor=request.user, turn_ids=payload.turn_ids, article_id=payload.article_id, texts=payload.texts
    )
    return 200, {"resolved": n}


@router.post("/tuning/resolve", response={200: TuningResolvedOut, **ERRORS}, summary="Resolve a group")
def bot_tuning_resolve(request: HttpRequest, payload: TuningResolveIn):
    n = services.resolve_tuning_turns(
        actor=request.user, turn_ids=payload.turn_ids, resolution=payload.resolution
    )
    return 200, {"resolved": n}


@router.get("/settings", response={200: BotSettingsOut, **ERRORS}, summary="The bot's settings (bot.tune)")
def bot_settings_get(request: HttpRequest):
    return 200, selectors.get_bot_settings(actor=request.user)


@router.put("/settings", response={200: BotSettingsOut, **ERRORS}, summary="Change the bot's settings")
def bot_settings_put(request: HttpRequest, payload: BotSettingsIn):
    return 200, services.update_bot_settings(
        actor=request.user,
        threshold=payload.threshold,
        low_confidence_margin=payload.low_confidence_margin,
        handoff_team_id=payload.handoff_team_id,
    )


router.add_router("", public)
