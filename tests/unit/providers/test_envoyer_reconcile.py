"""find_submission for Envoyer SMS Pro: the message id walk over ``message/stats``.

Answers are the document's ("FONCTION STATISTIQUES DES MESSAGES", "Messages d'erreur"): its
stats example for message 879 lists 33600000001 and 352000000077. The walk's choices where the
document is silent are in dispatcher/providers/envoyer_lookup.py and docs/providers.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from dispatcher.domain.placement import Absent, Found, SubmissionProbe, Undecided
from dispatcher.providers.envoyer_lookup import MAX_GAP, OPEN_WALK, plan_walk

from ._envoyer import STATS_ANSWER, error, form, provider, stats
from ._http import response

SENT = datetime(2011, 2, 10, 12, 0, tzinfo=UTC)
STATS_NUMBERS = ("33600000001", "352000000077")  # the stats example's recipients
NOT_OURS = error("7", " Unknown messageid ")


def probe(**overrides: object) -> SubmissionProbe:
    fields: dict[str, object] = {
        "batch_id": 7,
        "client_ref": "b7",
        "text": "Ceci est un test",
        "msisdns": STATS_NUMBERS,
        "sent_after": SENT,
        "sent_before": SENT + timedelta(seconds=30),
        "ref_before": "876",
        "ref_after": "881",
    }
    fields.update(overrides)
    return SubmissionProbe(**fields)  # type: ignore[arg-type]


class Stats:
    """A provider answering ``message/stats`` per id (error 7 for any other), recording asks."""

    def __init__(self, answers: dict[str, httpx.Response] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/message/stats"
        message_id = form(request)["messageid"]
        self.asked.append(message_id)
        return self.answers.get(message_id, response(NOT_OURS, 400))


def test_the_message_holding_the_batchs_numbers_is_found() -> None:
    walk = Stats({"879": response(STATS_ANSWER)})
    placement = provider(walk).find_submission(probe())
    assert isinstance(placement, Found)
    assert placement.provider_ref == "879"


def test_every_id_strictly_between_the_neighbours_is_asked_once() -> None:
    walk = Stats({"879": response(STATS_ANSWER)})
    provider(walk).find_submission(probe())
    assert walk.asked == ["877", "878", "879", "880"]


def test_ids_of_other_batches_are_never_asked() -> None:
    walk = Stats({"879": response(STATS_ANSWER)})
    provider(walk).find_submission(probe(taken_refs=frozenset({"877", "880"})))
    assert walk.asked == ["878", "879"]


def test_a_closed_gap_without_the_batch_is_absent_over_the_send_window() -> None:
    placement = provider(Stats()).find_submission(probe())
    assert isinstance(placement, Absent)
    assert (placement.covered_from, placement.covered_to) == (SENT, SENT + timedelta(seconds=30))


def test_neighbours_with_nothing_between_them_prove_absence_without_a_request() -> None:
    walk = Stats()
    placement = provider(walk).find_submission(probe(ref_before="879", ref_after="880"))
    assert (isinstance(placement, Absent), walk.asked) == (True, [])


def test_a_message_with_more_numbers_than_the_batch_is_not_it() -> None:
    extra = stats(*((n, "", "4") for n in (*STATS_NUMBERS, "33600000002")))
    placement = provider(Stats({"879": response(extra)})).find_submission(probe())
    assert isinstance(placement, Absent)


def test_a_message_with_part_of_the_batchs_numbers_is_not_it() -> None:
    part = stats((STATS_NUMBERS[0], "", "4"))
    placement = provider(Stats({"879": response(part)})).find_submission(probe())
    assert isinstance(placement, Absent)


def test_two_messages_holding_the_batchs_numbers_are_undecided() -> None:
    walk = Stats({"878": response(STATS_ANSWER), "879": response(STATS_ANSWER)})
    placement = provider(walk).find_submission(probe())
    assert isinstance(placement, Undecided)
    assert "2 messages" in placement.reason


def test_an_id_that_cannot_be_read_stops_the_walk_undecided() -> None:
    walk = Stats({"878": response("", 503), "879": response(STATS_ANSWER)})
    placement = provider(walk).find_submission(probe())
    assert isinstance(placement, Undecided)
    assert walk.asked == ["877", "878"]


def test_a_pending_message_in_the_gap_forbids_absence() -> None:
    # Error 8 "Message is pending": a scheduled message whose recipients cannot be read yet.
    walk = Stats({"878": response(error("8", " Message is pending "), 403)})
    assert isinstance(provider(walk).find_submission(probe()), Undecided)


def test_the_request_limit_answer_stops_the_walk() -> None:
    limited = response(error("6", "API request limit exceeded"), 400)
    walk = Stats({"877": limited})
    placement = provider(walk).find_submission(probe())
    assert isinstance(placement, Undecided)
    assert walk.asked == ["877"]


def test_each_request_after_the_first_takes_a_rate_limit_slot() -> None:
    slots: list[bool] = [True, False]
    walk = Stats({"879": response(STATS_ANSWER)})
    placement = provider(walk).find_submission(probe(take_slot=lambda: slots.pop(0)))
    assert isinstance(placement, Undecided)
    assert (walk.asked, slots) == (["877", "878"], [])


def test_an_open_gap_asks_a_bounded_number_of_ids_above_the_last_known_one() -> None:
    walk = Stats()
    placement = provider(walk).find_submission(probe(ref_after=None))
    assert isinstance(placement, Undecided)
    assert walk.asked == [str(877 + i) for i in range(OPEN_WALK)]


def test_an_open_gap_skips_the_ids_the_accounts_other_batches_hold() -> None:
    walk = Stats()
    taken = frozenset({"877", "878", "880"})  # concurrent sends numbered around ours
    provider(walk).find_submission(probe(ref_after=None, taken_refs=taken))
    assert walk.asked == [str(i) for i in (879, 881, 882, 883, 884)][:OPEN_WALK]


def test_a_match_in_an_open_gap_is_found() -> None:
    walk = Stats({"879": response(STATS_ANSWER)})
    placement = provider(walk).find_submission(probe(ref_after=None))
    assert isinstance(placement, Found)
    assert placement.provider_ref == "879"


def test_with_only_a_later_neighbour_the_ids_below_it_are_asked() -> None:
    walk = Stats({"879": response(STATS_ANSWER)})
    placement = provider(walk).find_submission(probe(ref_before=None))
    assert isinstance(placement, Found)
    assert walk.asked == [str(881 - OPEN_WALK + i) for i in range(OPEN_WALK)]


def test_without_numeric_neighbours_nothing_is_asked() -> None:
    walk = Stats()
    placement = provider(walk).find_submission(probe(ref_before=None, ref_after=None))
    assert (isinstance(placement, Undecided), walk.asked) == (True, [])


def test_a_gap_wider_than_the_bound_is_not_walked() -> None:
    walk = Stats()
    wide = probe(ref_before="100", ref_after=str(100 + MAX_GAP + 2))
    assert (isinstance(provider(walk).find_submission(wide), Undecided), walk.asked) == (True, [])


def test_neighbours_out_of_order_are_undecided() -> None:
    assert isinstance(plan_walk(probe(ref_before="881", ref_after="876")), Undecided)


def test_a_gap_exactly_as_wide_as_the_bound_is_walked() -> None:
    walk = plan_walk(probe(ref_before="100", ref_after=str(100 + MAX_GAP + 1)))
    assert not isinstance(walk, Undecided)
    assert (len(walk.ids), walk.closed) == (MAX_GAP, True)
