"""Demo channels: the support mailbox (fed by `kefu smtpd` on 127.0.0.1:2525), where repair requests
land, and a few received mails — a GBK-encoded Outlook mail, a threaded reply, an auto-reply — so the
console shows email tickets from the first minute. Idempotent: mails are keyed by Message-ID."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage as Mail
from email.utils import format_datetime

from kefu.accounts.models import Team
from kefu.channels.models import ChannelSettings, Mailbox
from kefu.channels.services.inbound import receive_email

DEMO_ADDRESS = "service@demo.kefu.test"


def _mail(
    *,
    sender: str,
    subject: str,
    body: str,
    message_id: str,
    at: datetime,
    charset: str = "utf-8",
    html: str = "",
    **extra: str,
) -> bytes:
    m = Mail()
    m["From"] = sender
    m["To"] = f"客服中心 <{DEMO_ADDRESS}>"
    m["Subject"] = subject
    m["Date"] = format_datetime(at)
    m["Message-ID"] = f"<{message_id}>"
    for key, value in extra.items():
        m[key.replace("_", "-")] = value
    m.set_content(body, charset=charset)
    if html:
        m.add_alternative(html, subtype="html", charset=charset)
    return m.as_bytes()


def ensure_demo_channels(now: datetime) -> str:
    online = Team.objects.filter(name="在线客服组").first()
    hotline = Team.objects.filter(name="一线热线组").first()
    mailbox, created = Mailbox.objects.get_or_create(
        address=DEMO_ADDRESS, defaults={"name": "客服中心", "team": online, "max_message_mb": 20}
    )
    settings_row = ChannelSettings.load()
    if settings_row.repair_team_id is None and hotline is not None:
        settings_row.repair_team = hotline
        settings_row.save()
    mails = [
        _mail(
            sender="王芳 <wangfang@example.cn>",
            subject="净水器滤芯更换后漏水",
            body="你好：\n我上周在京东买的净水器（型号 RO-600），今天换了滤芯以后接口一直滴水，"
            "请问是安装的问题还是滤芯有问题？\n\n王芳\n",
            message_id="demo-mail-1@example.cn",
            at=now,
            charset="gbk",
            html=(
                "<html><body><p>你好：</p><p>我上周在<b>京东</b>买的净水器（型号 RO-600），今天换了滤芯以后"
                "接口一直滴水，请问是安装的问题还是滤芯有问题？</p><p>王芳</p>"
                '<img src="http://tracker.example.com/open.gif" width="1" height="1"></body></html>'
            ),
            X_Mailer="Microsoft Outlook 16.0",
        ),
        _mail(
            sender="王芳 <wangfang@example.cn>",
            subject="回复：净水器滤芯更换后漏水",
            body="补充一下：漏水的位置是滤芯下面的快接头。\n\n"
            "-----原始邮件-----\n发件人: 王芳 <wangfang@example.cn>\n发送时间: 2026年11月24日 9:00\n"
            "收件人: 客服中心\n主题: 净水器滤芯更换后漏水\n\n你好：我上周在京东买的净水器……\n",
            message_id="demo-mail-2@example.cn",
            at=now,
            In_Reply_To="<demo-mail-1@example.cn>",
            References="<demo-mail-1@example.cn>",
        ),
        _mail(
            sender="Zhao Lei <zhao.lei@example.com>",
            subject="Automatic reply: Your order",
            body="I am out of the office until Monday.",
            message_id="demo-mail-3@example.com",
            at=now,
            Auto_Submitted="auto-replied",
            X_Auto_Response_Suppress="All",
        ),
    ]
    received = sum(receive_email(mailbox=mailbox, raw=raw, source="demo").created for raw in mails)
    return f"channels: mailbox {DEMO_ADDRESS}{' (new)' if created else ''}, {received} demo mails received"
