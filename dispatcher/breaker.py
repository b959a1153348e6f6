"""A circuit breaker per provider account, shared by every worker through Redis.

Why: an answer that proves nothing was sent (connection refused, HTTP 502/503, a documented
"temporarily unavailable" code) says the provider is down, not that the batch is bad. Counted
against batches, a 75 s outage held 47 batches and lost their recipients; left to every
worker, it kept about 20 requests a second going to a dead provider (issue 8). The breaker
turns a run of such answers into waiting, for every worker of every process at once:

    closed ──``threshold`` failures, each within ``failure_window`` of the last──▶ open
    open ──``next_probe_at`` passed──▶ half-open: the first caller gets the probe token
    half-open ──the probe is answered──▶ closed
              ──the probe fails──▶ open again, the interval × ``probe_growth``, capped
    a prober that dies holds the token only until ``probe_until``: then another one probes

The logic is written once, in the pure function :func:`step`. :class:`MemoryBreaker` applies
it under a lock; :class:`RedisBreaker` reads the account's hash, applies it, and writes the
result with a Lua compare-and-set on the hash's version, retrying when another worker wrote
in between. So every worker sees one state, and the two breakers cannot drift apart. A closed
breaker costs one read per request and no write. Time is passed in (the services' clock), so
tests move time instead of waiting.

Redis unreachable: the breaker fails open (it allows, and logs), leaving the rate limit and
the provider's answer to decide as before. A wiped Redis is a closed breaker, which costs at
most ``threshold`` requests before it opens again.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any, Protocol, cast

import redis

from dispatcher.cache import REDIS_TIMEOUT_SECONDS  # a dead Redis fails open fast
from dispatcher.settings import Timings

log = logging.getLogger(__name__)

# Compare-and-set rounds before a contended write gives up (fails open). Each lost round waits
# a few random milliseconds, so two workers that keep colliding fall out of step.
WRITE_ATTEMPTS = 32
WRITE_BACKOFF_SECONDS = 0.002
ERROR_LENGTH = 300  # of the last failure's text, kept for the operator and the pace reason


@dataclass(frozen=True)
class BreakerConfig:
    threshold: int = 5
    failure_window: float = 60.0  # seconds; a failure further from the last starts a new run
    probe_base: float = 5.0
    probe_growth: float = 2.0
    probe_max: float = 60.0

    @classmethod
    def from_timings(cls, timings: Timings) -> BreakerConfig:
        return cls(
            threshold=timings.breaker_threshold,
            failure_window=timings.breaker_failure_window_seconds,
            probe_base=timings.breaker_probe_base_seconds,
            probe_growth=timings.breaker_probe_growth,
            probe_max=timings.breaker_probe_max_seconds,
        )


@dataclass(frozen=True)
class BreakerState:
    """One account's breaker. Times are epoch seconds; 0 means "none"."""

    failures: int = 0  # not-sent failures in the current run
    last_failure_at: float = 0.0
    opened_at: float = 0.0  # 0: closed
    interval: float = 0.0  # the current wait between probes
    next_probe_at: float = 0.0
    probe_until: float = 0.0  # the probe token is someone's until then
    probe_holder: str = ""
    probes: int = 0  # probe tokens granted, kept across closing (for operators and tests)
    last_error: str = ""

    @property
    def is_open(self) -> bool:
        return self.opened_at > 0


CLOSED = BreakerState()


@dataclass(frozen=True)
class Check:
    """May a request go now? ``holder`` names the caller (worker and batch); a probe token it
    gets is its own for ``probe_ttl`` seconds, long enough for the slowest answer."""

    holder: str
    probe_ttl: float


@dataclass(frozen=True)
class Failure:
    """The request was answered with nothing sent, or not answered at all."""

    holder: str
    error: str


@dataclass(frozen=True)
class Success:
    """The provider answered (whatever it said): it is up."""

    holder: str


@dataclass(frozen=True)
class Abandon:
    """The caller was allowed but sent nothing (no rate slot, a lost claim) or got an answer
    that proves nothing either way (rate-limited): a probe token it holds is freed at once,
    instead of blocking every other caller until it expires."""

    holder: str


Event = Check | Failure | Success | Abandon


@dataclass(frozen=True)
class Decision:
    """What an event decided, and the state it left."""

    allow: bool = True
    probe: bool = False  # the caller holds the probe token
    wait: float = 0.0  # when not allowed: seconds until asking again makes sense
    opened: bool = False  # this failure opened the breaker
    closed: bool = False  # this success closed an open breaker
    state: BreakerState = CLOSED


def step(
    state: BreakerState, event: Event, now: float, cfg: BreakerConfig
) -> tuple[BreakerState, Decision]:
    """The breaker's one rule: the state after ``event`` at ``now``, and what it decided."""
    if isinstance(event, Check):
        return _check(state, event, now)
    if isinstance(event, Failure):
        return _failure(state, event, now, cfg)
    if isinstance(event, Success):
        if state == replace(CLOSED, probes=state.probes):
            return state, Decision(state=state)
        closed = BreakerState(probes=state.probes)
        return closed, Decision(closed=state.is_open, state=closed)
    if state.probe_holder and state.probe_holder == event.holder:
        freed = replace(state, probe_until=0.0, probe_holder="")
        return freed, Decision(state=freed)
    return state, Decision(state=state)


