"""Outgoing callbacks (delivery reports, replies) sent in the background.

Request handlers only register a :class:`Schedule` (O(1)); one background task wakes every
``tick`` seconds, pulls the callbacks that are due (in due-time order, through a heap of
schedules) into a bounded queue, and ``concurrency`` workers send them. A failed callback is
retried ``retries`` times with exponential backoff, without holding a worker while it waits.
Nothing here ever runs inside a request handler, so a slow or dead receiver cannot slow the
provider API down.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from array import array
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from dispatcher.sandbox.config import CallbackConfig
from dispatcher.sandbox.store import Store
from dispatcher.sandbox.timeline import State, Timeline


@dataclass(frozen=True)
class CallbackRequest:
    """One HTTP request to a customer's callback URL."""

    provider: str
    url: str
    method: str = "GET"
    body: bytes | None = None
    content_type: str | None = None


#: Sends one callback; True when the receiver acknowledged it (any 2xx).
Sender = Callable[[CallbackRequest], Awaitable[bool]]
#: Builds the callback of one state change: (number, state, time of the change).
EventBuilder = Callable[[str, State, float], CallbackRequest]


class Schedule:
    """The state-change callbacks of one submission, computed when the first one is due.

    Until then it holds only the submission's compact number string. Once materialised it
    holds three flat arrays sorted by time (13 bytes per event) and the start offset of each
    number in the string, and is dropped as soon as its last callback is queued.
    """

    def __init__(self, numbers: str, base: float, timeline: Timeline, build: EventBuilder) -> None:
        self._numbers = numbers
        self._base = base
        self._timeline = timeline
        self._build = build
        self._times: array[float] | None = None
        self._index = array("I")
        self._states = array("B")
        self._starts = array("I")
        self._cursor = 0

    def next_time(self) -> float | None:
        """When the next callback is due; None when all have been produced."""
        if self._times is None:
            return self._base + self._timeline.config.gateway_delay
        return self._times[self._cursor] if self._cursor < len(self._times) else None

    def _materialise(self) -> array[float]:
        numbers = self._numbers.split(",")
        events: list[tuple[float, int, int]] = []
        position = 0
        for i, number in enumerate(numbers):
            self._starts.append(position)
            position += len(number) + 1
            events.extend((t, i, int(s)) for t, s in self._timeline.events(number, self._base))
        events.sort()
        self._times = array("d", (e[0] for e in events))
        self._index = array("I", (e[1] for e in events))
        self._states = array("B", (e[2] for e in events))
        return self._times

    def _number(self, i: int) -> str:
        end = self._starts[i + 1] - 1 if i + 1 < len(self._starts) else len(self._numbers)
        return self._numbers[self._starts[i] : end]

    def pop_due(self, now: float, limit: int) -> list[CallbackRequest]:
        """Up to ``limit`` callbacks due at ``now``, advancing the cursor past them."""
        times = self._times if self._times is not None else self._materialise()
        due: list[CallbackRequest] = []
        while self._cursor < len(times) and times[self._cursor] <= now and len(due) < limit:
            c = self._cursor
            due.append(self._build(self._number(self._index[c]), State(self._states[c]), times[c]))
            self._cursor += 1
        return due


