"""find_submission over smsList.do (section 10): reading the list and matching a lost send.

Lines follow the document's pattern ``smsId | sent_date | SMS_Message_text |
Recipient_MSISDN | cost_in_credit | recipient_count |`` with the choices written in
dispatcher/providers/smsmode_list.py where the document is silent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from dispatcher.domain.placement import Absent, Found, SubmissionProbe, Undecided
from dispatcher.providers.smsmode_list import offset_for, parse_list, place
from tests.unit.providers._smsmode import DOC_NUMBERS, TOKEN, provider

PARIS = ZoneInfo("Europe/Paris")
SENT = datetime(2024, 3, 1, 12, 0, 20, tzinfo=PARIS)
NUMBERS = ("33631234560", "33623123457")


def probe(**overrides: object) -> SubmissionProbe:
    fields: dict[str, object] = {
        "batch_id": 7,
        "client_ref": "b7",
        "text": "Hello Mum",
        "msisdns": NUMBERS,
        "sent_after": SENT,
        "sent_before": SENT + timedelta(seconds=30),
    }
    fields.update(overrides)
    return SubmissionProbe(**fields)  # type: ignore[arg-type]


def line(sms_id: str, date: str = "01032024-12:00", text: str = "Hello Mum", **kw: str) -> str:
    number, cost, count = kw.get("number", NUMBERS[1]), kw.get("cost", "2"), kw.get("count", "2")
    return f"{sms_id} | {date} | {text} | {number} | {cost} | {count} |"


def read(*lines: str) -> list:  # type: ignore[type-arg]
    return parse_list("\n".join(lines), PARIS)


def test_a_line_is_read_field_by_field() -> None:
    (listed,) = read(line("Ab12", text="Hello | Mum"))
    assert (listed.sms_id, listed.sent_at, listed.text, listed.msisdn, listed.recipients) == (
        "Ab12",
        datetime(2024, 3, 1, 12, 0, tzinfo=PARIS),
        "Hello | Mum",
        NUMBERS[1],
        2,
    )


def test_a_text_with_a_line_break_stays_in_its_record() -> None:
    listed = read(line("A1", text="Hello\nMum"), line("A2"))
    assert [(x.sms_id, x.text) for x in listed] == [("A1", "Hello\nMum"), ("A2", "Hello Mum")]


def test_the_callback_date_format_is_read_too() -> None:
    (listed,) = read(line("A1", date="2024-03-01 12:00:31"))
    assert listed.sent_at == datetime(2024, 3, 1, 12, 0, 31, tzinfo=PARIS)


@pytest.mark.parametrize("body", ["31", "32 | Authentication error", "35 | Invalid parameter"])
def test_an_error_code_is_an_error(body: str) -> None:
    with pytest.raises(ValueError, match=body[:2]):
        parse_list(body, PARIS)


def test_an_unreadable_answer_is_an_error() -> None:
    with pytest.raises(ValueError, match="unreadable"):
        parse_list("<html>maintenance</html>", PARIS)


def test_the_one_matching_line_is_found() -> None:
    listed = read(line("NEW", date="01032024-12:05"), line("HIT"), line("OLD", "01032024-11:00"))
    found = place(listed, probe(), asked=50)
    assert isinstance(found, Found)
    assert found.provider_ref == "HIT"


def test_the_stop_mention_and_question_marks_still_match() -> None:
    listed = read(line("HIT", text="R?duction ? 5 STOP 36304"))
    assert isinstance(place(listed, probe(text="Réduction à 5"), asked=50), Found)


@pytest.mark.parametrize(
    "other",
    [
        {"count": "3"},  # another request size
        {"number": "33699999999"},  # a number that is not the batch's
        {"text": "Goodbye"},
        {"date": "01032024-12:03"},  # after the window and its minute of slack
    ],
)
def test_a_line_differing_in_one_field_does_not_match(other: dict[str, str]) -> None:
    listed = read(line("X", **other), line("OLD", "01032024-11:00"))
    assert isinstance(place(listed, probe(), asked=50), Absent)


def test_a_line_of_another_batch_never_matches() -> None:
    listed = read(line("THEIRS"))
    assert isinstance(place(listed, probe(taken_refs=frozenset({"THEIRS"})), asked=50), Absent)


def test_two_matching_lines_are_undecided() -> None:
    listed = read(line("A"), line("B"), line("OLD", "01032024-11:00"))
    found = place(listed, probe(), asked=50)
    assert isinstance(found, Undecided)
    assert "A, B" in found.reason


def test_a_full_list_that_does_not_reach_back_to_the_window_is_undecided() -> None:
    listed = read(line("N1", "01032024-12:05"), line("N2", "01032024-12:04"))
    assert isinstance(place(listed, probe(), asked=2), Undecided)


def test_a_short_list_is_the_whole_history() -> None:
    listed = read(line("N1", "01032024-12:05"))
    assert isinstance(place(listed, probe(), asked=50), Absent)


def test_the_offset_grows_with_the_accounts_recent_sends_within_a_ceiling() -> None:
    assert (offset_for(probe()), offset_for(probe(recent_sends=10))) == (50, 70)
    assert offset_for(probe(recent_sends=10_000)) == 1000


def test_find_submission_asks_smslist_with_the_token_and_an_offset() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=line("HIT", number=DOC_NUMBERS[0]))

    adapter = provider(answer)
    assert isinstance(adapter.find_submission(probe(msisdns=DOC_NUMBERS)), Found)
    (request,) = seen
    assert request.url.path == "/http/1.6/smsList.do"
    assert dict(request.url.params) == {"accessToken": TOKEN, "offset": "50"}


@pytest.mark.parametrize(
    "response", [httpx.Response(200, text="31 | Internal error"), httpx.Response(503)]
)
def test_a_failed_read_is_undecided(response: httpx.Response) -> None:
    adapter = provider(lambda request: response)
    assert isinstance(adapter.find_submission(probe()), Undecided)


def test_no_answer_is_undecided() -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    assert isinstance(provider(drop).find_submission(probe()), Undecided)
