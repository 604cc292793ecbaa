"""The answer bot: answer a customer's question from the public knowledge base, or hand it to a person
with a ticket; editors' tuning (variants, new articles, dismissals) and the bot's settings.

Every write leaves an audit event in the same transaction. The bot acts as the system user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.accounts.models import Team
from kefu.accounts.services import get_system_user
from kefu.audit.services import record_event
from kefu.bot import events
from kefu.bot.models import BotSession, BotSettings, BotTurn, Outcome
from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.core.ratelimit import hit
from kefu.core.text import clean_text
from kefu.customers.models import Customer
from kefu.customers.normalize import normalize_email, normalize_phone
from kefu.customers.services import find_or_create_customer
from kefu.knowledge import services as kb_services
from kefu.knowledge.choices import ArticleStatus, Audience, VariantSource
from kefu.knowledge.models import Article
from kefu.knowledge.retrieval import rank_articles
from kefu.knowledge.search import markdown_to_text
from kefu.knowledge.usage import record_article_vote, voter_hash
from kefu.tickets.choices import Channel, MessageKind, Status, TicketType
from kefu.tickets.models import Ticket
from kefu.tickets.services import add_message, create_ticket

MAX_QUESTION = 500
MAX_ANSWER = 2_000  # characters of an article's plain text in an answer
MAX_DESCRIPTION = 20_000  # the transcript in a hand-off ticket keeps its latest part
SUBJECT_CHARS = 80
RESOLUTIONS = ("variant_added", "article_written", "dismissed")
MAX_TUNING_TURNS = 500  # turns resolved in one action
MAX_TUNING_VARIANTS = 20  # questions added as variants in one action


def _limit_per_minute() -> int:
    return int(getattr(django_settings, "KEFU_BOT_LIMIT_PER_IP_MINUTE", 30))


@dataclass
class BotReply:
    type: str  # "answer" | "handoff"
    session: str
    turn_id: int
    text: str = ""
    article_id: int | None = None
    title: str = ""
    confidence: float = 0.0
    ticket_number: str = ""
    message: str = ""


# --- asking ----------------------------------------------------------------------------------------------


def _check_channel(channel: Any) -> str:
    if channel in (None, ""):
        return Channel.WEB
    if channel not in Channel.values:
        raise ValidationFailed(
            _("Unknown channel; use one of: %(values)s.") % {"values": ", ".join(Channel.values)},
            field="channel",
        )
    return channel


def _session(key: Any, channel: str, now: Any) -> BotSession:
    """The session with this key (locked), or a new one. An unknown key starts a new session with a
    key of kefu's own: callers never choose keys."""
    if key not in (None, ""):
        if not isinstance(key, str) or len(key) > 64:
            raise ValidationFailed(_("session is not a valid session key."), field="session")
        found = BotSession.objects.select_for_update().filter(key=key).first()
        if found is not None:
            return found
    return BotSession.objects.create(
        key=secrets.token_urlsafe(24), channel=channel, created_at=now, last_at=now
    )


def _customer(
    session: BotSession, customer: Customer | None, phone: str | None, email: str | None, system: Any
) -> Customer:
    """The customer a hand-off is for: the one given, the one found by phone/email, the session's, or an
    anonymous one known by the session (member id "bot:<key>")."""
    if customer is not None:
        return customer
    identities: dict[str, str | None] = {k: v for k, v in (("phone", phone), ("email", email)) if v}
    if identities:
        found, _created = find_or_create_customer(actor=system, identities=identities)
        return found
    if session.customer_id:
        return session.customer  # type: ignore[return-value]
    found, _created = find_or_create_customer(actor=system, identities={"member_id": f"bot:{session.key}"})
    return found


def _line(turn: BotTurn) -> str:
    at = turn.created_at.astimezone(clock.local_tz())
    lines = [_("[%(time)s] Customer: %(text)s") % {"time": f"{at:%H:%M}", "text": turn.question}]
    if turn.outcome == Outcome.HANDED_OFF:
        lines.append(_("[%(time)s] Bot: handed to a person") % {"time": f"{at:%H:%M}"})
    elif turn.article_id:
        lines.append(
            _("[%(time)s] Bot: answered with article “%(title)s” (#%(id)s, confidence %(confidence).2f)")
            % {
                "time": f"{at:%H:%M}",
                "title": turn.article.title if turn.article else "",
                "id": turn.article_id,
                "confidence": turn.confidence,
            }
        )
    return "\n".join(lines)


