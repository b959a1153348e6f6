"""Faults of the provider, played by the sandbox: an outage (HTTP 503, and refused connections
through the gate), transient answers to report polls around the report horizon, and transient
or accepted-then-dropped answers to sends. Same audit as tests/faults/test_faults.py.
"""

from __future__ import annotations

import math
import time

import pytest

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.local.sample import french_mobiles
from dispatcher.services.campaigns import campaign_status
from tests.faults.conftest import FAULT_TIMINGS
from tests.faults.ledger import Row
from tests.faults.scenario import (
    FaultStack,
    applied,
    assert_kept_promises,
    audit,
    delivered_numbers,
    fault,
    sandbox_requests,
    start,
    start_plain,
    submitted_share,
    wait,
)

pytestmark = [pytest.mark.integration, pytest.mark.faults]

# compteRendu.do's "31 Internal error" (sMsmode section 4) and the two answers of a proxy
# whose server is away.
TRANSIENT_REPORT_ANSWERS: list[dict[str, object]] = [
    {"type": "code", "code": "31"},
    {"type": "http_status", "status": 502},
    {"type": "http_status", "status": 503},
]


def _breaker(name: str) -> float:
    return float(FAULT_TIMINGS[f"DISPATCHER_TIMINGS__BREAKER_{name}"])


# S4's timeout follows --outage-seconds (conftest's pytest_collection_modifyitems).
def test_s4_a_provider_outage_as_503_and_as_refused_connections_costs_no_recipient(
    faults: FaultStack, scale: float, outage_seconds: float, table: list[Row]
) -> None:
    count = int(2_000 * scale)
    answering_503 = start_plain(faults, "f-outage", "smsmode", count, seed=401)
    refusing = start_plain(faults, "f-gated", "smsmode", count, seed=402)
    runs = [answering_503, refusing]
    with faults.sandbox() as sandbox:
        slow = fault(sandbox, answering_503, "send", {"type": "latency", "delay": 0.3})
        wait(lambda: all(submitted_share(faults, run) > 0 for run in runs), "both sending")
        # Down mid-campaign: some batches sent (their polls fail), the others not yet.
        unavailable: dict[str, object] = {"type": "http_status", "status": 503}
        own_token = {"token": "outage-token"}
        down = [
            fault(sandbox, answering_503, endpoint, unavailable, match=own_token)
            for endpoint in ("send", "report")
        ]
        faults.gate.close()
        sandbox.delete(f"/_sandbox/faults/{slow}").raise_for_status()
        before = sandbox_requests(sandbox, "smsmode.send", "smsmode.report")
        time.sleep(outage_seconds)
        during = sandbox_requests(sandbox, "smsmode.send", "smsmode.report") - before
        for rule in down:
            sandbox.delete(f"/_sandbox/faults/{rule}").raise_for_status()
        faults.gate.open()

    scenario = f"S4 provider outage {outage_seconds:.0f} s (503 + refused)"
    row = audit(faults, runs, scenario, table, timeout=90)

    row.notes.append(f"{during} requests reached the 503 account while it was down")
    assert_kept_promises(row)
    assert row.unknown_before == 0  # refused or 503: nothing was sent, nothing is unknown
    for run in runs:
        assert RecipientStatus.FAILED not in campaign_status(faults.deps, run.campaign_id).by_status
    # While down, the 503 account gets its breaker's run of failures (one per pool process at
    # most in flight), then one probe at a time, growing to one per probe_max.
    in_flight = 2 * 3  # workers x concurrency
    probes = math.ceil(outage_seconds / _breaker("PROBE_MAX_SECONDS")) + 4
    assert during <= _breaker("THRESHOLD") + in_flight + probes


@pytest.mark.timeout(150)
def test_s5_transient_report_answers_around_the_horizon_abandon_no_report(
    faults: FaultStack, scale: float, table: list[Row]
) -> None:
    never_final = int(500 * scale)  # numbers ending 95 stay "in progress" in the sandbox
    numbers = delivered_numbers(int(4_500 * scale), seed=501)
    numbers += list(french_mobiles(never_final, seed=502, suffix="95"))
    run = start(faults, "f-polls", "smsmode", numbers)
    with faults.sandbox() as sandbox:
        for n, action in enumerate(TRANSIENT_REPORT_ANSWERS):  # 10 % each: 30 % of polls
            own_token = {"token": "polls-token"}
            fault(sandbox, run, "report", action, match=own_token, probability=0.1, seed=f"s5-{n}")

    row = audit(faults, [run], "S5 transient answers to 30 % of polls", table, timeout=100)

    assert_kept_promises(row)
    progress = campaign_status(faults.deps, run.campaign_id)
    assert dict(progress.by_status) == {
        RecipientStatus.DELIVERED: len(numbers) - never_final,
        RecipientStatus.EXPIRED: never_final,
    }


@pytest.mark.timeout(150)
def test_s6_transient_and_dropped_send_answers_lose_and_double_nothing(
    faults: FaultStack, scale: float, table: list[Row]
) -> None:
    run = start_plain(faults, "f-smsmode", "smsmode", int(10_000 * scale), seed=601)
    with faults.sandbox() as sandbox:
        fault(sandbox, run, "send", {"type": "code", "code": "31"}, probability=0.1, seed="s6-31")
        fault(sandbox, run, "send", {"type": "code", "code": "50"}, probability=0.1, seed="s6-50")
        dropped = fault(
            sandbox, run, "send", {"type": "accept_then_drop"}, probability=0.05, seed="s6-drop"
        )

        row = audit(faults, [run], "S6 20 % transient + 5 % dropped sends", table, timeout=90)

        assert applied(sandbox, dropped) > 0  # the seeds make some acceptances lose their answer
    assert_kept_promises(row)
    assert row.unknown_before > 0
