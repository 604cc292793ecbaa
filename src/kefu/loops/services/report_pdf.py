"""The weekly report's renderings, all from its frozen data: the context of the HTML page and mail
(`report_context`), the mail itself (`compose_report_email`: the page as HTML body, a text summary, the
PDF attached) and the PDF (`report_pdf`, reportlab). Chinese text in the PDF uses the built-in CID font
STSong-Light (Adobe's Asian font pack names, rendered by the reader): no font files, works offline."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kefu.loops.choices import RiskType
from kefu.loops.models import ImprovementAction, WeeklyReport
from kefu.notifications.services.email import base_url

FONT = "STSong-Light"
SUBJECT_PREFIX = "[kefu] "
ACTION_LISTS = ("new_actions", "overdue_actions", "verified_actions", "not_effective_actions", "claims")
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _esc(value: Any) -> str:
    return (
        str(value if value is not None else "")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _table(header: list[str], rows: list[list[Any]], cell: ParagraphStyle) -> Table:
    data = [[Paragraph(_esc(h), cell) for h in header]]
    data += [[Paragraph(_esc(c), cell) for c in row] for row in rows]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#adb5bd")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _actions(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            a["number"],
            a["title"],
            a["department"],
            a.get("status_label") or a["status"],
            a["committed_date"] or "–",
            f"{a['claimed_by']} {(a['claimed_at'] or '')[:10]}" if a["claimed_by"] else "",
        ]
        for a in rows
    ]


def report_pdf(report: WeeklyReport) -> bytes:
    """The PDF bytes of one report (A4, tables in the order of the HTML page)."""
    font = _font()
    d = report.data
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    story: list[Any] = [
        Paragraph(_esc(_("Weekly voice of customer")), title),
        Paragraph(
            _esc(_("Week %(start)s to %(end)s") % {"start": d["week_start"], "end": d["week_end"]}), body
        ),
    ]
    action_header = [
        _("Number"),
        pgettext("improvement action", "Action"),
        _("Department"),
        _("Status"),
        _("Committed"),
        _("Claimed by"),
    ]

    def section(heading: str, header: list[str], rows: list[list[Any]]) -> None:
        story.append(Paragraph(_esc(heading), h2))
        story.append(_table(header, rows, cell) if rows else Paragraph(_esc(_("None.")), body))

    insight_header = [
        _("Insight"),
        _("Product"),
        _("Cause"),
        _("This week"),
        _("Weekly baseline"),
        _("Growth"),
    ]
    for key, heading in (
        ("insights_by_volume", _("Top insights by volume")),
        ("insights_by_growth", _("Top insights by growth")),
    ):
        section(
            heading,
            insight_header,
            [[i["title"], i["product"], i["cause"], i["count"], i["baseline"], i["growth"]] for i in d[key]],
        )
    for key, heading in (
        ("bad_rate_by_product", _("Negative-review rate (差评率) by product")),
        ("bad_rate_by_shop", _("Negative-review rate (差评率) by shop")),
    ):
        section(
            heading,
            [_("Name"), _("Reviews"), _("Negative"), _("Rate"), _("Trend (9 weeks)")],
            [
                [r["name"], r["total"], r["bad"], _pct(r["rate"]), " ".join(_pct(t) for t in r["trend"])]
                for r in d[key]
            ],
        )
    section(
        _("Actions by department"),
        [_("Department"), pgettext("count", "New"), _("Overdue")],
        [[x["name"], x["new"], x["overdue"]] for x in d["departments"]],
    )
    for key, heading in (
        ("new_actions", _("New actions")),
        ("overdue_actions", _("Overdue actions")),
        ("verified_actions", _("Verified this week")),
        ("not_effective_actions", _("Found not effective this week")),
        ("claims", _("Claimed by executives (认领)")),
    ):
        section(heading, action_header, _actions(d[key]))
    section(
        _("Open high risks (score ≥ 15)"),
        [_("Risk"), _("Type"), _("Likelihood"), _("Impact"), _("Score"), _("Owner")],
        [
            [r["title"], r["type"], r["likelihood"], r["impact"], r["score"], r["owner"]]
            for r in d["high_risks"]
        ],
    )
    story.append(Spacer(1, 6 * mm))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"kefu VoC {d['week_start']}",
    )
    doc.build(story)
    return out.getvalue()


# --- the page's and the mail's view of the data -------------------------------------------------


def action_url(action_id: int) -> str:
    """The action's page, when the actions pages are installed."""
    try:
        return reverse("loops:action_detail", args=[action_id])
    except NoReverseMatch:
        return ""


