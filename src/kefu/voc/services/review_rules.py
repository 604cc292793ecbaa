"""Review-to-ticket rules: which new 差评/中评 and negative 追评 open a ticket for which team, and the
ticket itself (exactly once per review and per follow-up, by the system user)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kefu.accounts.models import Team
from kefu.accounts.services import get_system_user
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import DomainError, ValidationFailed
from kefu.core.permissions import authorize
from kefu.customers.models import Shop
from kefu.voc import events
from kefu.voc.choices import Polarity, RatingLevel
from kefu.voc.models import FeedbackItem, Review, ReviewTicketRule

log = logging.getLogger(__name__)

RULE_FLAGS = ("on_bad", "on_neutral", "on_negative_follow_up", "is_active")
PLATFORM_LABELS = {"jd": "JD", "tmall": "Tmall"}
TICKET_CHANNELS = {"jd": "jd", "tmall": "tmall"}


@transaction.atomic
def save_review_rule(
    *,
    actor: Any,
    shop_id: int | None,
    team_id: int,
    on_bad: bool = True,
    on_neutral: bool = True,
    on_negative_follow_up: bool = True,
    is_active: bool = True,
) -> ReviewTicketRule:
    """Create or change the rule of a shop (or the default rule, shop None)."""
    authorize(actor, "voc.import")
    shop = None
    if shop_id is not None:
        shop = Shop.objects.filter(pk=shop_id).first()
        if shop is None:
            raise ValidationFailed(_("No such shop."), field="shop_id")
    if not Team.objects.filter(pk=team_id).exists():
        raise ValidationFailed(_("Choose the team that gets the tickets."), field="team_id")
    rule = ReviewTicketRule.objects.select_for_update().filter(shop=shop).order_by("-is_active", "id").first()
    wanted: dict[str, Any] = {
        "team_id": team_id,
        "on_bad": bool(on_bad),
        "on_neutral": bool(on_neutral),
        "on_negative_follow_up": bool(on_negative_follow_up),
        "is_active": bool(is_active),
    }
    changes: dict[str, Any] = {}
    if rule is None:
        rule = ReviewTicketRule(shop=shop)
        changes = {k: {"from": None, "to": v} for k, v in wanted.items()}
    else:
        changes = {k: {"from": getattr(rule, k), "to": v} for k, v in wanted.items() if getattr(rule, k) != v}
    if not changes:
        return rule
    for k, v in wanted.items():
        setattr(rule, k, v)
    rule.updated_by = actor
    rule.updated_at = clock.now()
    rule.save()
    record_event(
        actor=actor,
        verb=events.RULE_CHANGED.verb,
        subject=rule,
        data={
            "fields": ", ".join(sorted(changes)),
            "changes": changes,
            "shop": shop.name if shop else "",
            "shop_id": shop.pk if shop else None,
        },
    )
    return rule


def rule_for(shop_id: int) -> ReviewTicketRule | None:
    """The shop's own active rule, else the active default rule, else None."""
    rules = list(ReviewTicketRule.objects.filter(Q(shop_id=shop_id) | Q(shop=None), is_active=True))
    return next((r for r in rules if r.shop_id == shop_id), None) or next(
        (r for r in rules if r.shop_id is None), None
    )


def _stars(review: Review) -> str:
    if review.rating:
        return "★" * review.rating + "☆" * (5 - review.rating)
    return str(RatingLevel(review.level).label)


def _body(review: Review, *, follow_up: bool) -> str:
    lines = [
        _("Rating: %(stars)s") % {"stars": _stars(review)},
        _("Reviewed at: %(time)s")
        % {"time": review.reviewed_at.astimezone(clock.local_tz()).strftime("%Y-%m-%d %H:%M")},
    ]
    if review.order_number:
        lines.append(_("Order number: %(n)s") % {"n": review.order_number})
    if review.product_name or review.sku:
        lines.append(_("Product: %(p)s") % {"p": " ".join(x for x in (review.product_name, review.sku) if x)})
    if review.buyer_nick:
        lines.append(_("Buyer: %(nick)s") % {"nick": review.buyer_nick})
    lines += ["", review.content or _("(no review text)")]
    if review.follow_up_content:
        lines += ["", _("Follow-up review (追评):"), review.follow_up_content]
    if follow_up:
        lines.insert(0, _("A negative follow-up review (追评) was added to this review."))
    return "\n".join(lines)