def _transcript(turns: list[BotTurn], channel: str) -> str:
    head = _("Conversation with the answer bot (%(channel)s):") % {"channel": channel}
    text = head + "\n\n" + "\n".join(_line(t) for t in turns)
    if len(text) > MAX_DESCRIPTION:
        text = head + "\n…\n" + text[-(MAX_DESCRIPTION - len(head) - 3) :]
    return text


def _answer_text(article: Article) -> str:
    text = markdown_to_text(article.body)
    if len(text) > MAX_ANSWER:
        text = text[: MAX_ANSWER - 1].rstrip() + "…"
    return text


def _hand_off(
    *,
    session: BotSession,
    turn: BotTurn,
    channel: str,
    customer: Customer | None,
    phone: str | None,
    email: str | None,
    bot_settings: BotSettings,
) -> Ticket:
    """Create the session's ticket with the conversation so far, or add the question to it."""
    system = get_system_user()
    ticket = session.ticket
    if ticket is not None and ticket.status != Status.CLOSED:
        # what the bot answered since the last hand-off, for the agent: an internal note
        last = (
            session.turns.filter(outcome=Outcome.HANDED_OFF, pk__lt=turn.pk)
            .order_by("-id")
            .values_list("pk", flat=True)
            .first()
        )
        since = list(
            session.turns.select_related("article")
            .filter(pk__lt=turn.pk, pk__gt=last or 0)
            .exclude(outcome=Outcome.HANDED_OFF)
            .order_by("id")
        )
        if since:
            with translation.override(django_settings.LANGUAGE_CODE):  # read by the service team
                note = _transcript(since, channel)
            add_message(actor=system, ticket_id=ticket.pk, kind=MessageKind.NOTE, body=note)
        add_message(actor=system, ticket_id=ticket.pk, kind=MessageKind.CUSTOMER, body=turn.question)
        return ticket
    who = _customer(session, customer, phone, email, system)
    turns = list(session.turns.select_related("article").order_by("id"))
    subject = " ".join(turn.question.split())
    if len(subject) > SUBJECT_CHARS:
        subject = subject[: SUBJECT_CHARS - 1] + "…"
    with translation.override(django_settings.LANGUAGE_CODE):
        description = _transcript(turns, channel)
    ticket, _created = create_ticket(
        actor=system,
        subject=subject,
        description=description,
        type=TicketType.INQUIRY,
        channel=Channel.CHAT if channel == Channel.WEB else channel,
        customer=who,
        team_id=bot_settings.handoff_team_id,
    )
    session.ticket = ticket
    session.customer = who
    return ticket


