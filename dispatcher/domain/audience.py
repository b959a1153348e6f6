"""Read recipients from whatever a producer hands over, one row at a time.

Accepted: an iterable (a list, a generator of millions) of numbers or of mappings carrying a
number and personalisation fields; a ``pathlib.Path`` or an open text file of CSV, with a
header naming the number column (``msisdn``, ``phone``, ``number``, ``numero``, ``mobile``...)
or a single column of numbers without a header. Nothing is held beyond the current row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Union

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
        with Path(source).open(newline="", encoding="utf-8-sig") as handle:
            yield from _read_csv(handle)
        return
    if isinstance(source, io.IOBase) or hasattr(source, "readline"):
        yield from _read_csv(source)  # type: ignore[arg-type]
        return
    for row, item in enumerate(source, start=1):
        if isinstance(item, str):
            yield RawRecipient(row, item, None)
        elif isinstance(item, Mapping):
            yield _from_mapping(row, item)
        else:
            yield RawRecipient(row, str(item), None)


def _from_mapping(row: int, item: Mapping[str, Any]) -> RawRecipient:
    lowered = {str(k).strip().lower(): k for k in item}
    for name in NUMBER_COLUMNS:
        if name in lowered:
            key = lowered[name]
            fields = {str(k): v for k, v in item.items() if k != key}
            return RawRecipient(
                row, str(item[key] if item[key] is not None else ""), fields or None
            )
    raise AudienceFormatError(
        f"row {row}: no number column; name it one of {', '.join(NUMBER_COLUMNS)}"
    )


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
