"""Faults of the servers and processes under the dispatcher: workers killed with SIGKILL,
two beats, PostgreSQL restarted, Redis killed and restarted empty. Each scenario is a campaign
through real workers, Redis, PostgreSQL and the sandbox over HTTP, a real fault in the middle,
then the sandbox's record against the database (tests/faults/ledger.py). Bounded in time and
recipients; ``--scale`` multiplies the recipients.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.ledger import Row
from tests.faults.scenario import (
    FaultStack,
    assert_kept_promises,
    audit,
    batches_in,
    fault,
    start_plain,
    submitted_share,
    wait,
    worker_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.mark.timeout(210)
def test_s1_workers_killed_many_times_lose_and_double_nothing(
    faults: FaultStack, scale: float, table: list[Row]
) -> None:
    per_provider = int(10_000 * scale)
    runs = [
        start_plain(faults, "f-smsmode", "smsmode", per_provider, seed=101),
        start_plain(faults, "f-envoyer", "envoyer", per_provider, seed=102),
    ]
    with faults.sandbox() as sandbox:
        for run in runs:  # each request takes a while, so a kill finds requests in flight
            fault(sandbox, run, "send", {"type": "latency", "delay": 0.3})
    wait(lambda: batches_in(faults, runs, "sending"), "a batch in flight")
    for kill in range(5):
        # Kill the worker holding a batch mid-request when there is one (the harshest case:
        # possibly sent); otherwise any worker, which loses its claims and polls.
        holders = [worker_of(faults, w) for _, w in batches_in(faults, runs, "sending")]
        victim = next((p for p in holders if p is not None), None) or faults.workers()[0]
        victim.kill()
        faults.stack.start_worker(f"worker-s1-{kill}")
        time.sleep(2)
    # The account goes on sending, as a real one does. Envoyer's walk proves a killed send
    # absent only between two of the account's message ids (providers/envoyer_lookup.py): had
    # the kills hit the campaign's last sends, nothing would bound the gap and the batch would
    # rightly wait, unknown, for RECONCILE_GIVE_UP_HOURS. A later campaign's first send, once
    # every killed send is reaped (the send lease, about 15 s here), gives the walk its bound.
    wait(lambda: not batches_in(faults, runs, "sending"), "every killed send reaped", timeout=60)
    runs.append(start_plain(faults, "f-envoyer", "envoyer", 200, seed=103))

    row = audit(faults, runs, "S1 kill -9 of workers x5", table, timeout=90)

    assert_kept_promises(row)


@pytest.mark.timeout(120)
def test_s7_two_beats_lose_and_double_nothing(
    faults: FaultStack, scale: float, table: list[Row]
) -> None:
    assert len(faults.beats()) == 2
    runs = [start_plain(faults, "f-smsmode", "smsmode", int(10_000 * scale), seed=107)]

    row = audit(faults, runs, "S7 two beat processes", table, timeout=60)

    assert_kept_promises(row)
    for beat in faults.beats():
        assert "Sending due task sweep" in beat.log_path.read_text(errors="replace"), beat.name


@pytest.mark.timeout(150)
def test_s3_postgres_restarted_mid_campaign_loses_and_doubles_nothing(
    faults: FaultStack, scale: float, table: list[Row]
) -> None:
    runs = [start_plain(faults, "f-smsmode", "smsmode", int(10_000 * scale), seed=103)]
    with faults.sandbox() as sandbox:  # answers come 1.5 s after the request: some come
        fault(sandbox, runs[0], "send", {"type": "latency", "delay": 1.5})  # while it is down
    wait(lambda: len(batches_in(faults, runs, "sending")) >= 3, "3 batches in flight")

    faults.postgres.restart(down_seconds=2)

    row = audit(faults, runs, "S3 PostgreSQL restarted (2 s down)", table, timeout=90)
    assert_kept_promises(row)
    # Every request got its answer: nothing may be left unknown, whatever the write met.
    assert row.unknown_before == 0


@pytest.mark.timeout(150)
def test_s2_redis_killed_and_restarted_empty_loses_and_doubles_nothing(
    faults: FaultStack, scale: float, table: list[Row]
) -> None:
    runs = [start_plain(faults, "f-smsmode", "smsmode", int(10_000 * scale), seed=104)]
    with faults.sandbox() as sandbox:
        fault(sandbox, runs[0], "send", {"type": "latency", "delay": 0.3})
    wait(lambda: submitted_share(faults, runs[0]) >= 0.3, "30 % submitted")

    faults.redis.kill()
    time.sleep(3)
    faults.redis.start()

    row = audit(faults, runs, "S2 Redis killed, restarted empty", table, timeout=90)
    assert_kept_promises(row)
