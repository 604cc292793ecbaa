"""trim_quoted: the new part of a reply, in the styles of the mail clients customers use."""

from __future__ import annotations

import pytest

from kefu.channels.quotes import trim_quoted

NEW = "收到，谢谢！\n\n张三"


@pytest.mark.parametrize(
    "history",
    [
        # trailing > lines without an attribution
        "> 张三您好，\n> 请寄回。\n>\n> 客服中心",
        # Gmail / Apple Mail (English)
        "On Tue, Nov 24, 2026 at 4:20 PM KF Support <support@kefu.example> wrote:\n\n> Please send it back.",
        # Gmail wraps a long attribution
        "On Tue, Nov 24, 2026 at 4:20 PM KF Customer Support Centre <\nsupport@kefu.example> wrote:\n\n> Hi",
        # Thunderbird
        "On 24/11/2026 16:20, KF Support wrote:\n> Hi",
        # Apple Mail / Gmail (Chinese)
        "在 2026年11月24日 16:20，客服中心 <support@kefu.example> 写道：\n\n> 张三您好",
        "在 2026年11月24日，下午4:20，客服中心 <support@kefu.example> 写道:\n> 张三您好",
        "客服中心 <support@kefu.example> 于2026年11月24日周二 16:20写道：\n\n> 张三您好",
        # NetEase 163
        '在 2026-11-24 16:20:00，"客服中心" <support@kefu.example> 写道：\n>张三您好',
        "---- 回复的原邮件 ----\n| 发件人 | 客服中心 |\n| 日期 | 2026年11月24日 16:20 |\n张三您好",
        # Outlook (English), plain-text mode
        "-----Original Message-----\nFrom: KF Support <support@kefu.example>\nSent: Tuesday, November 24, "
        "2026 4:20 PM\nTo: Zhang San\nSubject: RE: warranty\n\nHi",
        # Outlook (English), HTML mode: a rule and a header block
        "________________________________\nFrom: KF Support <support@kefu.example>\n"
        "Sent: Tuesday, November 24, 2026 4:20 PM\nTo: Zhang San <zhangsan@example.cn>\n"
        "Subject: RE: warranty\n\nHi",
        "*From:* KF Support <support@kefu.example>\n*Sent:* Tuesday, November 24, 2026 4:20 PM\n"
        "*To:* Zhang San\n*Subject:* RE: warranty\n\nHi",
        # Outlook (Chinese)
        "发件人: 客服中心 <support@kefu.example>\n发送时间: 2026年11月24日 16:20\n收件人: 张三\n"
        "抄送: 李四\n主题: 回复: 保修\n\n张三您好",
        "-----邮件原件-----\n发件人: 客服中心 [mailto:support@kefu.example]\n发送时间: 2026年11月24日 16:20\n"
        "收件人: 张三\n主题: 回复: 保修\n\n张三您好",
        # Foxmail / QQ Mail
        '------------------ 原始邮件 ------------------\n发件人: "客服中心"<support@kefu.example>;\n'
        '发送时间: 2026年11月24日(星期二) 下午4:20\n收件人: "张三"<zhangsan@example.cn>;\n'
        "主题: 回复：保修\n\n您好",
        '------------------ Original ------------------\nFrom:  "客服中心"<support@kefu.example>;\n'
        'Date:  Tue, Nov 24, 2026 04:20 PM\nTo:  "张三"<zhangsan@example.cn>;\nSubject:  回复：保修\n\n您好',
    ],
)
def test_quoted_history_is_trimmed(history):
    # given a reply whose new text is followed by quoted history
    text = NEW + "\n\n" + history + "\n"

    # when trimmed
    trimmed = trim_quoted(text)

    # then only the new text remains
    assert trimmed == NEW


def test_windows_line_endings_and_nbsp_lines():
    text = "好的\r\n\xa0\r\n\xa0\r\n------------------ 原始邮件 ------------------\r\n发件人: x\r\n"
    assert trim_quoted(text) == "好的"


@pytest.mark.parametrize(
    "text",
    [
        # a forward is content
        "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: SF Express <n@sf.example>\n"
        "Date: Mon, Nov 23, 2026 at 6:05 PM\nSubject: Delivered\nTo: <z@example.com>\n\n"
        "Your parcel was delivered.",
        '请看下面。\n\n-------- 转发邮件信息 --------\n发件人："顺丰速运" <n@sf.example>\n'
        "发送日期：2026-11-23 18:05:00\n收件人：z@example.com\n主题：您的快递已签收\n\n已签收",
        "Look:\n\nBegin forwarded message:\n\nFrom: SF <n@sf.example>\nDate: 23 November 2026\n"
        "To: z@example.com\nSubject: Delivered\n\n> delivered",
        # nothing quoted
        "Hello,\n\nmy kettle does not heat.\n\n-- \nZhang San\n138 0013 8000",
        # inline answers between quotes: the end is new text
        "> Which model?\nKF-1500\n> When did you buy it?\nIn October",
        # a customer quoting someone in prose, without date or address
        "My husband wrote:\nthe kettle is broken\n\n我老公写道：\n水壶坏了",
        "",
    ],
)
def test_text_without_reply_history_is_unchanged(text):
    assert trim_quoted(text) == text


def test_a_reply_that_is_only_quote_stays_whole():
    # given a "reply" with nothing new (the customer hit send by mistake)
    text = "On Tue, Nov 24, 2026 at 4:20 PM KF Support <support@kefu.example> wrote:\n> Hi"

    # then trimming would leave nothing, so the text stays
    assert trim_quoted(text) == text


def test_forward_subject_keeps_an_outlook_forward():
    # given an Outlook forward: its header block looks like a reply's, only the subject tells
    text = (
        "Please check this.\n\n________________________________\nFrom: SF <n@sf.example>\n"
        "Sent: Monday, November 23, 2026 6:05 PM\nTo: z@example.com\nSubject: Delivered\n\nDelivered."
    )

    assert trim_quoted(text, subject="FW: Delivered") == text
    assert trim_quoted(text, subject="转发: 您的快递已签收") == text
    assert trim_quoted(text) == "Please check this."


def test_reply_above_a_quoted_forward_is_trimmed():
    # given a reply whose quoted history contains a forward
    text = (
        "Thanks, solved.\n\nOn Tue, Nov 24, 2026 at 4:20 PM KF <support@kefu.example> wrote:\n"
        "> ---------- Forwarded message ---------\n> From: x@example.com\n"
    )
    assert trim_quoted(text) == "Thanks, solved."


def test_signature_is_kept():
    text = (
        "Thanks!\n\n-- \nZhang San\nKF Trading Co.\n\n"
        "On Tue, Nov 24, 2026 at 4:20 PM KF <s@kefu.example> wrote:\n> Hi"
    )
    assert trim_quoted(text) == "Thanks!\n\n-- \nZhang San\nKF Trading Co."
