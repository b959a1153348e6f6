"""The opt-out list: managed by operators, fed by STOP replies and by providers' STOP lists.

Numbers on it are left out of every campaign enqueued afterwards. Envoyer SMS Pro keeps its
own STOP list: numbers can be checked there (a "yes" joins our list) and pushed there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import Connection

from dispatcher.domain.audience import RecipientSource, read_recipients
from dispatcher.domain.numbers import NumberNormaliser
from dispatcher.domain.optout import is_stop_request
from dispatcher.errors import CapabilityError, NumberRejected
from dispatcher.persistence import inbound, opt_outs
from dispatcher.providers.base import Provider
from dispatcher.services import limits
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

PAGE = 10_000


@dataclass
class OptOutChange:
    changed: int = 0
    invalid: list[tuple[int, str, str]] = field(default_factory=list)  # (row, value, reason)


def add_numbers(
    deps: Deps,
    source: RecipientSource,
    *,
    origin: str = "operator",
    reason: str | None = None,
    region: str = "FR",
) -> OptOutChange:
    """Add numbers (a list, or a CSV file like a campaign's recipients), normalised."""

    def add(conn: Connection, page: list[str]) -> int:
        return opt_outs.add(conn, page, source=origin, reason=reason)

    return _apply(deps, source, region, add)


def remove_numbers(deps: Deps, source: RecipientSource, *, region: str = "FR") -> OptOutChange:
    return _apply(deps, source, region, opt_outs.remove)


def export_list(deps: Deps, out: IO[bytes]) -> None:
    with deps.db.transaction() as conn:
        opt_outs.export_csv(conn, out)


def check_with_provider(deps: Deps, account: str, msisdn: str) -> bool:
    """Ask a provider that keeps a STOP list (Envoyer SMS Pro); a listed number joins ours."""
    adapter = _stop_list_adapter(deps, account)
    _wait_for_slot(deps, adapter)
    listed = adapter.stop_list_contains(msisdn)
    if listed:
        with deps.db.transaction() as conn:
            opt_outs.add(
                conn, [msisdn], source=f"provider:{adapter.name}", reason="STOP list check"
            )
    return listed


def push_to_provider(deps: Deps, account: str, numbers: Iterable[str]) -> int:
    """Put numbers on a provider's STOP list, one request each within the account's limit."""
    adapter = _stop_list_adapter(deps, account)
    pushed = 0
    for msisdn in numbers:
        _wait_for_slot(deps, adapter)
        adapter.stop_list_add(msisdn)
        pushed += 1
    return pushed


@dataclass(frozen=True)
class InboundOutcome:
    received: int
    opted_out: int


def receive_inbound(deps: Deps, account: str, params: Mapping[str, str]) -> InboundOutcome:
    """SMS pushed to us by a provider: each kept once; a STOP puts its sender on the list.
    Raises CapabilityError for a provider that forwards none (``accepts_inbound``)."""
    adapter = deps.adapters(account)
    if not adapter.accepts_inbound:
        raise CapabilityError(adapter.name, "accepts_inbound", "forwards no inbound SMS")
    messages = adapter.parse_inbound(params)
    received = stopped = 0
    with deps.db.transaction() as conn:
        for message in messages:
            stop = is_stop_request(message.text)
            if not inbound.record(conn, adapter.account.name, message, opt_out=stop):
                continue  # the provider told us already
            received += 1
            if stop:
                stopped += opt_outs.add(
                    conn, [message.from_msisdn], source="stop-reply", reason=message.text[:160]
                )
    if stopped:
        log.info("%s STOP request(s) received on %s", stopped, account)
    return InboundOutcome(received, stopped)


Change = Callable[[Connection, list[str]], int]


def _apply(deps: Deps, source: RecipientSource, region: str, change: Change) -> OptOutChange:
    normaliser = NumberNormaliser(region)
    result = OptOutChange()
    page: list[str] = []
    for raw in read_recipients(source):
        try:
            page.append(normaliser.normalise(raw.number))
        except NumberRejected as exc:
            result.invalid.append((raw.row, raw.number, exc.reason))
        if len(page) >= PAGE:
            result.changed += _flush(deps, page, change)
    result.changed += _flush(deps, page, change)
    return result


def _flush(deps: Deps, page: list[str], change: Change) -> int:
    if not page:
        return 0
    with deps.db.transaction() as conn:
        changed: int = change(conn, page)
    page.clear()
    return changed


def _stop_list_adapter(deps: Deps, account: str) -> Provider:
    adapter = deps.adapters(account)
    if not adapter.manages_stop_list:
        raise CapabilityError(
            adapter.name, "manages_stop_list", f"keeps no STOP list (account {account!r})"
        )
    return adapter


def _wait_for_slot(deps: Deps, adapter: Provider) -> None:
    """Operator commands may wait (a task never does): the account's limit is shared."""
    while (wait := limits.take_slot(deps, adapter)) > 0:
        time.sleep(min(wait, 60))
