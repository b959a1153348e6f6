"""Why a campaign is not moving, in words (dispatcher/domain/waiting.py), from facts built by
hand; and the send rate and ETA of ``dispatcher status --watch``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.cli.status import RateMeter
from dispatcher.domain.models import CampaignProgress
from dispatcher.domain.statuses import BatchState, CampaignState, RecipientStatus
from dispatcher.domain.waiting import (
    LIMITER,
    PROVIDER_RATE,
    TRANSIENT,
    BatchGroup,
    Circuit,
    Facts,
    WaitingReason,
    duration,
    reasons,
)

# Friday 4 December 2026, 20:30 in Paris: the default marketing window has just shut.
FRIDAY_EVENING = datetime(2026, 12, 4, 19, 30, tzinfo=UTC)
WINDOW = "Mon-Sat 08:00-20:00 Europe/Paris holidays=FR"
PENDING = BatchGroup(BatchState.PENDING, 3)


def _facts(**changes: object) -> Facts:
    base: dict[str, object] = {
        "campaign_id": 7,
        "state": CampaignState.RUNNING,
        "provider": "smsmode",
        "send_at": FRIDAY_EVENING - timedelta(hours=1),
        "window": None,
        "groups": (),
    }
    return Facts(**(base | changes))  # type: ignore[arg-type]


def _codes(found: list[WaitingReason]) -> list[str]:
    return [r.code for r in found]


def test_a_shut_window_with_pending_batches_says_when_it_opens_in_its_zone() -> None:
    (found,) = reasons(_facts(window=WINDOW, groups=(PENDING,)), FRIDAY_EVENING)

    assert found.code == "send_window"
    assert found.until == datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
    assert found.text == "waiting for its send window until Sat 08:00 Europe/Paris"


def test_a_shut_window_is_no_reason_once_every_batch_has_left() -> None:
    submitted = BatchGroup(BatchState.SUBMITTED, 2)

    found = reasons(_facts(window=WINDOW, groups=(submitted,)), FRIDAY_EVENING)

    assert _codes(found) == ["awaiting_reports"]


def test_a_paused_campaign_names_who_paused_it_and_when() -> None:
    at = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)

    (found,) = reasons(_facts(state=CampaignState.PAUSED, paused=("os:alice", at)), FRIDAY_EVENING)

    assert found.code == "paused"
    assert found.text.startswith("paused by os:alice at 19:00:00 UTC")
    assert "dispatcher resume 7" in found.text


def test_a_scheduled_campaign_says_when_it_starts() -> None:
    start = FRIDAY_EVENING + timedelta(hours=2, minutes=5)

    (found,) = reasons(_facts(state=CampaignState.SCHEDULED, send_at=start), FRIDAY_EVENING)

    assert (found.code, found.until) == ("scheduled", start)
    assert "(in 2 h 5 min)" in found.text


def test_a_scheduled_start_past_its_grace_asks_whether_beat_runs() -> None:
    start = FRIDAY_EVENING - timedelta(minutes=3)

    (found,) = reasons(_facts(state=CampaignState.SCHEDULED, send_at=start), FRIDAY_EVENING)

    assert found.code == "overdue_start"
    assert found.text == "scheduled start 19:27:00 UTC is 3 min overdue: is beat running?"


def test_a_scheduled_start_just_passed_is_no_reason_yet() -> None:
    start = FRIDAY_EVENING - timedelta(seconds=20)

    assert reasons(_facts(state=CampaignState.SCHEDULED, send_at=start), FRIDAY_EVENING) == []


def test_an_open_circuit_names_the_provider_and_the_next_probe() -> None:
    opened = datetime(2026, 12, 4, 19, 29, tzinfo=UTC)
    circuit = Circuit(opened, opened + timedelta(seconds=90), "HTTP 503")

    (found,) = reasons(_facts(groups=(PENDING,), circuit=circuit), FRIDAY_EVENING)

    assert found.code == "circuit_open"
    assert found.until == opened + timedelta(seconds=90)
    assert found.text == (
        "sMsmode circuit open since 19:29:00 UTC, next probe 19:30:30 UTC (last error: HTTP 503)"
    )


def test_batches_backing_off_say_when_they_retry_and_what_the_provider_answered() -> None:
    due = FRIDAY_EVENING + timedelta(minutes=1)
    backing_off = BatchGroup(
        BatchState.PENDING, 5, TRANSIENT, deferred=True, next_at=due,
        last_code="503", last_message="Service unavailable",
    )  # fmt: skip

    (found,) = reasons(_facts(groups=(backing_off,)), FRIDAY_EVENING)

    assert (found.code, found.until) == ("retry_backoff", due)
    assert found.text == (
        "5 batches retry after 19:31:00 UTC (provider answered 503 Service unavailable)"
    )


@pytest.mark.parametrize("kind", [PROVIDER_RATE, LIMITER])
def test_rate_limited_batches_say_until_when(kind: str) -> None:
    due = FRIDAY_EVENING + timedelta(seconds=12)
    limited = BatchGroup(BatchState.PENDING, 2, kind, deferred=True, next_at=due)

    (found,) = reasons(_facts(groups=(limited,)), FRIDAY_EVENING)

    assert (found.code, found.until) == ("rate_limited", due)
    assert "until 19:30:12 UTC" in found.text


def test_a_due_batch_is_not_waiting_for_its_backoff_any_more() -> None:
    due_now = BatchGroup(BatchState.PENDING, 1, TRANSIENT, deferred=False)

    assert reasons(_facts(groups=(due_now,)), FRIDAY_EVENING) == []


def test_held_and_unplaced_unknown_batches_wait_for_an_operator_apart_from_reconciliation() -> None:
    groups = (
        BatchGroup(BatchState.HELD, 1),
        BatchGroup(BatchState.UNKNOWN, 1),
        BatchGroup(BatchState.UNKNOWN, 2, reconciling=True, next_at=FRIDAY_EVENING),
    )

    attention, looking = reasons(_facts(groups=groups), FRIDAY_EVENING)

    assert attention.code == "needs_attention"
    assert attention.text.startswith("2 batches wait for an operator (1 unknown, 1 held)")
    assert "dispatcher batches --state unknown --campaign 7" in attention.text
    assert looking.code == "reconciling"
    assert looking.text.startswith("2 batches with an unknown outcome: reconciliation")


def test_unknown_recipients_of_finished_batches_still_need_an_operator() -> None:
    (found,) = reasons(
        _facts(state=CampaignState.NEEDS_ATTENTION, unknown_recipients=4), FRIDAY_EVENING
    )

    assert found.code == "needs_attention"
    assert found.text.startswith("4 recipient(s) of finished batches have an unknown outcome")


@pytest.mark.parametrize("state", [CampaignState.DONE, CampaignState.CANCELLED])
def test_a_finished_campaign_waits_for_nothing(state: CampaignState) -> None:
    stuck = (BatchGroup(BatchState.HELD, 1),)

    assert reasons(_facts(state=state, groups=stuck), FRIDAY_EVENING) == []


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=3, seconds=10), "3 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(days=3, hours=4), "3 d 4 h"),
    ],
)
def test_durations_read_as_an_operator_says_them(span: timedelta, said: str) -> None:
    assert duration(span) == said


def test_the_status_json_carries_the_reasons_with_their_codes_and_times() -> None:
    reason = WaitingReason("send_window", datetime(2026, 12, 5, 7, tzinfo=UTC), "window")
    progress = CampaignProgress(
        campaign_id=7, state=CampaignState.RUNNING, account="a", total=1,
        by_status={RecipientStatus.QUEUED: 1}, batches_by_state={BatchState.PENDING: 1},
        dropped={}, waiting=(reason,),
    )  # fmt: skip

    assert progress.as_dict()["waiting"] == [
        {"code": "send_window", "until": "2026-12-05T07:00:00+00:00", "text": "window"}
    ]


def test_the_send_rate_is_measured_over_the_refreshes_seen() -> None:
    meter = RateMeter(samples=2)
    for at, sent in ((0.0, 0), (2.0, 10), (4.0, 30), (6.0, 60)):
        meter.add(at, sent)

    assert meter.rate() == pytest.approx(12.5)  # the last two intervals: 50 in 4 s
    assert meter.eta(100) == pytest.approx(8.0)


def test_no_rate_or_eta_before_a_second_refresh() -> None:
    meter = RateMeter()
    meter.add(0.0, 5)

    assert (meter.rate(), meter.eta(10), meter.eta(0)) == (None, None, 0.0)
