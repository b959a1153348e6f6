"""Read recipients from whatever a producer hands over, one row at a time.

Accepted: an iterable (a list, a generator of millions) of numbers or of mappings carrying a
number and personalisation fields; a ``pathlib.Path`` or an open text file of CSV, with a
header naming the number column (``msisdn``, ``phone``, ``number``, ``numero``, ``mobile``...)
or a single column of numbers without a header; a file whose name ends in ``.jsonl`` or
``.ndjson`` is JSON Lines instead, one number (a JSON string) or one row (an object) a line.
Nothing is held beyond the current row.

A source that cannot be read (no such file, not UTF-8, a CSV the csv module refuses, a line
that is not JSON or nests too deep, an item that is neither a number nor a mapping) is an
AudienceFormatError naming the row; what a readable row holds is checked by intake
(``domain.inputs.row_problems``).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Union

from dispatcher.domain.inputs import loads
from dispatcher.errors import AudienceFormatError

NUMBER_COLUMNS = (
    "msisdn",
    "phone",
    "phone_number",
    "number",
    "numero",
    "mobile",
    "tel",
    "telephone",
)

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")

RecipientSource = Union[Iterable[str | Mapping[str, Any]], "os.PathLike[str]", IO[str]]


@dataclass(frozen=True)
class RawRecipient:
    row: int  # 1-based, counting data rows only
    number: str
    fields: dict[str, Any] | None


def read_recipients(source: RecipientSource) -> Iterator[RawRecipient]:
    if isinstance(source, str | bytes):
        raise AudienceFormatError(
            "recipients is a string: pass a list of numbers, or a pathlib.Path for a CSV file"
        )
    if isinstance(source, os.PathLike):
        try:
            with Path(source).open(newline="", encoding="utf-8-sig") as handle:
                yield from _read_file(handle)
        except OSError as exc:
            raise AudienceFormatError(
                f"cannot read {os.fspath(source)!r}: {exc.strerror}"
            ) from None
        return
    if isinstance(source, io.IOBase) or hasattr(source, "readline"):
        yield from _read_file(source)  # type: ignore[arg-type]
        return
    for row, item in enumerate(source, start=1):
        yield _from_item(row, item)


def _read_file(handle: IO[str]) -> Iterator[RawRecipient]:
    """CSV or JSON Lines by the file's name; a decoding or csv error names its row."""
    jsonl = str(getattr(handle, "name", "")).lower().endswith(JSON_LINES_SUFFIXES)
    rows = _read_json_lines(handle) if jsonl else _read_csv(handle)
    last = 0
    try:
        for found in rows:
            last = found.row
            yield found
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AudienceFormatError(f"row {last + 1}: unreadable ({exc})") from None


def _read_json_lines(handle: IO[str]) -> Iterator[RawRecipient]:
    for row, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            item = loads(line, f"row {row}")
        except ValueError as exc:
            raise AudienceFormatError(str(exc)) from None
        yield _from_item(row, item)


def _from_item(row: int, item: object) -> RawRecipient:
    """A number (a string, or an int as a spreadsheet gives it) or a mapping with one."""
    if isinstance(item, str):
        return RawRecipient(row, item, None)
    if isinstance(item, Mapping):
        return _from_mapping(row, item)
    if isinstance(item, int) and not isinstance(item, bool) and 0 < item < 10**20:
        return RawRecipient(row, str(item), None)
    raise AudienceFormatError(
        f"row {row}: a recipient is a number (string) or a mapping with a number column, "
        f"not {type(item).__name__}"
    )


def _from_mapping(row: int, item: Mapping[str, Any]) -> RawRecipient:
    lowered = {str(k).strip().lower(): k for k in item}
    for name in NUMBER_COLUMNS:
        if name in lowered:
            key = lowered[name]
            fields = {str(k): v for k, v in item.items() if k != key}
            return RawRecipient(row, _number(item[key]), fields or None)
    raise AudienceFormatError(
        f"row {row}: no number column; name it one of {', '.join(NUMBER_COLUMNS)}"
    )


def _number(value: object) -> str:
    """A mapping's number as text; what cannot be one shows its type, refused as unparsable."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**20:
        return str(value)
    return "" if value is None else f"<{type(value).__name__}>"


def _read_csv(handle: IO[str]) -> Iterator[RawRecipient]:
    head = handle.read(8192)
    rest = handle
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(head, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(_chain(head, rest), dialect)
    first = next(reader, None)
    if first is None:
        return
    header = [c.strip().lower() for c in first]
    number_col = next((header.index(n) for n in NUMBER_COLUMNS if n in header), None)
    if number_col is None:
        if len(first) != 1:
            raise AudienceFormatError(
                f"CSV header {first!r} has no number column; name it one of "
                f"{', '.join(NUMBER_COLUMNS)}"
            )
        # One column and no known header: every line, the first included, is a number.
        yield RawRecipient(1, first[0], None)
        for row, cells in enumerate(reader, start=2):
            if cells:
                yield RawRecipient(row, cells[0], None)
        return
    names = [c.strip() for c in first]
    for row, cells in enumerate(reader, start=1):
        if not cells or not any(cells):
            continue
        number = cells[number_col] if number_col < len(cells) else ""
        fields = {
            n: v for i, (n, v) in enumerate(zip(names, cells, strict=False)) if i != number_col
        }
        yield RawRecipient(row, number, fields or None)


def _chain(head: str, rest: IO[str]) -> Iterator[str]:
    """Lines of ``head`` + the rest of the file, without reading the file whole."""
    buffer = io.StringIO(head)
    pending = ""
    for line in buffer:
        if line.endswith("\n"):
            yield pending + line
            pending = ""
        else:
            pending += line
    for line in rest:
        yield pending + line
        pending = ""
    if pending:
        yield pending
