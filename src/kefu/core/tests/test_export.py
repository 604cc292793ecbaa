import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from kefu.core.export import export_response

HEADERS = ["编号", "内容", "时间"]
ROWS = [[1, "制氧机噪音大", datetime(2026, 11, 2, 8, 30, tzinfo=UTC)], [2, '=HYPERLINK("x")', None]]


def test_csv_export_opens_in_excel_with_chinese_and_defuses_formulas(settings):
    # given rows with Chinese text and a formula typed by a customer
    settings.TIME_ZONE = "Asia/Shanghai"
    # when exported as CSV
    r = export_response("csv", "反馈", HEADERS, iter(ROWS))
    # then it is a UTF-8 attachment with a BOM, times in local time, the formula made text
    assert (
        r["Content-Type"].startswith("text/csv")
        and "filename*=UTF-8''%E5%8F%8D%E9%A6%88.csv" in r["Content-Disposition"]
    )
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows == [HEADERS, ["1", "制氧机噪音大", "2026-11-02 16:30:00"], ["2", '\'=HYPERLINK("x")', ""]]


def test_xlsx_export():
    # when exported as XLSX, then the workbook holds the same cells
    r = export_response("xlsx", "feedback", HEADERS, ROWS)
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == HEADERS and values[1][1] == "制氧机噪音大" and values[2][1].startswith("'=")
