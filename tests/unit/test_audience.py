"""Recipients are read from lists, generators, mappings and CSV files, row by row."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dispatcher.domain.audience import RawRecipient, read_recipients
from dispatcher.errors import AudienceFormatError


def test_a_list_of_numbers_gives_one_row_each_numbered_from_one() -> None:
    assert list(read_recipients(["0612345678", "+33712345678"])) == [
        RawRecipient(1, "0612345678", None),
        RawRecipient(2, "+33712345678", None),
    ]


def test_a_generator_is_consumed_lazily() -> None:
    produced = []

    def numbers():  # type: ignore[no-untyped-def]
        for n in range(3):
            produced.append(n)
            yield f"3361234567{n}"

    rows = read_recipients(numbers())
    assert next(rows).number == "33612345670"
    assert produced == [0]


def test_mappings_carry_fields_beside_the_number_column() -> None:
    rows = list(read_recipients([{"Phone": "0612345678", "first_name": "Ana"}]))
    assert rows == [RawRecipient(1, "0612345678", {"first_name": "Ana"})]


def test_a_mapping_without_a_number_column_is_an_error_naming_the_row() -> None:
    with pytest.raises(AudienceFormatError, match="row 1: no number column"):
        list(read_recipients([{"name": "Ana"}]))


def test_a_plain_string_is_refused_rather_than_read_character_by_character() -> None:
    with pytest.raises(AudienceFormatError, match=r"pathlib\.Path"):
        list(read_recipients("0612345678"))  # type: ignore[arg-type]


def test_a_csv_file_with_a_header_uses_its_number_column(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("name;mobile;city\nAna;06 12 34 56 78;Lyon\nBo;0712345678;Nice\n")
    assert list(read_recipients(path)) == [
        RawRecipient(1, "06 12 34 56 78", {"name": "Ana", "city": "Lyon"}),
        RawRecipient(2, "0712345678", {"name": "Bo", "city": "Nice"}),
    ]


def test_a_single_column_csv_without_header_is_all_numbers() -> None:
    source = io.StringIO("33612345678\n33712345678\n")
    assert [r.number for r in read_recipients(source)] == ["33612345678", "33712345678"]


def test_a_csv_header_without_a_number_column_is_refused() -> None:
    with pytest.raises(AudienceFormatError, match="no number column"):
        list(read_recipients(io.StringIO("name,city\nAna,Lyon\n")))


def test_a_long_csv_file_is_read_past_the_sniffed_head() -> None:
    lines = "".join(f"3361{n:07d}\n" for n in range(5000))
    rows = list(read_recipients(io.StringIO("msisdn\n" + lines)))
    assert len(rows) == 5000
    assert rows[-1] == RawRecipient(5000, "33610004999", None)
