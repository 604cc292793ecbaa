"""Parsing review exports: encodings, header detection, ratings, dates, stable dedup keys."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.utils import translation
from openpyxl import Workbook

from kefu.voc import imports
from kefu.voc.imports import ParsedReview, RowError

HEADERS = ["评价时间", "评分", "评价内容", "追评内容", "订单号", "商品名称", "买家昵称"]
ROWS = [
    [
        "2026-11-02 08:30:15",
        "1",
        "制氧机噪音太大了，晚上睡不着",
        "",
        "2088123",
        "康悦制氧机 KY-5W",
        "tb_小王",
    ],
    ["2026/11/3 9:05", "好评", "物流很快，包装完好", "用了一周还不错", "2088124", "血压计 BP-620", "jd_李"],
]


def csv_bytes(headers, rows, encoding="utf-8", bom=False) -> bytes:
    text = "\n".join(",".join(r) for r in [headers, *rows]) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def xlsx_bytes(rows_with_header, *, leading=()) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in leading:
        ws.append(row)
    for row in rows_with_header:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def parse(data: bytes):
    table = imports.read_table(data)
    return table, list(imports.parse_rows(table, imports.auto_map(table.headers)))


def test_gbk_csv_is_read_and_mapped():
    # given a GBK-encoded Tmall export
    data = csv_bytes(HEADERS, ROWS, encoding="gbk")
    # when it is parsed
    table, rows = parse(data)
    # then the headers are mapped and the Chinese text is intact
    assert imports.auto_map(table.headers)["content"] == "评价内容"
    assert [r.content for r in rows] == ["制氧机噪音太大了，晚上睡不着", "物流很快，包装完好"]
    assert rows[0].rating == 1 and rows[0].level == "bad"
    assert rows[1].rating is None and rows[1].level == "good"
    assert rows[1].follow_up_content == "用了一周还不错"


def test_utf8_bom_csv_header_is_recognised():
    # given a UTF-8 CSV with a byte-order mark (Excel's "CSV UTF-8")
    data = csv_bytes(HEADERS, ROWS, bom=True)
    # when it is parsed, then the first header is not polluted by the BOM
    table, rows = parse(data)
    assert table.headers[0] == "评价时间"
    assert rows[0].reviewed_at == datetime(2026, 11, 2, 0, 30, 15, tzinfo=UTC)


def test_xlsx_with_header_on_row_three():
    # given a JD export with a title and a blank line above the header
    data = xlsx_bytes([HEADERS, *ROWS], leading=[["京东评价导出 2026-11"], []])
    # when it is parsed
    table, rows = parse(data)
    # then row 3 is the header and the data rows keep their row numbers in the sheet
    assert table.header_row == 3
    assert [r.row for r in rows] == [4, 5]
    assert all(isinstance(r, ParsedReview) for r in rows)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", (5, "good")),
        (5, (5, "good")),
        (4.0, (4, "good")),
        ("3星", (3, "neutral")),
        ("2分", (2, "bad")),
        ("★★★★☆", (4, "good")),
        ("★☆☆☆☆", (1, "bad")),
        ("五星", (5, "good")),
        ("差评", (None, "bad")),
        ("中评", (None, "neutral")),
        ("好评", (None, "good")),
    ],
)
def test_ratings(value, expected):
    assert imports.parse_rating(value) == expected


@pytest.mark.parametrize("value", ["优秀", "6", "0", "3.5", "★★x"])
def test_bad_ratings_raise(value):
    with pytest.raises(imports.BadValue):
        imports.parse_rating(value)


@pytest.mark.parametrize(
    ("value", "expected_utc"),
    [
        ("2026-11-02 08:30:15", datetime(2026, 11, 2, 0, 30, 15, tzinfo=UTC)),
        ("2026/11/2 8:30", datetime(2026, 11, 2, 0, 30, tzinfo=UTC)),
        ("2026年11月2日 08:30", datetime(2026, 11, 2, 0, 30, tzinfo=UTC)),
        ("2026-11-02", datetime(2026, 11, 1, 16, 0, tzinfo=UTC)),
        ("2026-11-02T08:30:15+00:00", datetime(2026, 11, 2, 8, 30, 15, tzinfo=UTC)),
        (datetime(2026, 11, 2, 8, 30), datetime(2026, 11, 2, 0, 30, tzinfo=UTC)),
        (46328.5, datetime(2026, 11, 2, 4, 0, tzinfo=UTC)),  # an Excel serial date: 2026-11-02 12:00
    ],
)
def test_dates_are_shanghai_unless_aware(value, expected_utc):
    assert imports.parse_datetime(value) == expected_utc


def test_row_errors_name_the_column():
    # given rows with a bad rating, a bad date, and only a nick
    rows = [
        ["2026-11-02 08:30", "优秀", "还行", "", "1", "x", "a"],
        ["昨天", "5", "很好", "", "2", "x", "b"],
        ["", "", "", "", "", "", "只有昵称"],
    ]
    # when parsed (in English)
    _table, parsed = parse(csv_bytes(HEADERS, rows))
    # then each is a row error naming the column header and the value, in the reader's language
    assert all(isinstance(p, RowError) for p in parsed)
    with translation.override("en"):
        assert str(parsed[0]) == "row 2: 评分: '优秀' is not a rating"
    with translation.override("zh-hans"):
        assert str(parsed[0]) == "第 2 行：评分: “优秀”不是有效的评分"
    assert parsed[0].field == "rating"
    assert parsed[1].field == "reviewed_at" and "昨天" in parsed[1].reason
    assert parsed[2].field == "content"


def test_dedup_key_is_stable_across_csv_and_xlsx_and_column_order():
    # given the same rows as CSV and as XLSX with the columns in another order (order numbers as numbers)
    order = [6, 5, 4, 3, 2, 1, 0]
    xlsx_rows = [[HEADERS[i] for i in order]]
    for r in ROWS:
        cells = [r[i] for i in order]
        cells[order.index(4)] = int(r[4])  # 订单号 as a number cell
        cells[order.index(0)] = imports.parse_datetime(r[0]).replace(tzinfo=None)  # a date cell
        xlsx_rows.append(cells)
    # when both are parsed
    _t1, from_csv = parse(csv_bytes(HEADERS, ROWS))
    _t2, from_xlsx = parse(xlsx_bytes(xlsx_rows))
    # then the keys are equal and content-derived (no review id)
    assert [r.dedup_key for r in from_csv] == [r.dedup_key for r in from_xlsx]
    assert len(from_csv[0].dedup_key) == 64


def test_platform_review_id_is_the_key():
    data = csv_bytes(["评价ID", *HEADERS], [["R-1001", *ROWS[0]]])
    _table, rows = parse(data)
    assert rows[0].dedup_key == "R-1001"


def test_unreadable_files():
    with pytest.raises(imports.UnreadableFile):
        imports.read_table(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    with pytest.raises(imports.UnreadableFile):
        imports.read_table(b"PK\x03\x04 not really a zip")
    assert imports.sniff(b"%PDF-1.7\x00\x01") is None


def test_product_matcher_prefers_the_longest_model_number():
    matcher = imports.ProductMatcher([(1, "KY-5"), (2, "KY-5W"), (3, "BP-620")])
    assert matcher.match("", "康悦制氧机 ky-5w 家用") == 2
    assert matcher.match("BP-620-蓝", "") == 3
    assert matcher.match("", "按摩椅") is None
