"""Parsing inbound mail: the corpus of real-world-shaped mails, charsets, sanitizing, classification,
and that no input — however broken — makes parse_message raise."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.channels.mime import (
    MailAttachment,
    ParsedMail,
    decode_header_value,
    html_to_text,
    parse_message,
    sanitize_html,
)
from kefu.channels.quotes import trim_quoted
from kefu.channels.tests.mailcorpus import CORPUS_DIR, NAMES, load, make_large_message

CST = timezone(timedelta(hours=8))
PDF_SHA256 = "6c1fc96dcb66de885c5b52c47355845dddba4c89ba98bf372e31a1fbc3b9070a"
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
ORIGINAL = "20261124060000.kf1024@kefu.example"


def b64(text: str, codec: str) -> str:
    return base64.b64encode(text.encode(codec)).decode("ascii")


def mail(headers: str, body: bytes = b"hello\n", *, extra: bytes = b"") -> bytes:
    """A small mail from header lines (str, ASCII) plus optional raw header bytes and a body."""
    head = headers.strip("\n").encode("ascii") + b"\n" + extra
    return head.rstrip(b"\n") + b"\n\n" + body


# ---------------------------------------------------------------------------------------------- corpus


def test_gbk_outlook_mail_decodes_gbk_only_characters_labelled_gb2312():
    # given Outlook's new mail: gb2312-labelled subject and bodies holding GBK-only 堃/镕, RFC 2231 filename
    raw = load("gbk_outlook.eml")

    # when it is parsed
    parsed = parse_message(raw)

    # then every Chinese character survives, and the PDF arrives byte for byte
    assert parsed.message_id == "000001db3e2f$5a1b2c30$0e518490$@example.cn"
    assert parsed.subject == "保修咨询：电水壶无法加热（王堃）"
    assert (parsed.from_name, parsed.from_address) == ("张三", "zhangsan@example.cn")
    assert parsed.to == ["support@kefu.example"]
    assert parsed.date == datetime(2026, 11, 24, 10, 15, 30, tzinfo=CST)
    assert parsed.text.startswith("您好：\n\n我是张三，上个月在贵公司天猫旗舰店买的电水壶（型号 KF-1500")
    assert "收货人：王堃\n收货地址：北京市海淀区镕城路 18 号" in parsed.text
    assert "\r" not in parsed.text
    assert "收货人：王堃" in parsed.html and "<style" not in parsed.html and "Generator" not in parsed.html
    [pdf] = parsed.attachments
    assert (pdf.filename, pdf.content_type, pdf.inline, pdf.content_id) == (
        "保修卡.pdf",
        "application/pdf",
        False,
        "",
    )
    assert pdf.content.startswith(b"%PDF-1.4\n") and pdf.content.rstrip().endswith(b"%%EOF")
    assert len(pdf.content) == 483
    assert hashlib.sha256(pdf.content).hexdigest() == PDF_SHA256
    assert parsed.auto == "" and parsed.in_reply_to == [] and parsed.references == []


def test_gb18030_plain_mail_with_raw_gbk_bytes_in_headers():
    # given a Foxmail-6 mail: 8-bit GB18030 body (with a 4-byte character) and unencoded GBK headers
    raw = load("gb18030_plain.eml")
    assert "退货申请".encode("gbk") in raw  # really raw bytes in the Subject header

    # when it is parsed
    parsed = parse_message(raw)

    # then the raw header bytes are decoded as GBK and the body as GB18030
    assert parsed.subject == "退货申请 订单号20261124008（王堃）"
    assert (parsed.from_name, parsed.from_address) == ("李四", "lisi@example.net")
    assert "收件人：王堃，住址：朱镕基路 1 号。" in parsed.text
    assert "我姓𠮷（“吉”字上面是土）" in parsed.text
    assert parsed.html == "" and parsed.attachments == [] and parsed.auto == ""


def test_multipart_alternative_prefers_plain_text_and_sanitizes_html():
    # given an English mail: text/plain + multipart/related(HTML with tracker, script, onclick, cid image)
    parsed = parse_message(load("multipart_alternative.eml"))

    # then the plain part is the text (quoted-printable decoded) …
    assert parsed.subject == "Blender jar cracked after two weeks"
    assert (parsed.from_name, parsed.from_address) == ("Alice Smith", "alice@example.com")
    assert parsed.reply_to == "alice.smith+orders@example.com"
    assert parsed.to == ["support@kefu.example"]
    assert parsed.cc == ["bob@example.com", "carol@example.com"]
    assert "cracked after two weeks — I only used it" in parsed.text
    assert "899 ¥ at the café store" in parsed.text
    assert "<" not in parsed.text
    # … the HTML keeps only safe markup: no script, handler or remote image; the cid: image stays
    html = parsed.html
    assert "<script" not in html and "evil.example" not in html and "onclick" not in html
    assert "tracker.example" not in html
    assert '<img src="cid:jar-photo@alice.example" alt="cracked jar" width="320">' in html
    assert 'href="https://shop.example/jar"' in html and 'rel="noopener noreferrer"' in html
    # … and the inline image is an attachment marked inline with its Content-ID
    [image] = parsed.attachments
    assert image == MailAttachment(
        filename="jar.png",
        content_type="image/png",
        content=image.content,
        content_id="jar-photo@alice.example",
        inline=True,
    )
    assert image.content == PNG_1X1


def test_outlook_reply_threads_and_trims_the_chinese_header_block():
    # given Chinese Outlook's reply to one of our mails
    parsed = parse_message(load("outlook_reply.eml", original_id=ORIGINAL))

    # then it points at our mail and the quoted 发件人/发送时间 block is history
    assert parsed.in_reply_to == [ORIGINAL] and parsed.references == [ORIGINAL]
    assert parsed.subject == "答复: 保修咨询：电水壶无法加热（王堃）"
    assert parsed.from_address == "zhangsan@example.cn"
    assert "发送时间: 2026年11月24日 14:02" in parsed.text  # the full text is kept
    assert (
        trim_quoted(parsed.text) == "您好，\n\n收到，我明天上午把电水壶寄回，顺丰单号 SF1234567890。\n\n张三"
    )
    assert parsed.auto == ""


def test_foxmail_reply_trims_at_the_original_mail_separator():
    # given a Foxmail/QQ Mail reply (gb18030 base64, ------------------ 原始邮件 ------------------)
    parsed = parse_message(load("foxmail_reply.eml", original_id=ORIGINAL))

    # then
    assert parsed.in_reply_to == [ORIGINAL]
    assert parsed.subject == "回复：退货申请 订单号20261124008"
    assert (parsed.from_name, parsed.from_address) == ("李四", "lisi@example.net")
    assert "------------------ 原始邮件 ------------------" in parsed.text
    assert trim_quoted(parsed.text) == "好的，谢谢！我周三全天在家，可以上门取件。\n\n李四"


def test_gmail_reply_trims_the_attribution_and_quoted_lines():
    # given a Gmail reply with "在 … 写道：" and > lines
    parsed = parse_message(load("gmail_reply.eml", original_id=ORIGINAL))

    # then
    assert parsed.references == [ORIGINAL]
    assert parsed.subject == "Re: 智能插座连不上 Wi-Fi"
    assert (parsed.from_name, parsed.from_address) == ("王五", "wangwu@example.org")
    assert parsed.text.endswith("> 客服中心\n>")
    assert trim_quoted(parsed.text) == (
        "我已经按照说明长按电源键 10 秒重置了，还是连不上 Wi-Fi。\n路由器是 2.4G 的。\n\n王五"
    )
    assert "<blockquote>" in parsed.html and "gmail_quote" not in parsed.html  # no class attributes


def test_forwarded_mail_keeps_the_forward_and_attaches_the_original_as_eml():
    # given a customer forwarding a delivery notice inline and as message/rfc822
    parsed = parse_message(load("forwarded.eml"))

    # then the forwarded text is content (never trimmed) …
    assert parsed.subject == "Fwd: 您的快递已签收"
    assert (parsed.from_name, parsed.from_address) == ("赵六", "zhaoliu@example.com")
    assert trim_quoted(parsed.text) == parsed.text
    assert "您的快件 SF1234567890 已于 2026-11-23 17:58 签收" in parsed.text
    # … and the attached mail is an .eml named after its subject, parseable again
    [eml] = parsed.attachments
    assert (eml.filename, eml.content_type, eml.inline) == ("您的快递已签收.eml", "message/rfc822", False)
    inner = parse_message(eml.content)
    assert inner.message_id == "sf-notice-20261123-1805-8848@sf-express.example"
    assert (inner.from_name, inner.from_address) == ("顺丰速运", "notice@sf-express.example")
    assert (
        inner.text == "您的快件 SF1234567890 已于 2026-11-23 17:58 签收，签收人：门卫。如有疑问请致电 95338。"
    )
    assert parsed.auto == "" and parsed.bounce_message_id == ""


def test_bounce_dsn_names_the_failed_recipient_and_the_original():
    # given Postfix's delivery-status report for a mail we sent
    parsed = parse_message(load("bounce_dsn.eml", original_id=ORIGINAL))

    # then
    assert parsed.auto == "bounce"
    assert parsed.bounce_recipients == ["gone@example.com"]
    assert parsed.bounce_message_id == ORIGINAL
    assert parsed.from_address == "mailer-daemon@mx.kefu.example"
    assert parsed.subject == "Undelivered Mail Returned to Sender"
    assert "User unknown in virtual" in parsed.text
    assert parsed.attachments == []


def test_outlook_auto_reply_is_auto_reply():
    # given Exchange's out-of-office answer ("自动回复:", Auto-Submitted, X-Auto-Response-Suppress)
    parsed = parse_message(load("auto_reply_outlook.eml", original_id=ORIGINAL))

    # then
    assert parsed.auto == "auto_reply"
    assert parsed.subject == "自动回复: 回复: 保修咨询：电水壶无法加热（王堃）"
    assert parsed.in_reply_to == [ORIGINAL]
    assert parsed.text.startswith("您好，我 11 月 24 日至 11 月 30 日休假")


def test_out_of_office_with_precedence_auto_reply_is_auto_reply():
    parsed = parse_message(load("auto_reply_ooo.eml", original_id=ORIGINAL))

    assert parsed.auto == "auto_reply"
    assert parsed.subject == "Out of Office: Re: [KF-1024] Your repair request has been received"
    assert (parsed.from_name, parsed.from_address) == ("Brian O'Neil", "brian.oneil@partner.example")
    assert parsed.date == datetime(2026, 11, 24, 6, 29, 58, tzinfo=UTC)


def test_newsletter_is_bulk_and_html_only_mail_gets_text_from_html():
    # given an HTML-only newsletter with List-Unsubscribe and remote images
    parsed = parse_message(load("bulk_newsletter.eml"))

    # then
    assert parsed.auto == "bulk"
    assert parsed.subject == "本周特惠：全场电器 8 折"
    assert parsed.from_name == "商城周刊"
    assert parsed.text == "全场电器 8 折\n\n会员专享：满 500 减 80，仅限本周。\n\n立即选购\n\n退订"
    assert "img" not in parsed.html and "t.shop.example" not in parsed.html
    assert "<title" not in parsed.html and "本周特惠" not in parsed.html  # title content dropped


def test_mail_without_message_id_gets_a_stable_synthetic_one():
    # given a mail without Message-ID
    raw = load("no_message_id.eml")

    # when it is parsed twice
    first, second = parse_message(raw), parse_message(raw)

    # then both get the same id derived from the raw bytes; another mail gets another id
    expected = hashlib.sha256(raw).hexdigest()[:32] + "@missing-message-id.kefu"
    assert first.message_id == second.message_id == expected
    assert parse_message(raw + b"\n").message_id != expected
    assert first.subject == "发票问题"  # RFC 2047 Q encoding
    assert (first.from_name, first.from_address) == ("孙七", "sunqi@example.com")
    assert first.text.startswith("你好，上周的订单 20261117-3344 还没有开发票")


def test_every_corpus_file_parses():
    assert len(NAMES) >= 12
    for name in NAMES:
        parsed = parse_message((CORPUS_DIR / name).read_bytes())
        assert parsed.from_address, name
        assert parsed.subject, name
        assert parsed.text.strip(), name


# ------------------------------------------------------------------------------------------ mailcorpus


def test_load_replaces_placeholders_and_addresses():
    # when a corpus mail is loaded with another sender, recipient and Message-ID
    raw = load(
        "outlook_reply.eml",
        original_id="<abc@kefu.example>",
        to_addr="help@shop.example",
        from_addr="Someone@Example.CN",
        message_id="new-id@example.cn",
    )
    parsed = parse_message(raw)

    # then the headers carry them (From keeps its display name)
    assert b"PLACEHOLDER" not in raw
    assert parsed.in_reply_to == ["abc@kefu.example"]
    assert parsed.to == ["help@shop.example"]
    assert (parsed.from_name, parsed.from_address) == ("张三", "someone@example.cn")
    assert parsed.message_id == "new-id@example.cn"
    # and a Message-ID can be given to a mail that has none
    assert parse_message(load("no_message_id", message_id="x@y.example")).message_id == "x@y.example"


def test_load_refuses_an_unknown_placeholder():
    try:
        load("gbk_outlook.eml", original_id="x@y")
    except ValueError as exc:
        assert "PLACEHOLDER-ORIGINAL-ID" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected ValueError")


def test_large_message_has_an_attachment_of_the_requested_size():
    raw = make_large_message(2, to_addr="support@kefu.example", from_addr="big@example.com")

    parsed = parse_message(raw)

    assert len(raw) > 2 * 1024 * 1024
    assert parsed.to == ["support@kefu.example"] and parsed.from_address == "big@example.com"
    [attachment] = parsed.attachments
    assert len(attachment.content) == 2 * 1024 * 1024
    assert attachment.content_type == "application/pdf" and attachment.filename == "large-2mb.pdf"


# ------------------------------------------------------------------------------------------- charsets


def test_gb2312_encoded_word_with_gbk_only_characters():
    assert decode_header_value(f"=?gb2312?B?{b64('朱镕基与王堃', 'gbk')}?=") == "朱镕基与王堃"
    q = "".join(f"={b:02X}" for b in "镕".encode("gbk"))
    assert decode_header_value(f"=?GB2312?Q?{q}?=") == "镕"


def test_encoded_words_split_inside_a_character_are_joined():
    # given a UTF-8 character whose bytes are split over two encoded words (and text glued to a word)
    data = "售后服务".encode()
    first, second = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    value = f"Re:=?utf-8?B?{first}?=\r\n =?utf-8?B?{second}?="

    # then the words are joined as bytes before decoding
    assert decode_header_value(value) == "Re:售后服务"


def test_header_decoding_edge_cases():
    assert decode_header_value(None) == ""
    assert decode_header_value("") == ""
    assert decode_header_value("  plain\r\n   folded  subject ") == "plain folded subject"
    assert decode_header_value("=?utf-8?q?caf=C3=A9_au_lait?=") == "café au lait"
    assert decode_header_value("=?big5?B?" + b64("客服中心", "big5") + "?=") == "客服中心"
    assert decode_header_value("=?iso-8859-1?Q?M=FCller?=") == "Müller"
    assert decode_header_value("=?x-unknown?B?" + b64("退款", "gbk") + "?=") == "退款"
    assert decode_header_value("=?utf-8?B?" + b64("退款", "gbk") + "?=") == "退款"  # wrong label
    assert decode_header_value("=?utf-8?B?5L2g5aW9?") == "=?utf-8?B?5L2g5aW9?"  # unterminated: as is
    assert decode_header_value("=?utf-8?B?5L2g5aW9?=") == "你好"
    assert decode_header_value("=?utf-8?B?5L2g5aW?=") == "你\ufffd"  # bad padding, no exception
    assert decode_header_value("退货申请".encode("gbk")) == "退货申请"
    assert decode_header_value("退货申请".encode()) == "退货申请"
    assert decode_header_value("a\x00b\x07c") == "abc"
    assert decode_header_value(Header("售后", "utf-8")) in ("售后", "=?utf-8?b?5ZSu5ZCO?=")


def test_raw_utf8_header_bytes_are_utf8_not_gbk():
    raw = mail(
        "To: s@kefu.example\nMessage-ID: <u@x>", extra="Subject: 你好，售后\nFrom: 王五 <w@x.cn>\n".encode()
    )

    parsed = parse_message(raw)

    assert parsed.subject == "你好，售后"
    assert (parsed.from_name, parsed.from_address) == ("王五", "w@x.cn")


def test_body_charset_fallbacks():
    text = "您好，我的订单号是 12345，收件人王堃。"
    cases = {
        "utf-8": text.encode("gbk"),  # declared utf-8, really GBK (misconfigured webmail)
        "x-unknown": text.encode("gbk"),
        "gb2312": text.encode("gbk"),
        "iso-8859-1": text.encode("utf-8"),  # declared latin-1, really UTF-8
        "us-ascii": text.encode("gbk"),  # declared ascii, really GBK
        "no-such-charset": text.encode("utf-8"),
    }
    for charset, body in cases.items():
        raw = mail(f'Content-Type: text/plain; charset="{charset}"\nContent-Transfer-Encoding: 8bit', body)
        assert parse_message(raw).text == text, charset


def test_correctly_labelled_western_and_big5_bodies_are_kept():
    for charset, text in {
        "iso-8859-1": "Grüße aus Köln, café",
        "windows-1251": "Привет мир",
        "big5": "您好，請問保固多久？",
        "iso-8859-2": "Dzień dobry, żółw",
        "shift_jis": "こんにちは",
    }.items():
        raw = mail(f"Content-Type: text/plain; charset={charset}", text.encode(charset))
        assert parse_message(raw).text == text, charset


def test_damaged_utf8_body_keeps_the_good_characters():
    body = ("这是一封很长的中文邮件，内容正常。" * 5).encode() + b"\xe4\xb8"  # cut mid-character
    parsed = parse_message(mail("Content-Type: text/plain; charset=utf-8", body))
    assert parsed.text.startswith("这是一封很长的中文邮件，内容正常。") and parsed.text.endswith("\ufffd")


def test_rfc2231_continuations_and_encoded_filenames():
    # given attachments named the ways real clients name them
    pdf = base64.b64encode(b"%PDF-1.4 x").decode()
    gbk = "".join(f"%{b:02X}" for b in "发票（王堃）.pdf".encode("gbk"))
    parts = [
        f"Content-Type: application/pdf\nContent-Disposition: attachment;\n filename*0*=gb2312''{gbk[:18]};\n"
        f" filename*1*={gbk[18:]}",
        'Content-Type: application/pdf; name="=?gb2312?B?' + b64("保修卡.pdf", "gbk") + '?="',
        "Content-Type: application/pdf\nContent-Disposition: attachment;\n"
        " filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf",
        'Content-Type: application/pdf\nContent-Disposition: attachment; filename="..\\\\..\\\\evil.pdf"',
        "Content-Type: application/octet-stream",
    ]
    body = "".join(f"--b\n{p}\nContent-Transfer-Encoding: base64\n\n{pdf}\n" for p in parts) + "--b--\n"
    extra = b'--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="'
    extra += "退款单.pdf".encode("gbk") + f'"\nContent-Transfer-Encoding: base64\n\n{pdf}\n--b--\n'.encode()
    raw = mail('Content-Type: multipart/mixed; boundary="b"', body.replace("--b--\n", "").encode() + extra)

    # when parsed
    parsed = parse_message(raw)

    # then
    assert [a.filename for a in parsed.attachments] == [
        "发票（王堃）.pdf",
        "保修卡.pdf",
        "发票.pdf",
        "evil.pdf",
        "attachment",
        "退款单.pdf",
    ]
    assert all(a.content == b"%PDF-1.4 x" for a in parsed.attachments)
    assert parsed.attachments[4].content_type == "application/octet-stream"


def test_format_flowed_is_unwrapped():
    body = b"This is a long line that the \nclient wrapped.\n> quoted and \n> wrapped\n-- \nsig\n"
    raw = mail("Content-Type: text/plain; charset=utf-8; format=flowed", body)
    assert (
        parse_message(raw).text
        == "This is a long line that the client wrapped.\n> quoted and wrapped\n-- \nsig"
    )


def test_message_rfc822_sent_base64_encoded_is_decoded():
    inner = b"From: a@example.com\nSubject: inner\nMessage-ID: <inner@x>\n\nbody\n"
    body = (
        b"--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: message/rfc822\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(inner) + b"--b--\n"
    )
    parsed = parse_message(mail('Content-Type: multipart/mixed; boundary="b"', body))
    [eml] = parsed.attachments
    assert eml.filename == "inner.eml" and parse_message(eml.content).message_id == "inner@x"


# -------------------------------------------------------------------------------------------- headers


def test_message_id_lists_and_addresses():
    raw = mail(
        "Message-ID:   < spaced@id >\n"
        "In-Reply-To: <a@x> (Zhang San's message of Tue)\n"
        "References: <r1@x>\n <r2@x> <r1@x>\n\t<r3@x>\n"
        'From: "zhangsan@example.cn" <ZhangSan@Example.CN>\n'
        "To: undisclosed-recipients:;\n"
        'Cc: "Li, Si" <lisi@example.net>, not-an-address, <wangwu@example.org>\n'
        "Reply-To: <Help@Example.com>\n"
        "Date: 24 Nov 2026 10:00:00 -0000"
    )

    parsed = parse_message(raw)

    assert parsed.message_id == "spaced@id"
    assert parsed.in_reply_to == ["a@x"]
    assert parsed.references == ["r1@x", "r2@x", "r3@x"]
    assert (parsed.from_name, parsed.from_address) == ("", "zhangsan@example.cn")
    assert parsed.to == []
    assert parsed.cc == ["lisi@example.net", "wangwu@example.org"]
    assert parsed.reply_to == "help@example.com"
    assert parsed.date == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_unparsable_date_and_sender_give_empty_values():
    parsed = parse_message(mail("From: nobody\nDate: the day after tomorrow\nSubject: x"))
    assert parsed.date is None and parsed.from_address == "" and parsed.subject == "x"


# ------------------------------------------------------------------------------------- classification


def _auto(headers: str, body: bytes = b"text\n") -> str:
    return parse_message(mail("From: someone@example.com\nTo: s@kefu.example\n" + headers, body)).auto


def test_a_human_writing_auto_reply_in_the_subject_is_not_auto():
    assert _auto("Subject: =?utf-8?B?" + b64("自动回复: 我的订单", "utf-8") + "?=") == ""
    assert _auto("Subject: Automatic reply: still waiting") == ""
    # Outlook puts X-Auto-Response-Suppress on ordinary mail too: only with an auto subject it counts
    assert _auto("Subject: my order\nX-Auto-Response-Suppress: All") == ""
    assert _auto("Subject: Automatic reply: hi\nX-Auto-Response-Suppress: All") == "auto_reply"
    assert _auto("Subject: Auto: hi\nX-MS-Exchange-Inbox-Rules-Loop: a@b.c") == "auto_reply"
    assert _auto("Subject: hi\nAuto-Submitted: no") == ""


def test_auto_reply_headers():
    assert _auto("Subject: hi\nAuto-Submitted: auto-generated") == "auto_reply"
    assert _auto("Subject: hi\nX-Autoreply: yes") == "auto_reply"
    assert _auto("Subject: hi\nX-Autorespond: on vacation") == "auto_reply"
    assert _auto("Subject: hi\nPrecedence: auto_reply") == "auto_reply"


def test_bulk_headers():
    assert _auto("Subject: hi\nPrecedence: bulk") == "bulk"
    assert _auto("Subject: hi\nPrecedence: junk") == "bulk"
    assert _auto("Subject: hi\nPrecedence: list") == "bulk"
    assert _auto("Subject: hi\nList-Id: <shop.lists.example>") == "bulk"
    assert _auto("Subject: hi\nList-Unsubscribe: <mailto:u@x>") == "bulk"


def test_qmail_failure_notice_without_dsn_is_a_bounce():
    # given a qmail-style bounce: plain text, original appended inline
    body = (
        b"Hi. This is the qmail-send program at mx.example.com.\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
        b"<gone@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
        b"--- Below this line is a copy of the message.\n\n"
        b"Return-Path: <support@kefu.example>\nMessage-ID: <" + ORIGINAL.encode() + b">\nSubject: hi\n"
    )
    raw = mail(
        "From: MAILER-DAEMON@mx.example.com\nTo: support@kefu.example\nSubject: failure notice\n"
        "X-Failed-Recipients: gone@example.com",
        body,
    )

    parsed = parse_message(raw)

    assert parsed.auto == "bounce"
    assert parsed.bounce_recipients == ["gone@example.com"]
    assert parsed.bounce_message_id == ORIGINAL


def test_chinese_postmaster_bounce_subject():
    raw = mail("From: PostMaster@mail.example.cn\nSubject: =?utf-8?B?" + b64("系统退信", "utf-8") + "?=")
    assert parse_message(raw).auto == "bounce"


def test_dsn_with_full_original_and_a_delayed_recipient():
    # given a DSN carrying message/rfc822 and one failed and one delayed recipient
    body = (
        b"--r\nContent-Type: text/plain\n\nDelivery failed.\n"
        b"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
        b"Final-Recipient: rfc822; Late@Example.com\nAction: delayed\nStatus: 4.4.1\n\n"
        b"Final-Recipient: rfc822; <Gone@Example.com>\nAction: failed\nStatus: 5.1.1\n"
        b"--r\nContent-Type: message/rfc822\n\nMessage-ID: <" + ORIGINAL.encode() + b">\nSubject: x\n\nbody\n"
        b"--r--\n"
    )
    raw = mail(
        "From: postmaster@mx.example\nSubject: Delivery Status Notification (Failure)\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="r"',
        body,
    )

    parsed = parse_message(raw)

    assert parsed.auto == "bounce"
    assert parsed.bounce_recipients == ["gone@example.com"]
    assert parsed.bounce_message_id == ORIGINAL
    assert parsed.text == "Delivery failed."


def test_read_receipt_is_auto_reply():
    raw = mail(
        "From: a@example.com\nSubject: Read: hi\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"',
        b"--r\nContent-Type: text/plain\n\nYour message was read.\n--r--\n",
    )
    assert parse_message(raw).auto == "auto_reply"


# ------------------------------------------------------------------------------------------- HTML


def test_sanitize_html_removes_everything_active_or_remote():
    dirty = (
        '<p onclick="steal()" style="background:url(http://x/y)" class="btn">hi'
        "<script>alert(1)</script><style>p{}</style>"
        '<img src="http://tracker.example/p.gif"><img src="data:image/png;base64,AAAA">'
        '<img src="//cdn.example/x.png"><img src="cid:logo@x" alt="logo" onerror="x()">'
        '<a href="javascript:alert(1)">js</a><a href="https://ok.example/">ok</a>'
        '<a href="mailto:a@b.c">mail</a><iframe src="https://x.example/">frame text</iframe>'
        '<form action="https://x"><input name="q"></form><table background="http://x/bg.png"><tr><td>c</td></tr>'
        "</table></p>"
    )

    clean = sanitize_html(dirty)

    gone_words = "onclick style class= script alert tracker data: cdn.example onerror javascript iframe"
    for gone in [*gone_words.split(), "frame text", "<form", "<input", "background"]:
        assert gone not in clean, gone
    assert '<img src="cid:logo@x" alt="logo">' in clean
    assert '<a href="https://ok.example/" target="_blank" rel="noopener noreferrer">ok</a>' in clean
    assert 'href="mailto:a@b.c"' in clean
    assert "<td>c</td>" in clean
    assert sanitize_html("") == "" and sanitize_html("   ") == ""


def test_html_to_text_is_readable():
    html = (
        "<html><head><title>T</title><style>.x{}</style></head><body>"
        "<div>Hello&nbsp;there &amp; &lt;you&gt;</div><div><br></div><div>line2<br>line3</div>"
        "<p>para   one</p><p>para two</p><ol><li>first</li><li>second</li></ol>"
        "<blockquote><div>quoted</div><div>more</div></blockquote>"
        "<table><tr><td>订单号</td><td>12345</td></tr></table><script>var x = 1;</script>"
        "<pre>  keep\n    indent</pre></body></html>"
    )
    assert html_to_text(html) == (
        "Hello there & <you>\n\nline2\nline3\n\npara one\n\npara two\n\n1. first\n2. second\n"
        "> quoted\n> more\n订单号 12345\n  keep\n    indent"
    )
    assert html_to_text("") == ""
    assert html_to_text("<head><title>x") == ""
    assert html_to_text("<head><title>t</title><body>body text") == "body text"


def test_outlook_html_lines_are_not_double_spaced():
    html = (
        '<p class=MsoNormal>one<o:p></o:p></p><p class=MsoNormal>two</p><p class="MsoNormal">three</p>'
        "<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>after a blank line</p>"
    )
    assert html_to_text(html) == "one\ntwo\nthree\n\nafter a blank line"
    assert html_to_text("<div>a</div><div>&nbsp;</div><div>b</div>") == "a\n\nb"


# ----------------------------------------------------------------------------------------- robustness


def _assert_sane(parsed: ParsedMail, raw: bytes) -> None:
    assert isinstance(parsed, ParsedMail)
    assert parsed.message_id and not re.search(r"\s", parsed.message_id)
    assert parsed.auto in ("", "auto_reply", "bounce", "bulk")
    assert parsed.date is None or parsed.date.tzinfo is not None
    for text in (parsed.subject, parsed.from_name, parsed.text):
        assert "\x00" not in text
    assert all(isinstance(a.content, bytes) for a in parsed.attachments)


def test_garbage_never_raises():
    samples = [
        b"",
        b"\x00\xff\xfe" * 100,
        b"Subject: =?utf-8?B?====?=\n\n",
        b"Content-Type: multipart/mixed; boundary=\n\n--\n--",
        b"Content-Type: multipart/mixed\n\nno boundary at all",
        b"Content-Type: text/plain; charset=base64_codec\n\nhello",
        b"Content-Type: text/plain; charset=utf-16\n\n\xff\xfeh\x00i\x00",
        b"Content-Type: text/plain; charset*=''\n\nx",
        b"Content-Type: message/rfc822\n\n",
        b"Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n!!!!",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n--x--",
        b"From: =?gb2312?B?\xff\xff?= <\xff@\xff>\nDate: Mon, 99 Foo 99999 99:99:99 +9999\n\n",
        b"Content-Transfer-Encoding: base64\n\n@@@@====",
        b"Content-Type: text/html\n\n<html><head><title>" + b"<" * 10000,
        b"Content-Type: multipart/mixed; boundary=a\n\n"
        + b"--a\nContent-Type: multipart/mixed; boundary=a\n\n" * 300,
        b"Content-Disposition: attachment; filename*0*=utf-8''%E5; filename*1=\xff; filename*2*=%\n\nx",
    ]
    for raw in samples:
        _assert_sane(parse_message(raw), raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(raw):
    parsed = parse_message(raw)
    _assert_sane(parsed, raw)
    if b"message-id" not in raw.lower():
        assert parsed.message_id == hashlib.sha256(raw).hexdigest()[:32] + "@missing-message-id.kefu"


_MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "replace_line", "truncate", "drop_line"]),
        st.integers(0, 10**6),
        st.binary(max_size=40),
    ),
    min_size=1,
    max_size=4,
)


def _mutate(raw: bytes, mutations) -> bytes:
    for kind, position, junk in mutations:
        head_end = raw.find(b"\n\n") if b"\n\n" in raw else len(raw)
        lines = raw.split(b"\n")
        if kind == "insert":
            at = position % (head_end + 1)
            raw = raw[:at] + junk + raw[at:]
        elif kind == "truncate":
            raw = raw[: position % (len(raw) + 1)]
        elif lines:
            index = position % len(lines)
            if kind == "drop_line":
                del lines[index]
            else:
                name = lines[index].split(b":", 1)[0] if b":" in lines[index] else b"X-Junk"
                lines[index] = name + b": " + junk
            raw = b"\n".join(lines)
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(NAMES), _MUTATIONS)
def test_mutated_corpus_mail_never_raises(name, mutations):
    raw = _mutate((CORPUS_DIR / name).read_bytes().replace(b"\r\n", b"\n"), mutations)
    _assert_sane(parse_message(raw), raw)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_text_helpers_never_raise(value):
    assert isinstance(decode_header_value(value), str)
    assert isinstance(decode_header_value("=?gb2312?B?" + value + "?= =?utf-8?Q?" + value + "?="), str)
    assert isinstance(html_to_text(value), str)
    assert isinstance(sanitize_html(value), str)
    assert isinstance(trim_quoted(value), str)


def test_utf8_labelled_gb2312_body():
    # given a script that sends UTF-8 under a hard-coded gb2312 label
    raw = mail("Content-Type: text/plain; charset=gb2312", "您好，我的订单号是 12345。".encode())

    assert parse_message(raw).text == "您好，我的订单号是 12345。"


def test_raw_latin1_header_is_not_read_as_chinese():
    # given an old European client writing its raw Latin-1 name into From
    for content_type in ("text/plain; charset=iso-8859-1", "text/plain"):
        raw = mail(
            f"Content-Type: {content_type}", b"Gr\xfc\xdfe\n", extra=b"From: M\xfcller <m@example.de>\n"
        )

        parsed = parse_message(raw)

        assert parsed.from_name == "Müller", content_type
    assert parse_message(mail("Content-Type: text/plain; charset=iso-8859-1", b"Gr\xfc\xdfe")).text == "Grüße"