class HttpxSender:
    """Default sender: a GET (or the request's method) with a shared, bounded httpx client."""

    def __init__(self, timeout: float, max_connections: int) -> None:
        self._timeout = timeout
        self._limits = httpx.Limits(max_connections=max_connections)
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, request: CallbackRequest) -> bool:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, limits=self._limits)
        headers = {"content-type": request.content_type} if request.content_type else None
        response = await self._client.request(
            request.method, request.url, content=request.body, headers=headers
        )
        return 200 <= response.status_code < 300

    async def aclose(self) -> None:
        """Close the client; a later call opens a new one."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class CallbackDispatcher:
    """Owns the pending schedules, the one-off callbacks and the retry queue."""

    def __init__(
        self,
        config: CallbackConfig,
        clock: Callable[[], float],
        store: Store,
        sender: Sender | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._store = store
        self._default_sender = HttpxSender(config.timeout, config.concurrency)
        self._sender: Sender = sender if sender is not None else self._default_sender
        self._schedules: dict[str, Schedule] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._oneoff: deque[CallbackRequest] = deque()
        self._retries: list[tuple[float, int, CallbackRequest, int]] = []
        self._seq = itertools.count()

    def subscribe(self, key: str, schedule: Schedule) -> None:
        """Start producing a submission's callbacks (``key``: its id)."""
        first = schedule.next_time()
        if first is not None:
            self._schedules[key] = schedule
            heapq.heappush(self._heap, (first, next(self._seq), key))

    def cancel(self, key: str) -> None:
        """No further callbacks for that submission (deleted SMS)."""
        self._schedules.pop(key, None)

    def enqueue(self, request: CallbackRequest) -> None:
        """Send a one-off callback (e.g. a reply notification) as soon as possible."""
        self._oneoff.append(request)

    def clear(self) -> None:
        """Forget everything pending (sandbox reset)."""
        self._schedules.clear()
        self._heap.clear()
        self._oneoff.clear()
        self._retries.clear()

    def pending_schedules(self) -> int:
        """Submissions that still have callbacks to produce."""
        return len(self._schedules)

    def collect_due(
        self, now: float, limit: int, retry_until: float | None = None
    ) -> list[tuple[CallbackRequest, int]]:
        """Up to ``limit`` (request, attempt) pairs due now: retries, one-offs, then reports."""
        retry_until = time.monotonic() if retry_until is None else retry_until
        due: list[tuple[CallbackRequest, int]] = []
        while self._retries and self._retries[0][0] <= retry_until and len(due) < limit:
            _, _, request, attempt = heapq.heappop(self._retries)
            due.append((request, attempt))
        while self._oneoff and len(due) < limit:
            due.append((self._oneoff.popleft(), 0))
        while self._heap and self._heap[0][0] <= now and len(due) < limit:
            _, _, key = heapq.heappop(self._heap)
            schedule = self._schedules.get(key)
            if schedule is None:
                continue
            due.extend((r, 0) for r in schedule.pop_due(now, limit - len(due)))
            following = schedule.next_time()
            if following is None:
                del self._schedules[key]
            else:
                heapq.heappush(self._heap, (following, next(self._seq), key))
        return due

    async def deliver(self, request: CallbackRequest, attempt: int) -> bool:
        """Send once; on failure schedule a retry or count it as failed."""
        try:
            ok = await self._sender(request)
        except Exception:  # any transport problem is just a failed attempt
            ok = False
        if ok:
            self._store.count(f"{request.provider}.callbacks_sent")
        elif attempt < self._config.retries:
            due = time.monotonic() + self._config.backoff * 2**attempt
            heapq.heappush(self._retries, (due, next(self._seq), request, attempt + 1))
        else:
            self._store.count(f"{request.provider}.callbacks_failed")
        return ok

    async def drain(self) -> None:
        """Send everything due now, retries included without waiting (tests, no lifespan)."""
        while True:
            batch = self.collect_due(self._clock(), 10_000, retry_until=float("inf"))
            if not batch:
                return
            for request, attempt in batch:
                await self.deliver(request, attempt)

    async def run(self) -> None:
        """Background loop; runs until cancelled (application shutdown)."""
        size = self._config.concurrency
        queue: asyncio.Queue[tuple[CallbackRequest, int]] = asyncio.Queue(maxsize=size * 4)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(size)]
        try:
            while True:
                for item in self.collect_due(self._clock(), queue.maxsize - queue.qsize()):
                    queue.put_nowait(item)
                await asyncio.sleep(self._config.tick)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await self._default_sender.aclose()

    async def _worker(self, queue: asyncio.Queue[tuple[CallbackRequest, int]]) -> None:
        while True:
            request, attempt = await queue.get()
            await self.deliver(request, attempt)