@transaction.atomic
def ask(
    *,
    question: Any,
    session_key: str | None = None,
    channel: str | None = "web",
    customer: Customer | None = None,
    phone: str | None = None,
    email: str | None = None,
    ip: str | None = None,
) -> BotReply:
    """Answer `question` from the published public articles when the ranker's confidence reaches the
    threshold (BotSettings), else hand it to a person: a ticket for the session (created with the
    conversation so far, or continued). Rate-limited per IP (KEFU_BOT_LIMIT_PER_IP_MINUTE)."""
    if ip is not None:
        hit("bot-ip", ip, limit=_limit_per_minute(), window_seconds=60)
    question = clean_text(question, "question", MAX_QUESTION, required=True)
    channel = _check_channel(channel)
    phone = clean_text(phone, "phone", 40, single_line=True) or None
    email = clean_text(email, "email", 254, single_line=True) or None
    if phone:
        normalize_phone(phone)  # refuse a bad one now, not only when the question is handed off
    if email:
        normalize_email(email)
    now = clock.now()
    session = _session(session_key, channel, now)
    session.last_at = now
    bot_settings = BotSettings.load()
    ranked = rank_articles(question, audience=Audience.PUBLIC, limit=1)
    best = ranked[0] if ranked else None
    article = (
        Article.objects.filter(
            pk=best.article_id, status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC
        ).first()
        if best
        else None
    )
    confidence = best.confidence if best and article else 0.0
    turn = BotTurn(
        session=session,
        question=question,
        article=article,
        confidence=confidence,
        created_at=now,
    )
    if article is not None and confidence >= bot_settings.threshold:
        low = confidence < bot_settings.threshold + bot_settings.low_confidence_margin
        turn.outcome = Outcome.LOW_CONFIDENCE if low else Outcome.ANSWERED
        turn.answer = _answer_text(article)
        turn.save()
        session.save(update_fields=["last_at"])
        record_event(
            actor=get_system_user(),
            verb=events.BOT_ANSWERED.verb,
            subject=turn,
            customer_id=session.customer_id,
            data={
                "question": question,
                "article_id": article.pk,
                "title": article.title,
                "confidence": round(confidence, 4),
                "outcome": turn.outcome,
                "session_id": session.pk,
            },
        )
        return BotReply(
            type="answer",
            session=session.key,
            turn_id=turn.pk,
            text=turn.answer,
            article_id=article.pk,
            title=article.title,
            confidence=round(confidence, 4),
        )

    turn.outcome = Outcome.HANDED_OFF
    turn.save()
    ticket = _hand_off(
        session=session,
        turn=turn,
        channel=session.channel,
        customer=customer,
        phone=phone,
        email=email,
        bot_settings=bot_settings,
    )
    message = _(
        "I am not sure I can answer this well, so I have passed your question to a colleague. "
        "Your ticket number is %(number)s."
    ) % {"number": ticket.number}
    turn.answer = message
    turn.save(update_fields=["answer"])
    session.save(update_fields=["last_at", "ticket", "customer"])
    record_event(
        actor=get_system_user(),
        verb=events.BOT_HANDED_OFF.verb,
        subject=turn,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data={
            "question": question,
            "number": ticket.number,
            "article_id": article.pk if article else None,
            "confidence": round(confidence, 4),
            "session_id": session.pk,
        },
    )
    return BotReply(
        type="handoff",
        session=session.key,
        turn_id=turn.pk,
        confidence=round(confidence, 4),
        ticket_number=ticket.number or "",
        message=message,
    )


def record_feedback(
    *, session_key: Any, article_id: Any, helpful: Any, ip: str | None = None
) -> tuple[Any, bool]:
    """ "Did this answer help?" for an article the bot gave in this session: an ArticleVote (source
    "bot"), one per session and article. Returns (vote, created)."""
    if ip is not None:
        hit("bot-ip", ip, limit=_limit_per_minute(), window_seconds=60)
    if not isinstance(helpful, bool):
        raise ValidationFailed(_("helpful must be true or false."), field="helpful")
    if not isinstance(session_key, str) or not session_key or len(session_key) > 64:
        raise ValidationFailed(_("session is not a valid session key."), field="session")
    if not isinstance(article_id, int):
        raise ValidationFailed(_("article_id must be a number."), field="article_id")
    answered = BotTurn.objects.filter(
        session__key=session_key,
        article_id=article_id,
        outcome__in=[Outcome.ANSWERED, Outcome.LOW_CONFIDENCE],
    ).exists()
    if not answered:
        raise NotFound(_("The bot gave no such answer in this session."), field="article_id")
    return record_article_vote(
        article_id=article_id, helpful=helpful, voter=voter_hash(session_key, article_id), source="bot"
    )


# --- tuning ---------------------------------------------------------------------------------------------


def _open_turns(actor: Any, turn_ids: Any) -> list[BotTurn]:
    if not isinstance(turn_ids, list | tuple) or not turn_ids:
        raise ValidationFailed(_("Choose the questions to resolve."), field="turn_ids")
    if len(turn_ids) > MAX_TUNING_TURNS or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in turn_ids
    ):
        raise ValidationFailed(_("turn_ids must be a list of question ids."), field="turn_ids")
    turns = list(
        BotTurn.objects.select_for_update()
        .filter(pk__in=set(turn_ids), resolved_at__isnull=True)
        .exclude(outcome=Outcome.ANSWERED)
        .order_by("id")
    )
    if not turns:
        raise NotFound(_("These questions are not on the tuning list (any more)."), field="turn_ids")
    return turns


