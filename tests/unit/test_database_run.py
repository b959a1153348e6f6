"""``Database.run``: a unit of work retried while the database is unreachable, on an in-memory
SQLite engine (no server) and a fake clock whose sleeps pass instantly."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from dispatcher.persistence import database
from dispatcher.persistence.database import Database


class FakeTime:
    """``time.monotonic`` and ``time.sleep`` for the database module: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class CountingDatabase(Database):
    """A Database on a SQLite engine (in memory unless given a file) that counts how often its
    pool is emptied."""

    def __init__(self, sqlite_url: str = "sqlite://") -> None:
        super().__init__("postgresql://nobody@127.0.0.1/unused")
        self._engine = create_engine(sqlite_url)
        self._pid = os.getpid()
        self.disposals = 0
        real = self._engine.dispose

        def dispose(close: bool = True) -> None:
            self.disposals += 1
            real(close)

        self._engine.dispose = dispose  # type: ignore[method-assign]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(database, "time", fake)
    return fake


def dropped() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def failing(times: int, error: Callable[[], Exception] = dropped) -> Callable[[Connection], int]:
    calls = {"n": 0}

    def work(conn: Connection) -> int:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error()
        return int(conn.execute(text("SELECT 41 + 1")).scalar_one())

    return work


def test_a_unit_that_fails_twice_on_a_dropped_connection_runs_a_third_time(
    clock: FakeTime,
) -> None:
    db = CountingDatabase()
    assert db.run(failing(2), retry_for=20) == 42
    assert clock.sleeps == [0.2, 0.4]


def test_the_pool_is_emptied_once_however_many_tries_fail(clock: FakeTime) -> None:
    db = CountingDatabase()
    db.run(failing(4), retry_for=20)
    assert db.disposals == 1


def test_pauses_double_up_to_two_seconds(clock: FakeTime) -> None:
    db = CountingDatabase()
    db.run(failing(7), retry_for=60)
    assert clock.sleeps == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]


def test_it_gives_up_with_the_last_error_once_retry_for_has_passed(clock: FakeTime) -> None:
    db = CountingDatabase()
    with pytest.raises(OperationalError):
        db.run(failing(1000), retry_for=3)
    assert sum(clock.sleeps) == pytest.approx(3)


def test_no_retry_time_means_one_try(clock: FakeTime) -> None:
    db = CountingDatabase()
    with pytest.raises(OperationalError):
        db.run(failing(1), retry_for=0)
    assert clock.sleeps == []


def test_an_error_the_statement_caused_is_raised_at_once(clock: FakeTime) -> None:
    db = CountingDatabase()

    def conflict() -> Exception:
        return IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        db.run(failing(1, conflict), retry_for=20)
    assert clock.sleeps == []
    assert db.disposals == 0


def test_a_failed_try_leaves_nothing_behind(clock: FakeTime, tmp_path: Path) -> None:
    db = CountingDatabase(f"sqlite:///{tmp_path / 'run.db'}")
    with db.transaction() as conn:
        conn.execute(text("CREATE TABLE t (n integer)"))
    tries = {"n": 0}

    def insert_then_drop(conn: Connection) -> None:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        tries["n"] += 1
        if tries["n"] == 1:
            raise dropped()

    db.run(insert_then_drop, retry_for=5)
    with db.transaction() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
