"""The one validation layer (domain.inputs) and the recipient files it guards (issue 11, §1).

Each bad input becomes a Problem naming its field and row, never a TypeError, a driver error
or a RecursionError; the property tests throw arbitrary rows and files at the readers.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.domain.audience import RawRecipient, read_recipients
from dispatcher.domain.inputs import (
    MAX_JSON_DEPTH,
    MAX_TEXT_CHARS,
    loads,
    request_problems,
    row_problems,
)
from dispatcher.errors import AudienceFormatError

GOOD = {"account": "mock", "text": "Hi", "recipients": ["0612345678"]}


def _fields(**bad: Any) -> list[str]:
    return [p.field for p in request_problems({**GOOD, **bad})]


def test_a_good_request_has_no_problem() -> None:
    assert request_problems(GOOD) == []


@pytest.mark.parametrize("name", ["text", "sender", "idempotency_key", "account"])
def test_a_nul_byte_in_a_text_field_is_a_problem_naming_it(name: str) -> None:
    problems = request_problems({**GOOD, name: "a\x00b"})
    assert [(p.field, p.message) for p in problems] == [
        (name, "character 2 is a control character (U+0000)")
    ]


def test_a_lone_surrogate_is_a_problem_with_its_position() -> None:
    assert [str(p) for p in request_problems({**GOOD, "sender": "ab\udc80"})] == [
        "sender: character 3 is a lone surrogate (U+DC80)"
    ]


def test_a_text_may_hold_line_breaks_and_tabs_but_a_sender_may_not() -> None:
    assert _fields(text="Hi\r\n\tthere", sender="A\nB") == ["sender"]


def test_an_over_long_text_is_a_problem_with_the_limit() -> None:
    (problem,) = request_problems({**GOOD, "text": "x" * (MAX_TEXT_CHARS + 1)})
    assert problem.message == f"at most {MAX_TEXT_CHARS} characters, not {MAX_TEXT_CHARS + 1}"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"recipients": 42}, "recipients"),
        ({"recipients": "0612345678"}, "recipients"),
        ({"recipients": {"msisdn": "0612345678"}}, "recipients"),
        ({"text": None}, "text"),
        ({"send_at": "tomorrow"}, "send_at"),
        ({"send_at": datetime(1, 1, 1, tzinfo=UTC)}, "send_at"),
        ({"kind": "promo"}, "kind"),
        ({"kind": 3}, "kind"),
        ({"invalid": "ignore"}, "invalid"),
        ({"options": 42}, "options"),
        ({"options": {"stop_text": "STOP\x00"}}, "options.stop_text"),
        ({"options": {"x": float("nan")}}, "options.x"),
        ({"options": {"x": 10**30}}, "options.x"),
        ({"options": {"x": object()}}, "options.x"),
    ],
)
def test_a_wrong_type_or_value_is_a_problem_naming_its_field(bad: Any, field: str) -> None:
    assert _fields(**bad) == [field]


def test_options_nested_too_deep_are_a_problem_not_a_recursion_error() -> None:
    deep: Any = 1
    for _ in range(10_000):
        deep = [deep]
    (problem,) = request_problems({**GOOD, "options": {"window": deep}})
    assert problem.message == f"nested deeper than {MAX_JSON_DEPTH}"


def test_a_row_with_a_nul_in_a_field_is_a_problem_naming_the_field_and_the_row() -> None:
    assert [str(p) for p in row_problems(7, "0612345678", {"name": "A\x00"})] == [
        "row 7: recipients.fields.name: character 2 is a control character (U+0000)"
    ]


def test_a_row_field_must_be_a_scalar() -> None:
    assert [p.field for p in row_problems(1, "0612345678", {"tags": ["a"]})] == [
        "recipients.fields.tags"
    ]


def test_a_deeply_nested_json_document_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nests deeper than"):
        loads(b"[" * 100_000 + b"]" * 100_000, "the body")


def test_a_csv_with_a_nul_byte_is_read_and_the_row_checked() -> None:
    (row,) = read_recipients(io.StringIO("msisdn,name\n0612345678,A\x00B\n"))
    assert row_problems(row.row, row.number, row.fields)[0].row == 1


def test_a_csv_field_over_the_csv_module_limit_names_its_row() -> None:
    huge = "x" * 200_000
    with pytest.raises(AudienceFormatError, match="row 2: unreadable"):
        list(read_recipients(io.StringIO(f"msisdn,name\n0612345678,A\n0612345679,{huge}\n")))


def test_a_file_that_is_not_utf8_is_an_audience_error(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(b"msisdn\n06123\xff45678\n")
    with pytest.raises(AudienceFormatError, match="unreadable"):
        list(read_recipients(path))


def test_a_missing_file_is_an_audience_error(tmp_path: Path) -> None:
    with pytest.raises(AudienceFormatError, match="cannot read"):
        list(read_recipients(tmp_path / "absent.csv"))


def test_json_lines_give_numbers_and_rows_with_fields(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('"0612345678"\n\n{"msisdn": "0612345679", "name": "Ana"}\n')
    assert list(read_recipients(path)) == [
        RawRecipient(1, "0612345678", None),
        RawRecipient(3, "0612345679", {"name": "Ana"}),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [("{not json", "row 1 is not JSON"), ("[" * 5000, "row 1 nests deeper"), ("3.5", "not float")],
)
def test_a_bad_json_line_is_an_audience_error_naming_the_row(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "list.ndjson"
    path.write_text(line + "\n")
    with pytest.raises(AudienceFormatError, match=message):
        list(read_recipients(path))


def test_an_item_neither_number_nor_mapping_is_an_audience_error_naming_the_row() -> None:
    with pytest.raises(AudienceFormatError, match=r"row 2: .* not NoneType"):
        list(read_recipients(["0612345678", None]))  # type: ignore[list-item]


def test_a_mapping_whose_number_is_not_text_gives_an_unparsable_number() -> None:
    (row,) = read_recipients([{"msisdn": ["0612345678"]}])
    assert row.number == "<list>"


_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_JSON = st.recursive(
    _JSON_SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)
)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_csv_text_is_read_or_refused_with_an_audience_error(content: str) -> None:
    try:
        for row in read_recipients(io.StringIO(content)):
            row_problems(row.row, row.number, row.fields)
    except AudienceFormatError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.lists(_JSON, max_size=5))
def test_any_json_lines_are_read_or_refused_with_an_audience_error(items: list[Any]) -> None:
    handle = io.StringIO("\n".join(json.dumps(i) for i in items))
    handle.name = "rows.jsonl"
    try:
        for row in read_recipients(handle):
            row_problems(row.row, row.number, row.fields)
    except AudienceFormatError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=20), _JSON_SCALARS | st.just(object()), max_size=12))
def test_any_request_fields_give_problems_never_an_exception(fields: dict[str, Any]) -> None:
    request_problems({**GOOD, **fields})


@pytest.mark.parametrize("value", ["²", "9" * 5000, "12"])
def test_a_cli_option_value_is_a_number_or_text_never_a_value_error(value: str) -> None:
    from dispatcher.cli.campaigns import _options

    assert _options((f"x={value}",))["x"] in (value, int(value) if value == "12" else value)