def _resolve(actor: Any, turns: list[BotTurn], resolution: str, **data: Any) -> int:
    now = clock.now()
    count = BotTurn.objects.filter(pk__in=[t.pk for t in turns], resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=actor, resolution=resolution
    )
    record_event(
        actor=actor,
        verb=events.BOT_TUNING_RESOLVED.verb,
        subject=turns[0],
        data={"count": count, "resolution": resolution, "turn_ids": [t.pk for t in turns], **data},
    )
    return count


@transaction.atomic
def add_tuning_variants(*, actor: Any, turn_ids: Any, article_id: Any, texts: Any = None) -> int:
    """Add the questions of a tuning group (or the chosen `texts` among them) as question variants of
    an article, and mark the group's turns resolved ("variant_added"). Returns the turns resolved.
    From the next question on, the bot finds the article for these questions."""
    authorize(actor, "bot.tune")
    authorize(actor, "kb.edit")
    if not isinstance(article_id, int) or isinstance(article_id, bool):
        raise ValidationFailed(_("Choose the article the questions belong to."), field="article_id")
    turns = _open_turns(actor, turn_ids)
    asked = list(dict.fromkeys(" ".join(t.question.split()) for t in turns))
    if texts is None:
        chosen = asked
    else:
        if not isinstance(texts, list | tuple) or not all(isinstance(t, str) for t in texts):
            raise ValidationFailed(_("texts must be a list of questions."), field="texts")
        wanted = {" ".join(t.split()) for t in texts}
        chosen = [q for q in asked if q in wanted]
        if not chosen:
            raise ValidationFailed(_("Choose at least one of the group's questions."), field="texts")
    chosen = [q[:300] for q in chosen[:MAX_TUNING_VARIANTS]]
    if not Article.objects.filter(pk=article_id).exists():
        raise ValidationFailed(_("Article %(id)s does not exist.") % {"id": article_id}, field="article_id")
    for text in chosen:
        kb_services.add_variant(
            actor=actor, article_id=article_id, text=text, source=VariantSource.BOT_TUNING
        )
    return _resolve(actor, turns, "variant_added", article_id=article_id, variants=chosen)


@transaction.atomic
def resolve_tuning_turns(*, actor: Any, turn_ids: Any, resolution: Any) -> int:
    """Mark a tuning group's turns resolved: "article_written" (an editor writes the missing article)
    or "dismissed". Returns the number of turns resolved."""
    authorize(actor, "bot.tune")
    if resolution not in ("article_written", "dismissed"):
        raise ValidationFailed(_("resolution must be article_written or dismissed."), field="resolution")
    turns = _open_turns(actor, turn_ids)
    return _resolve(actor, turns, resolution)


# --- settings ---------------------------------------------------------------------------------------------


def _probability(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed(_("%(field)s must be a number.") % {"field": field}, field=field)
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValidationFailed(_("%(field)s must be between 0 and 1.") % {"field": field}, field=field)
    return value


@transaction.atomic
def update_bot_settings(
    *, actor: Any, threshold: Any, low_confidence_margin: Any, handoff_team_id: Any
) -> BotSettings:
    """Change how sure the bot must be to answer, the low-confidence band and the hand-off team."""
    authorize(actor, "bot.tune")
    threshold = _probability(threshold, "threshold")
    margin = _probability(low_confidence_margin, "low_confidence_margin")
    team = None
    if handoff_team_id is not None:
        if not isinstance(handoff_team_id, int) or isinstance(handoff_team_id, bool):
            raise ValidationFailed(_("handoff_team_id must be a team id."), field="handoff_team_id")
        team = Team.objects.filter(pk=handoff_team_id).first()
        if team is None:
            raise ValidationFailed(
                _("Team %(id)s does not exist.") % {"id": handoff_team_id}, field="handoff_team_id"
            )
    BotSettings.load()
    current = BotSettings.objects.select_for_update().get(pk=1)
    changes: dict[str, dict[str, Any]] = {}
    for name, value in (
        ("threshold", threshold),
        ("low_confidence_margin", margin),
        ("handoff_team_id", team.pk if team else None),
    ):
        old = getattr(current, name)
        if old != value:
            changes[name] = {"from": old, "to": value}
            setattr(current, name, value)
    if not changes:
        return current
    current.save()
    record_event(
        actor=actor,
        verb=events.BOT_SETTINGS_CHANGED.verb,
        subject=current,
        data={"fields": ", ".join(changes), "changes": changes},
    )
    return current
