"""Export any list as XLSX or CSV: `export_response(request_format, filename, headers, rows)`.

CSV is UTF-8 with a byte-order mark so Excel on Chinese Windows opens it without mojibake; XLSX is
written row by row (openpyxl write-only mode). Cells starting with = + - @ are prefixed with an
apostrophe (formula injection from customer text). Rows are streamed from an iterator; at most
MAX_ROWS are written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone

FORMATS = ("xlsx", "csv")
MAX_ROWS = 100_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, (int, float, date)):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(h) for h in headers])
    for n, row in enumerate(rows):
        if n >= MAX_ROWS:
            break
        writer.writerow(
            [
                c.strftime("%Y-%m-%d %H:%M:%S") if isinstance(c, datetime) else c
                for c in (_cell(v) for v in row)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append([str(h) for h in headers])
    for n, row in enumerate(rows):
        if n >= MAX_ROWS:
            break
        ws.append([_cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_response(
    fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    """An attachment download of the rows; `fmt` is "xlsx" or "csv" (anything else: csv)."""
    if fmt == "xlsx":
        body = _xlsx_bytes(headers, rows)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        fmt = "csv"
        body = _csv_bytes(headers, rows)
        content_type = "text/csv; charset=utf-8"
    name = f"{filename}.{fmt}"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fmt}-export.{fmt}\"; filename*=UTF-8''{quote(name)}"
    )
    return response
