"""Reviews: pushed by shop systems (POST), listed with the review page's filters, import progress."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from kefu.core.errors import NotFound
from kefu.core.permissions import authorize
from kefu.tickets.schemas import ErrorOut
from kefu.voc.models import ReviewImport
from kefu.voc.schemas.reviews import (
    MAX_LIMIT,
    PAGE,
    ImportOut,
    ReviewFilters,
    ReviewPageOut,
    ReviewsIn,
    ReviewsReceivedOut,
    review_queryset,
)
from kefu.voc.services import reviews as review_services

router = Router(tags=["voice of customer"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut}


@router.post(
    "/reviews", response={200: ReviewsReceivedOut, 201: ReviewsReceivedOut, **ERRORS}, summary="Push reviews"
)
def push_reviews(request: HttpRequest, payload: ReviewsIn):
    """Store up to 1,000 reviews of one shop (id or code). Idempotent: a review known by its
    `review_id` — or, without one, by order, product, buyer, time and text — is a duplicate, unless it
    now carries a 追评 (`follow_up_content`) the stored review lacks, which is added. All or nothing:
    one invalid review refuses the request (422 naming `reviews[i].field`). 201 when something new
    was created, else 200. Needs the voc.import permission (supervisors, administrators)."""
    result = review_services.receive_reviews(
        actor=request.user,
        shop_id=payload.shop,
        reviews=[r.model_dump() for r in payload.reviews],
    )
    return (201 if result["created"] else 200), result


@router.get("/reviews", response={200: ReviewPageOut, **ERRORS}, summary="List reviews")
def list_reviews(
    request: HttpRequest,
    shop: str = "",
    product: str = "",
    level: str = "",
    week: str = "",
    since: str = "",
    until: str = "",
    q: str = "",
    limit: int = PAGE,
    offset: int = 0,
):
    """Newest first; the filters of the review page (`week` is the Monday of an ISO week in the
    user's time zone; `since`/`until` dates, inclusive)."""
    authorize(request.user, "voc.view")
    filters = ReviewFilters.parse(
        {
            "shop": shop,
            "product": product,
            "level": level,
            "week": week,
            "since": since,
            "until": until,
            "q": q,
        }
    )
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    qs = filters.apply(review_queryset(), timezone.get_current_timezone())
    return 200, {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": list(qs[offset : offset + limit]),
    }


@router.get("/imports/{import_id}", response={200: ImportOut, **ERRORS}, summary="Review import progress")
def get_import(request: HttpRequest, import_id: int):
    """Status and counts of an uploaded review file (progress while it is imported)."""
    authorize(request.user, "voc.view")
    imp = ReviewImport.objects.filter(pk=import_id).first()
    if imp is None:
        raise NotFound(_("No such import."))
    return 200, imp