def report_context(report: WeeklyReport, *, site: str = "", live_claims: bool = True) -> dict[str, Any]:
    """The report's data for the page and the mail: action rows with their page link and, on the page,
    the claim as it is now (a claim made after generating shows at once; regenerating freezes it)."""
    data = report.data
    ids = {a["id"] for key in ACTION_LISTS for a in data.get(key, [])}
    live: dict[int, tuple[Any, Any]] = {}
    if live_claims and ids:
        for a in ImprovementAction.objects.filter(pk__in=ids, claimed_by__isnull=False).select_related(
            "claimed_by"
        ):
            live[a.pk] = (str(a.claimed_by), a.claimed_at)
    lists = {}
    for key in ACTION_LISTS:
        rows = []
        for a in data.get(key, []):
            row = dict(a)
            row["url"] = site + action_url(a["id"]) if action_url(a["id"]) else ""
            if a["id"] in live:
                row["claimed_by"], row["claimed_at"] = live[a["id"]]
            rows.append(row)
        lists[key] = rows
    trend = {
        "weeks": data.get("weeks", []),
        "series": [
            {"name": r["name"], "data": [None if v is None else round(v * 100, 2) for v in r["trend"]]}
            for r in data.get("bad_rate_by_shop", [])[:8]
        ],
    }
    rates = {}
    for key in ("bad_rate_by_product", "bad_rate_by_shop"):
        rates[key] = [
            {**r, "rate_pct": _pct_text(r["rate"]), "trend_pct": [_pct_text(t) for t in r.get("trend", [])]}
            for r in data.get(key, [])
        ]
    return {
        "report": report,
        "data": data,
        "high_risks": [
            {**r, "type_label": RiskType(r["type"]).label if r["type"] in RiskType.values else r["type"]}
            for r in data.get("high_risks", [])
        ],
        "actions": lists,
        "trend": trend,
        "site": site,
        "insight_tables": [
            ("insights_by_volume", _("By volume this week"), data.get("insights_by_volume", [])),
            (
                "insights_by_growth",
                _("By growth over the trailing eight weeks"),
                data.get("insights_by_growth", []),
            ),
        ],
        "rate_tables": [
            ("bad_rate_by_product", _("By product"), rates["bad_rate_by_product"]),
            ("bad_rate_by_shop", _("By shop"), rates["bad_rate_by_shop"]),
        ],
        "action_tables": [
            ("new_actions", _("New actions"), lists["new_actions"]),
            ("overdue_actions", _("Overdue actions"), lists["overdue_actions"]),
            ("verified_actions", _("Verified this week"), lists["verified_actions"]),
            ("not_effective_actions", _("Found not effective this week"), lists["not_effective_actions"]),
            ("claims", _("Claimed by executives (认领)"), lists["claims"]),
        ],
    }


def _pct_text(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


# --- email -----------------------------------------------------------------------------------------


def text_summary(report: WeeklyReport, site: str) -> str:
    """The plain-text part of the mail: the headline figures and the link to the page."""
    d = report.data
    lines = [
        _("Weekly voice of customer, %(start)s to %(end)s")
        % {"start": d["week_start"], "end": d["week_end"]},
        "",
        _("Top insights: %(titles)s")
        % {"titles": "; ".join(i["title"] for i in d["insights_by_volume"][:5])},
        _("New actions: %(n)d, overdue: %(m)d")
        % {"n": len(d["new_actions"]), "m": len(d["overdue_actions"])},
        _("Verified: %(n)d, not effective: %(m)d")
        % {"n": len(d["verified_actions"]), "m": len(d["not_effective_actions"])},
        _("Open high risks: %(n)d") % {"n": len(d["high_risks"])},
        "",
        site + reverse("loops:report_detail", args=[d["week_start"]]),
    ]
    return "\n".join(lines) + "\n"


def compose_report_email(report: WeeklyReport, to: list[str]) -> EmailMultiAlternatives:
    """The report page as the HTML body (a plain-text summary for old readers), the PDF attached."""
    language = getattr(settings, "KEFU_EMAIL_LANGUAGE", None) or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {**report_context(report, site=base_url(), live_claims=False), "email": True}
        subject = SUBJECT_PREFIX + _("Weekly voice of customer, week of %(week)s") % {
            "week": report.week_start.isoformat()
        }
        html = render_to_string("loops/email/report.html", context)
        text = text_summary(report, base_url())
        pdf = report_pdf(report)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Auto-Submitted": "auto-generated", "X-Kefu-Report": report.week_start.isoformat()},
    )
    message.attach_alternative(html, "text/html")
    message.attach(f"kefu-voc-{report.week_start.isoformat()}.pdf", pdf, "application/pdf")
    return message
