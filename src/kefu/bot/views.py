"""Console: bot tuning (机器人调养) — questions the bot was unsure of or handed to a person, grouped by
similarity, each group turned into article variants, a new article, or dismissed — and the bot's
settings. Knowledge editors and administrators (bot.tune); others get the 403 page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.bot import selectors, services
from kefu.bot.forms import BotSettingsForm, TuningTurnsForm, TuningVariantForm
from kefu.core.errors import DomainError, PermissionDenied
from kefu.core.htmx import permission_page
from kefu.core.permissions import has_permission
from kefu.knowledge.choices import Audience
from kefu.knowledge.retrieval import rank_articles

tuner_page = permission_page(
    "bot.tune", gettext_lazy("Only knowledge editors and administrators may tune the bot.")
)

PAGE_GROUPS = 25
ALL_GROUPS = 200
SUGGESTIONS = 5


def _suggestions(group: selectors.TuningGroup) -> list[tuple[int, str]]:
    """The best guess first, then the public articles the ranker finds for the group's question now."""
    ids: list[int] = []
    if group.article_id:
        ids.append(group.article_id)
    for r in rank_articles(group.question, audience=Audience.PUBLIC, limit=SUGGESTIONS):
        if r.article_id not in ids:
            ids.append(r.article_id)
    titles = selectors.article_titles(ids)
    return [(pk, titles[pk]) for pk in ids[:SUGGESTIONS] if pk in titles]


def _list_page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    groups, total = selectors.list_tuning_groups(
        actor=request.user, limit=ALL_GROUPS if show_all else PAGE_GROUPS
    )
    for g in groups:
        g.suggestions = _suggestions(g)
    ctx = {
        "groups": groups,
        "total_groups": total,
        "more": total - len(groups),
        "open_questions": selectors.count_open_turns(),
        "can_edit_kb": has_permission(request.user, "kb.edit"),
        "bot_settings": selectors.get_bot_settings(actor=request.user),
        "error": error,
    }
    return render(request, "bot/tuning_list.html", ctx, status=status)


@tuner_page
@require_GET
def tuning(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


def _failed(request: HttpRequest, exc: DomainError | None, form_errors: str = "") -> HttpResponse:
    """The list again with the error above it (a group another editor just resolved is a 404)."""
    if isinstance(exc, PermissionDenied):
        raise exc
    message = exc.message if exc is not None else form_errors
    return _list_page(request, error=message, status=exc.status if exc is not None else 422)


def _form_errors(form: TuningVariantForm | TuningTurnsForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@tuner_page
@require_POST
def tuning_variant(request: HttpRequest) -> HttpResponse:
    form = TuningVariantForm(request.POST)
    if not form.is_valid():
        return _failed(request, None, _form_errors(form))
    kwargs = form.service_kwargs()
    try:
        n = services.add_tuning_variants(actor=request.user, **kwargs)
    except DomainError as exc:
        return _failed(request, exc)
    messages.success(
        request,
        ngettext(
            "Added as question variants of article %(id)s; %(n)d question is off the list.",
            "Added as question variants of article %(id)s; %(n)d questions are off the list.",
            n,
        )
        % {"id": kwargs["article_id"], "n": n},
    )
    return redirect("bot:tuning")


def _turns_action(
    request: HttpRequest, resolution: str
) -> tuple[TuningTurnsForm, int | None, HttpResponse | None]:
    form = TuningTurnsForm(request.POST)
    if not form.is_valid():
        return form, None, _failed(request, None, _form_errors(form))
    try:
        n = services.resolve_tuning_turns(
            actor=request.user, turn_ids=form.cleaned_data["turns"], resolution=resolution
        )
    except DomainError as exc:
        return form, None, _failed(request, exc)
    return form, n, None


@tuner_page
@require_POST
def tuning_article(request: HttpRequest) -> HttpResponse:
    """Take the group off the list ("article written") and open the article editor with the group's
    questions: the first as the title, the others as question variants."""
    questions = [q.strip() for q in request.POST.getlist("questions") if q.strip()][:20]
    _form, n, failed = _turns_action(request, "article_written")
    if failed is not None:
        return failed
    params = {"title": questions[0][:200] if questions else "", "variants": "\n".join(questions[1:])}
    return redirect(reverse("knowledge:article_new") + "?" + urlencode(params))


@tuner_page
@require_POST
def tuning_dismiss(request: HttpRequest) -> HttpResponse:
    _form, n, failed = _turns_action(request, "dismissed")
    if failed is not None:
        return failed
    messages.success(
        request,
        ngettext("%(n)d question dismissed.", "%(n)d questions dismissed.", n or 0) % {"n": n or 0},
    )
    return redirect("bot:tuning")


@tuner_page
@require_http_methods(["GET", "POST"])
def bot_settings(request: HttpRequest) -> HttpResponse:
    current = selectors.get_bot_settings(actor=request.user)
    status = 200
    if request.method == "POST":
        form = BotSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_bot_settings(actor=request.user, **form.service_kwargs())
            except DomainError as exc:
                if isinstance(exc, PermissionDenied):
                    raise
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Bot settings saved."))
                return redirect("bot:settings")
        status = 422
        form.invalid_class()
    else:
        form = BotSettingsForm(
            initial={
                "threshold": current.threshold,
                "low_confidence_margin": current.low_confidence_margin,
                "handoff_team": str(current.handoff_team_id or ""),
            }
        )
    return render(request, "bot/settings_edit.html", {"form": form, "bot_settings": current}, status=status)


urlpatterns = [
    path("tuning/", tuning, name="tuning"),
    path("tuning/variant/", tuning_variant, name="tuning_variant"),
    path("tuning/article/", tuning_article, name="tuning_article"),
    path("tuning/dismiss/", tuning_dismiss, name="tuning_dismiss"),
    path("settings/", bot_settings, name="settings"),
]