def _subject(review: Review, *, follow_up: bool) -> str:
    kind = (
        _("Negative follow-up")
        if follow_up
        else {"bad": _("Negative review"), "neutral": _("Neutral review")}.get(review.level, _("Review"))
    )
    text = (review.follow_up_content if follow_up else review.content) or review.product_name
    return f"{kind} {PLATFORM_LABELS.get(review.platform, review.platform)} {review.shop.name}: {text[:40]}"


def _open_ticket(review: Review, rule: ReviewTicketRule, *, follow_up: bool) -> Any:
    from kefu.tickets.services import create_ticket

    system = get_system_user()
    suffix = ":follow_up" if follow_up else ""
    nick = review.buyer_nick or f"{review.shop.code}-review-{review.pk}"
    ticket, _created = create_ticket(
        actor=system,
        subject=_subject(review, follow_up=follow_up)[:200],
        description=_body(review, follow_up=follow_up),
        type="complaint",
        channel=TICKET_CHANNELS.get(review.platform, "api"),
        priority="high" if review.level == RatingLevel.BAD or follow_up else "normal",
        customer=review.customer,
        customer_name=review.buyer_nick,
        customer_identities=None if review.customer else {"shop_buyer": nick},
        product_id=review.product_id,
        shop_id=review.shop_id,
        team_id=rule.team_id,
        external_id=f"voc:review:{review.pk}{suffix}",
    )
    return ticket


_LOOK_UP = ReviewTicketRule()  # sentinel: find the shop's rule


def open_review_tickets(
    review: Review,
    *,
    new_review: bool,
    follow_up_item: FeedbackItem | None,
    rule: ReviewTicketRule | None = _LOOK_UP,
) -> None:
    """After a review was stored (new) or got a follow-up: open the ticket(s) its shop's rule asks for,
    once each. A new review that already carries a negative follow-up gets one ticket for both. A
    batch passes its shop's `rule` (looked up once)."""
    if rule is _LOOK_UP:
        rule = rule_for(review.shop_id)
    if rule is None:
        return
    negative_follow_up = (
        follow_up_item is not None
        and follow_up_item.polarity == Polarity.NEGATIVE
        and rule.on_negative_follow_up
    )
    wants_review = new_review and (
        (review.level == RatingLevel.BAD and rule.on_bad)
        or (review.level == RatingLevel.NEUTRAL and rule.on_neutral)
    )
    if not wants_review and not negative_follow_up:
        return
    review = Review.objects.select_for_update().select_related("shop").get(pk=review.pk)
    try:
        if wants_review and review.ticket_id is None:
            ticket = _open_ticket(review, rule, follow_up=False)
            review.ticket = ticket
            if negative_follow_up and review.follow_up_ticket_id is None:
                review.follow_up_ticket = ticket
            _stamp(review, ticket, follow_up=False)
        elif negative_follow_up and review.follow_up_ticket_id is None:
            ticket = _open_ticket(review, rule, follow_up=True)
            review.follow_up_ticket = ticket
            _stamp(review, ticket, follow_up=True)
    except DomainError as exc:  # e.g. a nick the customers app refuses: the review stays, no ticket
        log.warning("no ticket for review %s: %s", review.pk, exc.message)


def _stamp(review: Review, ticket: Any, *, follow_up: bool) -> None:
    if review.customer_id is None:
        review.customer_id = ticket.customer_id
    review.updated_at = clock.now()
    review.save(update_fields=["ticket", "follow_up_ticket", "customer", "updated_at"])
    FeedbackItem.objects.filter(review=review, customer__isnull=True).update(customer_id=ticket.customer_id)
    record_event(
        actor=get_system_user(),
        verb=events.REVIEW_TICKET_CREATED.verb,
        subject=review,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data={"number": ticket.number, "review": review.pk, "follow_up": follow_up},
    )
