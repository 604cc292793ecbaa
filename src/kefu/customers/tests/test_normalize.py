"""Identity normalization: one person is found from any channel, whatever the input form."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.core.errors import ValidationFailed
from kefu.customers.normalize import normalize_email, normalize_identity, normalize_phone

MOBILE = "+8613800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "  138 0013 8000  ",
        "+86-13800138000",
        "+86 138 0013 8000",
        "(+86)13800138000",
        "0086 138 0013 8000",
        "0086 138-0013-8000",
        "86 13800138000",
        "8613800138000",
        "(138)0013-8000",
        "１３８００１３８０００",  # full-width digits, as typed with a Chinese IME
        "+８６ １３８－００１３－８０００",
        "138\u300000138000",  # ideographic space
    ],
)
def test_mainland_mobile_in_any_common_form_normalizes_to_e164(raw):
    # given a mainland mobile number as people type it
    # when it is normalized
    # then it is the one E.164 value
    assert normalize_phone(raw) == MOBILE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("010-8888 6666", "+861088886666"),
        ("(010) 8888 6666", "+861088886666"),
        ("010 88886666", "+861088886666"),
        ("+86 10 8888 6666", "+861088886666"),
        ("+86 (0)10 8888 6666", "+861088886666"),
        ("０１０－８８８８\u3000６６６６", "+861088886666"),
        ("021-6666 8888", "+862166668888"),
        ("0755-8888 6666", "+8675588886666"),
    ],
)
def test_mainland_landline_with_area_code_normalizes_to_e164(raw, expected):
    assert normalize_phone(raw) == expected


def test_foreign_number_in_international_form_keeps_its_country():
    assert normalize_phone("+1 650 253 0000") == "+16502530000"
    assert normalize_phone("001 650 253 0000") == "+16502530000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        None,
        "abc",
        "12345",
        "1380013800",  # one digit short
        "138001380001",  # one digit long
        "11800138000",  # no mainland mobile starts with 11
        "138 0013 8000 138",
        "+86",
        "10086",  # a service short code is not a customer's phone
    ],
)
def test_invalid_phone_raises_validation_failed_naming_the_field(raw):
    # when a bad phone is normalized
    with pytest.raises(ValidationFailed) as exc:
        normalize_phone(raw)
    # then the error is a 422 naming the phone field
    assert exc.value.field == "phone"
    assert exc.value.status == 422
    assert exc.value.as_dict()["code"] == "validation_failed"


@pytest.mark.parametrize(
    "raw",
    [
        "alice@example.com",
        "Alice@Example.COM",
        "  ALICE@EXAMPLE.COM\t",
        "ＡＬＩＣＥ＠ｅｘａｍｐｌｅ．ｃｏｍ",  # full-width
    ],
)
def test_email_is_trimmed_and_lowercased(raw):
    assert normalize_email(raw) == "alice@example.com"


@pytest.mark.parametrize(
    "raw", ["", "   ", None, "alice", "alice@", "@example.com", "a@b", "alice@@example.com"]
)
def test_invalid_email_raises_validation_failed_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as exc:
        normalize_email(raw)
    assert exc.value.field == "email"
    assert exc.value.status == 422


def test_normalize_identity_dispatches_by_kind():
    assert normalize_identity("phone", "138 0013 8000") == MOBILE
    assert normalize_identity("email", " Bob@Example.com ") == "bob@example.com"
    # other kinds: whitespace collapsed and trimmed, case kept (openids are case-sensitive)
    assert normalize_identity("wechat_openid", "  oAbC\u3000123  ") == "oAbC 123"
    assert normalize_identity("shop_buyer", "tb_小明  2024") == "tb_小明 2024"


def test_normalize_identity_rejects_unknown_kind_and_empty_or_too_long_plain_values():
    with pytest.raises(ValidationFailed) as exc:
        normalize_identity("fax", "010 8888 6666")
    assert exc.value.field == "kind"

    with pytest.raises(ValidationFailed) as exc:
        normalize_identity("member_id", "   ")
    assert exc.value.field == "member_id"

    with pytest.raises(ValidationFailed) as exc:
        normalize_identity("member_id", "x" * 191)
    assert exc.value.field == "member_id"
    assert normalize_identity("member_id", "x" * 190) == "x" * 190


# --- property: every common formatting of a valid mainland mobile gives the same value -----------

# Allocated mainland mobile prefixes (1[3-9]x). Unallocated ones such as 154, 179, 194 and 13-digit
# IoT ranges (140, 141, 144, 146, 148, 149) are rightly rejected by libphonenumber.
MOBILE_PREFIXES = (
    [f"13{d}" for d in range(10)]
    + ["145", "147"]
    + [f"15{d}" for d in range(10) if d != 4]
    + ["162", "165", "166", "167"]
    + ["170", "171", "172", "173", "175", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["190", "191", "192", "193", "195", "196", "197", "198", "199"]
)

FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")

mobiles = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(MOBILE_PREFIXES),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


def formattings(n: str) -> list[str]:
    return [
        n,
        f"{n[:3]} {n[3:7]} {n[7:]}",
        f"{n[:3]}-{n[3:7]}-{n[7:]}",
        f"({n[:3]}){n[3:7]}-{n[7:]}",
        f"+86{n}",
        f"+86-{n}",
        f"+86 {n[:3]} {n[3:7]} {n[7:]}",
        f"0086 {n}",
        f"0086{n[:3]}-{n[3:7]}-{n[7:]}",
        f"86{n}",
        f"86 {n}",
        f"  {n}\t",
        n.translate(FULL_WIDTH),
        f"+86 {n[:3]}-{n[3:7]}-{n[7:]}".translate(FULL_WIDTH),
    ]


@given(mobiles)
def test_property_all_formattings_of_a_mainland_mobile_normalize_to_the_same_e164(number):
    values = {normalize_phone(raw) for raw in formattings(number)}
    assert values == {f"+86{number}"}


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_property_any_1x_number_is_either_rejected_in_every_form_or_gives_one_value(second, rest):
    # given any 11-digit number of the 1[3-9]x shape, allocated or not
    number = f"1{second}{rest}"
    outcomes = set()
    for raw in formattings(number):
        try:
            outcomes.add(normalize_phone(raw))
        except ValidationFailed as exc:
            assert exc.field == "phone"
            outcomes.add("rejected")
    # then the formatting never changes the verdict
    assert outcomes in ({"rejected"}, {f"+86{number}"})


@pytest.mark.parametrize("raw", ["o\x00x", "oAbC\x07123", "\x00"])
def test_plain_identities_with_control_characters_are_rejected(raw):
    with pytest.raises(ValidationFailed) as exc:
        normalize_identity("wechat_openid", raw)
    assert exc.value.field == "wechat_openid"
