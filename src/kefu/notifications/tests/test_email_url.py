import pytest

from kefu.notifications.email_url import (
    FILE_BACKEND,
    SMTP_BACKEND,
    EmailUrlError,
    parse_email_url,
    redact_email_url,
)


def test_unset_writes_files_to_the_mail_directory(tmp_path):
    # given no KEFU_EMAIL_URL; then mail goes to files a demo user can read
    for value in (None, "", "  "):
        mailer = parse_email_url(value, mail_dir=tmp_path / "mail")
        assert mailer == {"BACKEND": FILE_BACKEND, "OPTIONS": {"file_path": str(tmp_path / "mail")}}


def test_plain_smtp_with_credentials():
    assert parse_email_url("smtp://kefu:pa55@mail.example.com:2525") == {
        "BACKEND": SMTP_BACKEND,
        "OPTIONS": {
            "host": "mail.example.com",
            "port": 2525,
            "username": "kefu",
            "password": "pa55",
            "use_tls": False,
            "use_ssl": False,
            "timeout": 10,
        },
    }


@pytest.mark.parametrize(
    ("url", "port", "tls", "ssl"),
    [
        ("smtp://relay.internal", 25, False, False),
        ("smtp+starttls://u:p@smtp.exmail.qq.com", 587, True, False),
        ("smtp+tls://u:p@smtp.exmail.qq.com:25", 25, True, False),
        ("smtps://u:p@smtp.exmail.qq.com", 465, False, True),
        ("SMTPS://u:p@smtp.exmail.qq.com:994", 994, False, True),
    ],
)
def test_schemes_choose_port_and_tls(url, port, tls, ssl):
    o = parse_email_url(url)["OPTIONS"]
    assert (o["port"], o["use_tls"], o["use_ssl"]) == (port, tls, ssl)


def test_user_and_password_are_percent_decoded_and_timeout_read():
    o = parse_email_url("smtps://service%40shop.cn:p%40ss%3Aw%2Frd@smtp.shop.cn?timeout=30")["OPTIONS"]
    assert (o["username"], o["password"], o["timeout"]) == ("service@shop.cn", "p@ss:w/rd", 30)
    # no credentials: no AUTH
    assert parse_email_url("smtp://localhost")["OPTIONS"]["username"] == ""


@pytest.mark.parametrize(
    "url",
    [
        "http://u:topsecret@host",
        "smtp://u:topsecret@",
        "smtp://u:topsecret@host:99999",
        "smtp://u:topsecret@h?timeout=x",
    ],
)
def test_bad_urls_are_refused_without_echoing_the_password(url):
    with pytest.raises(EmailUrlError) as exc:
        parse_email_url(url)
    assert "topsecret" not in str(exc.value) and "KEFU_EMAIL_URL" in str(exc.value)


def test_redacted_url_hides_the_password():
    assert redact_email_url("smtps://kefu:topsecret@smtp.shop.cn:465") == "smtps://kefu:***@smtp.shop.cn:465"
    assert redact_email_url("smtp://relay:25") == "smtp://relay:25"


def test_settings_use_the_parsed_mailer(settings):
    # the project's settings carry a default mailer (tests swap it for locmem)
    assert "default" in settings.MAILERS
