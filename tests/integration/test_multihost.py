"""Nothing in the product assumes one host: workers in two network namespaces (hosts of their
own, with their own addresses and hostnames) share one campaign through PostgreSQL and Redis
on the host side, and the provider sandbox in a third namespace records what it accepted
(``ops/bench/multihost.py``). One small run, on a database with an earlier campaign in it,
serves every test here; figures are printed by the benchmark, never asserted.
"""

from __future__ import annotations

import pytest

from ops.bench.hosts import namespaces_permitted
from ops.bench.multihost import MultiHostFigures, Options, run_in_temp_dir

pytestmark = pytest.mark.integration

WORKER_HOSTS = ("w1", "w2")
# 20 batches of 100, so that both hosts' submit workers get some of them.
OPTIONS = Options(recipients=2_000, worker_hosts=2, batch_size=100, history=500, timeout=120)


@pytest.fixture(scope="module")
def run() -> MultiHostFigures:
    reason = namespaces_permitted()
    if reason:
        pytest.skip(f"multi-host run needs network namespaces: {reason}")
    return run_in_temp_dir(OPTIONS)


def test_each_worker_host_submits_some_of_the_campaigns_batches(run: MultiHostFigures) -> None:
    accepted = {h.host: h.batches_accepted for h in run.hosts if h.host in WORKER_HOSTS}
    assert set(accepted) == set(WORKER_HOSTS)
    assert all(n > 0 for n in accepted.values()), accepted
    assert sum(accepted.values()) == run.batches


def test_the_sandbox_accepted_every_recipient_exactly_once_and_no_one_else(
    run: MultiHostFigures,
) -> None:
    ledger = run.ledger
    assert ledger.recipients == OPTIONS.recipients
    assert (ledger.accepted_once, ledger.duplicates, ledger.never_accepted, ledger.strangers) == (
        OPTIONS.recipients,
        0,
        0,
        0,
    )
    assert ledger.not_final == 0
