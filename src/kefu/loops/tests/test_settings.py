"""The closed loop's settings: admins change them through a service that checks and audits."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.loops.models import LoopSettings
from kefu.loops.services.loop_settings import update_loop_settings

pytestmark = pytest.mark.django_db


def test_admin_changes_settings_and_the_change_is_audited():
    # given an administrator
    admin = UserFactory(role="admin")
    # when they change the deadline and the recipients
    update_loop_settings(
        actor=admin, commit_within_days=5, report_recipients="ceo@example.com\nceo@example.com"
    )
    # then the settings hold the new values (addresses once) and an audit event says what changed
    s = LoopSettings.load()
    assert (s.commit_within_days, s.report_recipients) == (5, "ceo@example.com")
    event = AuditEvent.objects.get(verb="loops.settings_changed")
    assert event.data["to"] == {"commit_within_days": 5, "report_recipients": "ceo@example.com"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"commit_within_days": 0}, "commit_within_days"),
        ({"verification_days": "x"}, "verification_days"),
        ({"report_recipients": "not an address"}, "report_recipients"),
        ({"calendar_id": 999}, "calendar_id"),
        ({"escalate_head_after": 9, "escalate_executive_after": 3}, "escalate_head_after"),
    ],
)
def test_bad_values_are_refused_naming_the_field(changes, field):
    admin = UserFactory(role="admin")
    with pytest.raises(ValidationFailed) as exc:
        update_loop_settings(actor=admin, **changes)
    assert exc.value.field == field
    assert LoopSettings.load().commit_within_days == 3  # nothing written


def test_only_admins_and_the_page():
    with pytest.raises(PermissionDenied):
        update_loop_settings(actor=UserFactory(role="supervisor"), commit_within_days=4)
    admin = UserFactory(role="admin")
    c = Client()
    c.force_login(admin)
    assert c.get("/loops/settings/").status_code == 200
    r = c.post(
        "/loops/settings/",
        {
            "commit_within_days": "2",
            "calendar_id": "",
            "escalate_owner_after": "0",
            "escalate_head_after": "1",
            "escalate_executive_after": "3",
            "verification_days": "28",
            "report_recipients": "",
        },
    )
    assert r.status_code == 302 and LoopSettings.load().commit_within_days == 2
    r = c.post("/loops/settings/", {"commit_within_days": "0", "escalate_owner_after": "0",
                                    "escalate_head_after": "1", "escalate_executive_after": "3",
                                    "verification_days": "28"})  # fmt: skip
    assert r.status_code == 422 and 'data-testid="error-commit_within_days"' in r.content.decode()
    agent = UserFactory(role="agent")
    c.force_login(agent)
    assert c.get("/loops/settings/").status_code == 403
