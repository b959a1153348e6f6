"""The one check every producer's input passes before anything else reads it.

The Python API, the CLI, the HTTP service and the recipient files (CSV, JSON Lines) all end in
``services.intake.prepare`` and ``fill``; those call the functions here first, so a bad input
becomes a :class:`~dispatcher.errors.Problem` naming its field (and its row) instead of a
``TypeError`` from deep inside, a ``psycopg.DataError`` from PostgreSQL (which refuses NUL in
text and in JSONB, and a lone surrogate in any UTF-8 string) or a ``RecursionError`` from a
deeply nested JSON body. The limits below are far above any real campaign and far below
anything that costs memory or time to refuse; docs/architecture.md lists them.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from dispatcher.domain.statuses import CampaignKind
from dispatcher.errors import Problem

MAX_TEXT_CHARS = 5_000  # a template; the longest concatenated SMS is ~1,600 characters
MAX_SHORT_CHARS = 100  # account, sender, default region
MAX_KEY_CHARS = 200  # idempotency key
MAX_NUMBER_CHARS = 64  # a phone number as written, blanks and punctuation included
MAX_FIELD_CHARS = 1_000  # one personalisation value, one option's string
MAX_FIELD_NAME_CHARS = 100
MAX_FIELDS = 100  # personalisation fields on one row; options on one campaign
MAX_JSON_DEPTH = 16  # an HTTP body, a JSON Lines row, the options
MAX_BODY_BYTES = 32 << 20  # an HTTP body: ~300,000 recipients in one request
MAX_INT = 2**63 - 1  # what PostgreSQL's bigint and JSONB numbers keep exactly
SEND_AT_YEARS = (2000, 2200)

# C0 and C1 controls and DEL; a text and a field may hold tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_BLANK = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_KINDS = ", ".join(k.value for k in CampaignKind)


def text_problems(
    field: str, value: object, *, limit: int, row: int | None = None, multiline: bool = False,
    optional: bool = False,
) -> list[Problem]:  # fmt: skip
    """What is wrong with one string input: its type, length, controls, lone surrogates."""
    if value is None and optional:
        return []
    if not isinstance(value, str):
        wanted = "a string or null" if optional else "a string"
        return [Problem(field, f"must be {wanted}, not {type(value).__name__}", row)]
    problems: list[Problem] = []
    if len(value) > limit:
        problems.append(Problem(field, f"at most {limit} characters, not {len(value)}", row))
    control = (_CONTROL if multiline else _CONTROL_OR_BLANK).search(value)
    if control:
        where = f"character {control.start() + 1} is a control character"
        problems.append(Problem(field, f"{where} (U+{ord(control.group()):04X})", row))
    if surrogate := _SURROGATE.search(value):
        where = f"character {surrogate.start() + 1} is a lone surrogate"
        problems.append(Problem(field, f"{where} (U+{ord(surrogate.group()):04X})", row))
    return problems


def request_problems(given: Mapping[str, Any]) -> list[Problem]:
    """Every field of a campaign request (``services.intake.CampaignRequest``'s names), by type
    and content; the recipients only by type, their rows are checked as they are read."""
    problems = text_problems("account", given.get("account"), limit=MAX_SHORT_CHARS)
    problems += text_problems("text", given.get("text"), limit=MAX_TEXT_CHARS, multiline=True)
    for name, limit in (("sender", MAX_SHORT_CHARS), ("idempotency_key", MAX_KEY_CHARS),
                        ("default_region", MAX_SHORT_CHARS)):  # fmt: skip
        problems += text_problems(name, given.get(name), limit=limit, optional=True)
    problems += _send_at_problems(given.get("send_at"))
    problems += source_problems(given.get("recipients"))
    kind = given.get("kind", CampaignKind.NOTIFICATION)
    if not isinstance(kind, str) or kind not in {k.value for k in CampaignKind}:
        problems.append(Problem("kind", f"must be one of {_KINDS}", value=_shown(kind)))
    if given.get("invalid", "reject") not in ("reject", "drop"):
        problems.append(Problem("invalid", "must be 'reject' or 'drop'"))
    options = given.get("options")
    if options is not None and not isinstance(options, Mapping):
        problems.append(Problem("options", f"must be a mapping, not {type(options).__name__}"))
    elif options:
        problems += value_problems("options", options, limit=MAX_FIELDS)
    return problems


def source_problems(source: object) -> list[Problem]:
    """A recipients source's type (audience.read_recipients reads the accepted ones)."""
    if isinstance(source, os.PathLike) or hasattr(source, "readline"):
        return []
    if isinstance(source, str | bytes | Mapping) or not isinstance(source, Iterable):
        return [Problem("recipients", "must be a list of numbers or of rows, a pathlib.Path or "
                        f"an open file, not {type(source).__name__}")]  # fmt: skip
    return []


def row_problems(row: int, number: object, fields: Mapping[str, Any] | None) -> list[Problem]:
    """One recipient's number and fields, as read: what COPY and JSONB would refuse."""
    if (
        type(number) is str and len(number) <= MAX_NUMBER_CHARS and number.isascii()
        and number.isprintable() and not fields
    ):  # fmt: skip
        return []  # the common row, in four C calls: printable ASCII has no control character
    problems = text_problems("recipients.number", number, limit=MAX_NUMBER_CHARS, row=row)
    if fields and not _plain_texts(fields):
        problems += value_problems("recipients.fields", fields, limit=MAX_FIELDS, row=row,
                                   nested=False)  # fmt: skip
    return problems


def value_problems(
    field: str, value: Mapping[str, Any], *, limit: int, row: int | None = None,
    nested: bool = True,
) -> list[Problem]:  # fmt: skip
    """A JSON-like mapping (options, a row's fields) walked without recursion: its keys and
    strings as texts, its numbers finite and within bigint, its depth bounded, nothing else."""
    if len(value) > limit:
        return [Problem(field, f"at most {limit} entries, not {len(value)}", row)]
    problems: list[Problem] = []
    stack: list[tuple[str, object, int]] = [(field, value, 1)]
    while stack and len(problems) < 10:
        path, item, depth = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if not nested and depth > 1:
                problems.append(Problem(path, "must be a string, a number or null", row))
            elif depth > MAX_JSON_DEPTH:
                problems.append(Problem(path, f"nested deeper than {MAX_JSON_DEPTH}", row))
            else:
                stack.extend(reversed(_children(path, item, depth, row, problems)))
        else:
            problems += _scalar_problems(path, item, row)
    return problems


def json_depth(value: object) -> int:
    """How deep lists and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in _values(item))
    return deepest


def loads(data: bytes | str, what: str) -> Any:
    """JSON parsed, or ValueError naming ``what`` when it is not JSON or nests too deep.

    The parser itself recurses: past Python's limit it raises RecursionError, taken here as
    "too deep" like anything over MAX_JSON_DEPTH that it did parse.
    """
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(f"{what} nests deeper than {MAX_JSON_DEPTH}") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise ValueError(f"{what} is not JSON: {exc}") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"{what} nests deeper than {MAX_JSON_DEPTH}")
    return value


def _children(
    path: str, item: Mapping[str, Any] | list[Any] | tuple[Any, ...], depth: int,
    row: int | None, problems: list[Problem],
) -> list[tuple[str, object, int]]:  # fmt: skip
    if not isinstance(item, Mapping):
        return [(f"{path}[{i}]", child, depth + 1) for i, child in enumerate(item)]
    children = []
    for key, child in item.items():
        found = text_problems(f"{path} key", key, limit=MAX_FIELD_NAME_CHARS, row=row)
        problems += found
        if not found:
            children.append((f"{path}.{key}", child, depth + 1))
    return children


def _plain_texts(fields: Mapping[str, Any]) -> bool:
    """The common row (a few short strings, nothing odd), passed in one regex per side: a
    million rows with fields cost ~1.7 s instead of ~4 s walked one by one."""
    keys, values = list(fields), list(fields.values())
    return (
        len(keys) <= MAX_FIELDS
        and all(type(k) is str and len(k) <= MAX_FIELD_NAME_CHARS for k in keys)
        and all(type(v) is str and len(v) <= MAX_FIELD_CHARS for v in values)
        and not _CONTROL_OR_BLANK.search("".join(keys))
        and not _CONTROL.search("".join(values))
        and not _SURROGATE.search("".join(keys) + "".join(values))
    )


def _scalar_problems(path: str, item: object, row: int | None) -> list[Problem]:
    if item is None or isinstance(item, bool):
        return []
    if isinstance(item, int):
        return [] if -MAX_INT <= item <= MAX_INT else [Problem(path, "number out of range", row)]
    if isinstance(item, float):
        return [] if math.isfinite(item) else [Problem(path, "must be a finite number", row)]
    if isinstance(item, str):
        return text_problems(path, item, limit=MAX_FIELD_CHARS, row=row, multiline=True)
    return [Problem(path, f"must be a string, a number or null, not {type(item).__name__}", row)]


def _send_at_problems(send_at: object) -> list[Problem]:
    """A datetime in a sane range; its time zone is checked by intake (a clearer message)."""
    if send_at is None:
        return []
    if not isinstance(send_at, datetime):
        return [Problem("send_at", f"must be a datetime, not {type(send_at).__name__}")]
    try:
        year = send_at.astimezone(UTC).year if send_at.tzinfo else send_at.year
    except (OverflowError, ValueError):
        year = 0
    if not SEND_AT_YEARS[0] <= year <= SEND_AT_YEARS[1]:
        return [Problem("send_at", f"must fall between the years {SEND_AT_YEARS[0]} and "
                        f"{SEND_AT_YEARS[1]}")]  # fmt: skip
    return []


def _values(item: dict[Any, Any] | list[Any]) -> Iterable[Any]:
    return item.values() if isinstance(item, dict) else item


def _shown(value: object) -> str:
    """A refused value as a problem shows it: a string cut short, anything else by its type."""
    return value[:MAX_SHORT_CHARS] if isinstance(value, str) else type(value).__name__
