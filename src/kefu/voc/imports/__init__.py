"""Reading Tmall and JD review exports (pure parsing, no database writes): the file → a table, the
column mapping → parsed reviews or row errors naming the column, with a stable dedup key."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from kefu.voc.imports.headers import ALIASES, FIELDS, auto_map, field_of
from kefu.voc.imports.reading import CSV, XLSX, Table, UnreadableFile, read_table, row_values, sniff
from kefu.voc.imports.rows import ParsedReview, ProductMatcher, RowError, dedup_key, parse_values
from kefu.voc.imports.values import BadValue, level_of, parse_datetime, parse_rating

__all__ = [
    "ALIASES",
    "CSV",
    "FIELDS",
    "XLSX",
    "BadValue",
    "ParsedReview",
    "ProductMatcher",
    "RowError",
    "Table",
    "UnreadableFile",
    "auto_map",
    "dedup_key",
    "field_of",
    "level_of",
    "parse_datetime",
    "parse_rating",
    "parse_rows",
    "parse_values",
    "read_table",
    "row_values",
    "sniff",
]


def parse_rows(table: Table, columns: Mapping[str, str]) -> Iterator[ParsedReview | RowError]:
    """Each data row of the table, parsed with the mapping {field: header}; errors name the header."""
    index = {h: i for i, h in enumerate(table.headers)}
    mapped = {f: index[h] for f, h in columns.items() if f in FIELDS and h in index}
    labels = {f: columns[f] for f in mapped}
    for number, cells in table.rows:
        values = {f: (cells[i] if i < len(cells) else None) for f, i in mapped.items()}
        yield parse_values(values, row=number, labels=labels)
