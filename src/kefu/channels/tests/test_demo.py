"""The demo's channels: a mailbox, where repair requests go, and a few received mails — idempotent."""

import pytest

from kefu.accounts.tests.factories import TeamFactory
from kefu.channels.choices import Direction, MailStatus
from kefu.channels.demo import DEMO_ADDRESS, ensure_demo_channels
from kefu.channels.models import ChannelSettings, EmailMessage, Mailbox
from kefu.core import clock

pytestmark = pytest.mark.django_db


def test_demo_channels_are_seeded_once_with_readable_chinese_mail():
    # given the demo's teams
    online, hotline = TeamFactory(name="在线客服组"), TeamFactory(name="一线热线组")
    # when the demo channels are seeded twice
    first = ensure_demo_channels(clock.now())
    second = ensure_demo_channels(clock.now())
    # then one mailbox for the online team, repair requests go to the hotline, three mails once
    assert "3 demo mails" in first and "0 demo mails" in second
    assert Mailbox.objects.get(address=DEMO_ADDRESS).team == online
    assert ChannelSettings.load().repair_team == hotline
    inbound = EmailMessage.objects.filter(direction=Direction.INBOUND).order_by("id")
    assert [e.status for e in inbound] == [MailStatus.NEW_TICKET, MailStatus.APPENDED, MailStatus.AUTO_REPLY]
    # and the GBK Outlook mail reads correctly, its reply is on the same ticket, its HTML is sanitized
    gbk, reply, _auto = inbound
    assert gbk.ticket.subject == "净水器滤芯更换后漏水" and "接口一直滴水" in gbk.ticket.description
    assert reply.ticket_id == gbk.ticket_id and reply.ticket_message.body.startswith("补充一下")
    assert "<b>京东</b>" in gbk.html and "tracker.example.com" not in gbk.html
