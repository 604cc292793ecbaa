"""Improvement-action services: every write of an action goes through here."""

from kefu.loops.services.actions._common import may_own
from kefu.loops.services.actions.change import claim_action, commit_date, transition_action, update_action
from kefu.loops.services.actions.create import action_number_for, create_action
from kefu.loops.services.actions.extras import add_comment, add_evidence, add_milestone, complete_milestone

__all__ = [
    "action_number_for",
    "add_comment",
    "add_evidence",
    "add_milestone",
    "claim_action",
    "commit_date",
    "complete_milestone",
    "create_action",
    "may_own",
    "transition_action",
    "update_action",
]
