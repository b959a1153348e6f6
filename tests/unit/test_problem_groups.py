"""A rejected campaign's problems grouped by reason: counts and the first rows of each."""

from __future__ import annotations

from dispatcher.domain.problem_tally import ProblemTally
from dispatcher.errors import CampaignValidationError, Problem


def _bad_number(row: int) -> Problem:
    return Problem("recipients", "not a valid phone number", row, f"+33 {row}")


def test_many_rows_with_one_reason_read_as_one_line_with_count_and_first_rows() -> None:
    tally = ProblemTally(limit=100)
    for row in range(3, 1207):
        tally.add(_bad_number(row))
    error = CampaignValidationError(tally.kept, more=1204 - 100, groups=tally.groups())
    lines = str(error).splitlines()
    assert lines == [
        "campaign rejected, 1,204 problem(s):",
        "  recipients: not a valid phone number: 1,204 rows (rows 3, 4, 5, ...: "
        "'+33 3', '+33 4', '+33 5', ...)",
    ]


def test_the_tally_keeps_only_its_limit_of_problems_but_counts_all() -> None:
    tally = ProblemTally(limit=10)
    for row in range(1, 51):
        tally.add(_bad_number(row))
    tally.add(Problem("recipients.fields.name", "must be a string", 60))
    assert len(tally.kept) == 10
    assert [(g.message, g.count) for g in tally.groups()] == [
        ("not a valid phone number", 50),
        ("must be a string", 1),
    ]


def test_a_single_problem_reads_as_before() -> None:
    error = CampaignValidationError([Problem("text", "must not be empty")])
    assert str(error) == "campaign rejected, 1 problem(s):\n  text: must not be empty"


def test_groups_are_available_as_data_for_the_api() -> None:
    error = CampaignValidationError([_bad_number(2), _bad_number(9)])
    assert [g.as_dict() for g in error.groups] == [
        {
            "field": "recipients",
            "message": "not a valid phone number",
            "count": 2,
            "rows": [2, 9],
            "values": ["+33 2", "+33 9"],
        }
    ]
