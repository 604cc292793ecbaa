"""The closed loop's event types (dotted, past tense, never renamed)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.events import register

ACTION_CREATED = register("loops.action_created", _("Improvement action {number} created: {title}"))
ACTION_CHANGED = register("loops.action_changed", _("Improvement action {number} changed: {fields}"))
ACTION_STATUS_CHANGED = register(
    "loops.action_status_changed", _("Improvement action {number}: status {from} → {to}")
)
ACTION_ASSIGNED = register("loops.action_assigned", _("Improvement action {number} assigned to {department}"))
ACTION_DATE_COMMITTED = register(
    "loops.action_date_committed", _("Improvement action {number}: fix committed for {date}")
)
ACTION_ESCALATED = register("loops.action_escalated", _("Improvement action {number} escalated: {level}"))
ACTION_COMMENTED = register("loops.action_commented", _("Comment on improvement action {number}"))
ACTION_EVIDENCE_ADDED = register(
    "loops.action_evidence_added", _("Evidence added to improvement action {number}")
)
ACTION_MILESTONE_CHANGED = register("loops.action_milestone_changed", _("Milestone of {number}: {title}"))
ACTION_VERIFIED = register("loops.action_verified", _("Improvement action {number} verified: {result}"))
ACTION_CLAIMED = register("loops.action_claimed", _("Improvement action {number} claimed by {name}"))
REMEDIATION_ORDERED = register("loops.remediation_ordered", _("Remediation ordered: {kind} {target}"))
REMEDIATION_REVERSED = register("loops.remediation_reversed", _("Remediation reversed: {kind} {target}"))
RISK_CREATED = register("loops.risk_created", _("Risk added: {title}"))
RISK_CHANGED = register("loops.risk_changed", _("Risk {title} changed: {fields}"))
RISK_REVIEWED = register("loops.risk_reviewed", _("Risk {title} reviewed"))
RISK_REVIEW_DUE = register("loops.risk_review_due", _("Review of risk {title} is due"))
RISK_DRILL_RECORDED = register("loops.risk_drill_recorded", _("Drill recorded for risk {title}"))
REPORT_GENERATED = register("loops.report_generated", _("Weekly VoC report for the week of {week} generated"))
SETTINGS_CHANGED = register("loops.settings_changed", _("Closed-loop settings changed: {fields}"))