def _check(state: BreakerState, event: Check, now: float) -> tuple[BreakerState, Decision]:
    if not state.is_open:
        return state, Decision(state=state)
    if now < state.next_probe_at:
        return state, Decision(False, wait=state.next_probe_at - now, state=state)
    if state.probe_until > now and state.probe_holder != event.holder:
        # Someone is probing: look again after one interval (its answer, if good, wakes us).
        wait = min(state.probe_until - now, state.interval)
        return state, Decision(False, wait=wait, state=state)
    probing = replace(
        state,
        probe_until=now + event.probe_ttl,
        probe_holder=event.holder,
        probes=state.probes + 1,
    )
    return probing, Decision(probe=True, state=probing)


def _failure(
    state: BreakerState, event: Failure, now: float, cfg: BreakerConfig
) -> tuple[BreakerState, Decision]:
    in_run = state.failures > 0 and now - state.last_failure_at <= cfg.failure_window
    failed = replace(
        state,
        failures=state.failures + 1 if in_run else 1,
        last_failure_at=now,
        last_error=event.error[:ERROR_LENGTH],
    )
    opens = not state.is_open and failed.failures >= cfg.threshold
    probe_failed = state.is_open and bool(state.probe_holder) and state.probe_holder == event.holder
    if opens or probe_failed:
        interval = (
            min(cfg.probe_base, cfg.probe_max)
            if opens
            else min(state.interval * cfg.probe_growth, cfg.probe_max)
        )
        failed = replace(
            failed,
            opened_at=now if opens else state.opened_at,
            interval=interval,
            next_probe_at=now + interval,
            probe_until=0.0,
            probe_holder="",
        )
    wait = max(failed.next_probe_at - now, 0.0) if failed.is_open else 0.0
    return failed, Decision(wait=wait, opened=opens, state=failed)


class Breaker(Protocol):
    def step(self, account: str, event: Event, now: datetime, cfg: BreakerConfig) -> Decision:
        """Apply ``event`` to ``account``'s breaker; never raises for the store being down."""
        ...

    def state(self, account: str) -> BreakerState:
        """The account's breaker now (for estimates and operators); closed when unknown."""
        ...


class MemoryBreaker:
    """One process's breakers: for World, unit tests and single-process tools."""

    def __init__(self) -> None:
        self.states: dict[str, BreakerState] = {}
        self._lock = threading.Lock()

    def step(self, account: str, event: Event, now: datetime, cfg: BreakerConfig) -> Decision:
        with self._lock:
            new, decision = step(self.state(account), event, now.timestamp(), cfg)
            self.states[account] = new
            return decision

    def state(self, account: str) -> BreakerState:
        return self.states.get(account, CLOSED)


# KEYS[1] the account's hash; ARGV[1] the version read ("" when there was no hash), ARGV[2]
# its time to live in seconds, then field/value pairs. Writes only if nobody wrote since.
_COMPARE_AND_SET = """
local current = redis.call('HGET', KEYS[1], 'version') or ''
if current ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', tostring((tonumber(ARGV[1]) or 0) + 1), unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


class RedisBreaker:
    """Every worker's breakers, one Redis hash per account: ``dispatcher:breaker:{account}``."""

    def __init__(self, url: str, *, prefix: str = "dispatcher:breaker:") -> None:
        self._redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._write = self._redis.register_script(_COMPARE_AND_SET)
        self._prefix = prefix

    def step(self, account: str, event: Event, now: datetime, cfg: BreakerConfig) -> Decision:
        try:
            decision = self._step(self._prefix + account, event, now.timestamp(), cfg)
        except redis.RedisError as exc:
            why = f"{type(exc).__name__}: {exc}"
        else:
            if decision is not None:
                return decision
            why = f"{WRITE_ATTEMPTS} writes raced by other workers"
        log.warning("circuit breaker of %s unavailable (%s): allowing, as if closed", account, why)
        return Decision()

    def state(self, account: str) -> BreakerState:
        """The account's breaker as stored; closed when Redis cannot say (fails open)."""
        try:
            return _decode(self._read(self._prefix + account))
        except redis.RedisError as exc:
            log.warning("circuit breaker of %s unreadable (%s): taken as closed", account, exc)
            return CLOSED

    def _step(self, key: str, event: Event, now: float, cfg: BreakerConfig) -> Decision | None:
        """The event applied by compare-and-set; None when other workers won every round."""
        for _ in range(WRITE_ATTEMPTS):
            raw = self._read(key)
            old = _decode(raw)
            new, decision = step(old, event, now, cfg)
            if new == old:
                return decision
            ttl = _time_to_live(new, now, cfg)
            if self._write(keys=[key], args=[raw.get("version", ""), ttl, *_encode(new)]):
                return decision
            time.sleep(random.uniform(0, WRITE_BACKOFF_SECONDS))
        return None

    def _read(self, key: str) -> dict[str, str]:
        return cast(dict[str, str], self._redis.hgetall(key))


def _time_to_live(state: BreakerState, now: float, cfg: BreakerConfig) -> int:
    """Long enough to outlive a run of failures, the wait between probes and a probe in
    flight; a breaker nobody touches for that long is forgotten, which is closed."""
    longest = max(cfg.failure_window, 10 * cfg.probe_max, state.probe_until - now)
    return math.ceil(longest) + 1


_FIELDS = {f.name: f.type for f in fields(BreakerState)}


def _encode(state: BreakerState) -> list[str]:
    return [str(item) for pair in asdict(state).items() for item in pair]


def _decode(raw: dict[str, str]) -> BreakerState:
    values: dict[str, Any] = {}
    for name, kind in _FIELDS.items():
        if name in raw:
            text = raw[name]
            values[name] = int(text) if kind == "int" else float(text) if kind == "float" else text
    return BreakerState(**values)
