"""/ready's decision and its checks, without servers (closed ports and fakes)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping

import anyio

from dispatcher.api.health import (
    Check,
    Probe,
    broker_probe,
    database_probe,
    failed,
    migration_heads,
    migrations_check,
    passed,
    readiness,
    run_probes,
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_every_check_passing_is_200_and_ready() -> None:
    status, body = readiness({"database": passed(), "broker": passed()})
    assert (status, body) == (200, {"ready": True, "checks": {"database": "ok", "broker": "ok"}})


def test_one_failing_check_is_503_naming_it() -> None:
    status, body = readiness({"database": passed(), "broker": failed("the broker does not answer")})
    assert (status, body["ready"], body["failing"], body["checks"]["broker"]) == (
        503,
        False,
        ["broker"],
        "the broker does not answer",
    )


def test_the_database_at_the_head_passes() -> None:
    heads = migration_heads()
    assert migrations_check(sorted(heads), heads) == passed()


def test_an_older_revision_fails_naming_both_revisions() -> None:
    check = migrations_check(["0021_partition_per_campaign"], frozenset({"0022_x"}))
    assert (check.ok, "0021_partition_per_campaign" in check.detail, "0022_x" in check.detail) == (
        False,
        True,
        True,
    )


def test_a_database_without_migrations_fails() -> None:
    assert migrations_check([], frozenset({"0022_x"})).detail.startswith("no migrations applied")


def test_the_head_is_read_from_the_migrations_directory() -> None:
    assert len(migration_heads()) == 1


def test_a_probe_that_raises_fails_its_checks_by_name() -> None:
    def boom() -> Mapping[str, Check]:
        raise RuntimeError("postgresql://user:s3cret@db/x")

    answer = anyio.run(run_probes, [Probe(("database", "migrations"), boom)])
    assert [(name, c.ok, "s3cret" in c.detail) for name, c in answer.items()] == [
        ("database", False, False),
        ("migrations", False, False),
    ]


def test_a_probe_that_hangs_fails_at_the_deadline_while_the_others_answer() -> None:
    release = threading.Event()

    def hang() -> Mapping[str, Check]:
        release.wait(10)
        return {"broker": passed()}

    probes = [Probe(("broker",), hang), Probe(("database",), lambda: {"database": passed()})]
    try:
        answer = anyio.run(run_probes, probes, 0.2)
    finally:
        release.set()
    assert (answer["broker"].ok, answer["broker"].detail, answer["database"].ok) == (
        False,
        "no answer within 0.2 s",
        True,
    )


def test_a_closed_broker_port_fails_the_broker_check() -> None:
    answer = broker_probe(f"redis://127.0.0.1:{_closed_port()}/0", timeout=1).run()
    assert answer["broker"].ok is False


def test_no_broker_url_names_the_setting() -> None:
    assert "DISPATCHER_BROKER_URL" in broker_probe(None).run()["broker"].detail


def test_an_unreachable_database_fails_both_checks_without_its_url() -> None:
    password = "s3cret-pw"
    url = f"postgresql://dispatcher:{password}@127.0.0.1:{_closed_port()}/dispatcher"
    answer = database_probe(url, timeout=1).run()
    assert [(n, c.ok) for n, c in answer.items()] == [("database", False), ("migrations", False)]
    assert not any(password in c.detail or "127.0.0.1" in c.detail for c in answer.values())
