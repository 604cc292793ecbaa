"""A section's tab bar: only its own pages, only the tabs the user may open, the current one marked."""

import pytest
from django.test import Client

from kefu.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _tabs(user, path):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c.get(path).context.get("section_tabs")


def test_tabs_follow_permissions_and_mark_the_current_page_with_its_arguments():
    # given an agent and an admin on the voice-of-customer cause tree
    agent, admin = UserFactory(role="agent"), UserFactory(role="admin")
    # then the agent has no import tab, the admin has; the cause tab is current, not the touchpoint one
    assert "Imports" not in [t["label"] for t in _tabs(agent, "/voc/taxonomy/cause/")]
    tabs = {str(t["label"]): t for t in _tabs(admin, "/voc/taxonomy/cause/")}
    assert "Imports" in tabs and tabs["Causes"]["active"] and not tabs["Touchpoints"]["active"]
    # and pages of other sections have no tabs of this kind
    assert _tabs(admin, "/tickets/") is None
    assert [str(t["label"]) for t in _tabs(admin, "/loops/") if t["active"]] == ["Improvement actions"]
