"""Placing unknown recipients by pushed reports for message ids we never stored
(domain/report_matching.py): one message fitting one recipient places it; anything that
could have another explanation is never guessed."""

from __future__ import annotations

from dispatcher.domain.report_matching import Candidate, match


def test_one_message_fitting_one_recipient_places_it() -> None:
    found = match([Candidate(1, "m1"), Candidate(2, "m2")])
    assert (dict(found.placed), dict(found.ambiguous)) == ({1: "m1", 2: "m2"}, {})


def test_several_reports_of_one_message_count_once() -> None:
    # ACCEPTD then DELIVRD: two stored rows, one message.
    assert dict(match([Candidate(1, "m1"), Candidate(1, "m1")]).placed) == {1: "m1"}


def test_a_recipient_two_messages_fit_is_not_placed() -> None:
    found = match([Candidate(1, "m1"), Candidate(1, "m2")])
    assert dict(found.placed) == {}
    assert "2 reported messages" in found.ambiguous[1]


def test_a_message_fitting_two_recipients_places_neither() -> None:
    found = match([Candidate(1, "m1"), Candidate(2, "m1")])
    assert dict(found.placed) == {}
    assert set(found.ambiguous) == {1, 2}


def test_a_message_another_unknown_send_could_own_is_not_placed() -> None:
    found = match([Candidate(1, "m1", rivals=1), Candidate(2, "m2")])
    assert dict(found.placed) == {2: "m2"}
    assert "another unknown send" in found.ambiguous[1]


def test_no_candidate_places_nothing() -> None:
    found = match([])
    assert (dict(found.placed), dict(found.ambiguous)) == ({}, {})
