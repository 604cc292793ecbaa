"""Reading a review export into a header row and data rows: CSV (UTF-8 with or without BOM, GBK/GB18030)
or XLSX (the first sheet; the header row is the first of the first ten that names three known fields)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from kefu.voc.imports.headers import known_count

HEADER_SCAN_ROWS = 10
MIN_KNOWN_HEADERS = 3
XLSX = "xlsx"
CSV = "csv"


class UnreadableFile(Exception):
    """The file is not a CSV or XLSX table kefu can read; the message says why."""


@dataclass
class Table:
    kind: str
    headers: list[str]
    header_row: int  # 1-based row number of the header in the file
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (row number, cells)


def sniff(head: bytes) -> str | None:
    """ "xlsx" (a zip), "csv" (text in UTF-8 or GB18030), or None (anything else)."""
    if head.startswith(b"PK\x03\x04"):
        return XLSX
    if not head.strip():
        return None
    if b"\x00" in head:
        return None
    sample = head[:4096]
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            sample.decode(encoding)
            return CSV
        except UnicodeDecodeError as exc:
            if exc.start >= len(sample) - 4:  # a character cut at the end of the sample
                return CSV
    return None


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The file is neither UTF-8 nor GBK/GB18030 text."))


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = decode_text(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text, newline=""), dialect)
    except csv.Error as exc:
        raise UnreadableFile(_("The CSV file is malformed: %(error)s") % {"error": exc}) from exc


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise UnreadableFile(_("The file is not a readable XLSX workbook.")) from exc
    try:
        if not wb.worksheets:
            raise UnreadableFile(_("The workbook has no sheet."))
        try:
            for row in wb.worksheets[0].iter_rows(values_only=True):
                yield list(row)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
            raise UnreadableFile(_("The XLSX workbook is damaged.")) from exc
    finally:
        wb.close()


def _is_blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_table(data: bytes, *, limit: int | None = None) -> Table:
    """The header and up to `limit` non-blank data rows (all when None). Raises UnreadableFile."""
    kind = sniff(data[:8192])
    if kind is None:
        raise UnreadableFile(_("Upload a CSV or XLSX review export."))
    rows = _xlsx_rows(data) if kind == XLSX else _csv_rows(data)
    scanned: list[list[Any]] = []
    header_index: int | None = None
    for cells in rows:
        scanned.append(cells)
        if known_count(cells) >= MIN_KNOWN_HEADERS:
            header_index = len(scanned) - 1
            break
        if len(scanned) >= HEADER_SCAN_ROWS:
            break
    if header_index is None:
        # no row names enough known fields: the first non-blank row is the header (mapped by hand)
        header_index = next((i for i, c in enumerate(scanned) if not _is_blank(c)), None)
        if header_index is None:
            raise UnreadableFile(_("The file has no header row."))
        pending = scanned[header_index + 1 :]
    else:
        pending = []
    headers = _headers(scanned[header_index])
    table = Table(kind=kind, headers=headers, header_row=header_index + 1)
    number = header_index + 1

    def take(cells: list[Any]) -> bool:
        nonlocal number
        number += 1
        if _is_blank(cells):
            return True
        table.rows.append((number, cells))
        return limit is None or len(table.rows) < limit

    for cells in pending:
        if not take(cells):
            return table
    for cells in rows:
        if not take(cells):
            break
    return table


def _headers(cells: list[Any]) -> list[str]:
    """Header texts; blank or repeated headers get a column name so every column can be chosen."""
    cells = list(cells)
    while cells and (cells[-1] is None or not str(cells[-1]).strip()):
        cells.pop()
    out: list[str] = []
    for i, cell in enumerate(cells):
        text = str(cell).strip() if cell is not None else ""
        if not text:
            text = _("Column %(n)d") % {"n": i + 1}
        base, n = text, 2
        while text in out:
            text = f"{base} ({n})"
            n += 1
        out.append(text)
    return out


def row_values(table: Table, cells: list[Any]) -> dict[str, Any]:
    """{header: cell} of one data row (short rows padded with None)."""
    return {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(table.headers)}
