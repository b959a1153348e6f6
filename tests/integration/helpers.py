"""Small helpers shared by the integration tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import Connection, event, text

from dispatcher.domain.models import CampaignProgress
from dispatcher.local.sample import french_mobiles
from dispatcher.services.campaigns import campaign_status
from dispatcher.services.deps import Deps
from tests.support.waiting import wait_until

_seeds = itertools.count(1)


def mobiles(count: int, *, suffix: str) -> list[str]:
    """Distinct valid French mobiles ending in ``suffix`` (the sandbox decides a number's
    final report by its last two digits: 99 delivery error, 98 routing error, 97 invalid,
    96 expired, 95 never final)."""
    return list(french_mobiles(count, seed=next(_seeds), suffix=suffix))


def plain_mobiles(count: int, seed: int | None = None) -> list[str]:
    """Distinct valid French mobiles that the sandbox delivers (none ends in 95-99)."""
    avoid = ("95", "96", "97", "98", "99")
    return list(french_mobiles(count, seed=seed if seed is not None else next(_seeds), avoid=avoid))


def wait_settled(deps: Deps, campaign_id: int, timeout: float = 60.0) -> CampaignProgress:
    def probe() -> CampaignProgress | None:
        progress = campaign_status(deps, campaign_id)
        return progress if progress.settled else None

    return wait_until(probe, timeout=timeout, what=f"campaign {campaign_id} to settle")


def batches_of(deps: Deps, campaign_id: int) -> list[dict[str, Any]]:
    with deps.db.transaction() as conn:
        rows = (
            conn.execute(
                text("SELECT * FROM batches WHERE campaign_id = :c ORDER BY seq"),
                {"c": campaign_id},
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def recipient_rows(deps: Deps, campaign_id: int) -> list[dict[str, Any]]:
    with deps.db.transaction() as conn:
        rows = (
            conn.execute(
                text("SELECT * FROM recipients WHERE campaign_id = :c ORDER BY row_no"),
                {"c": campaign_id},
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def submissions(
    sandbox: httpx.Client, marker: str, provider: str = "smsmode"
) -> list[dict[str, Any]]:
    answer = sandbox.get(
        "/_sandbox/submissions", params={"provider": provider, "text_contains": marker}
    )
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["submissions"]
    return found


def add_fault(sandbox: httpx.Client, rule: dict[str, Any], provider: str = "smsmode") -> str:
    answer = sandbox.post("/_sandbox/faults", json={"provider": provider, **rule})
    answer.raise_for_status()
    fault_id: str = answer.json()["id"]
    return fault_id


def fault_on_send(
    sandbox: httpx.Client,
    marker: str,
    action: dict[str, Any],
    *,
    provider: str = "smsmode",
    times: int | None = None,
) -> str:
    """Make the sandbox answer ``action`` to sends of texts holding ``marker``.

    ``times`` limits how often; None means every time.
    """
    rule = {"endpoint": "send", "match": {"text_contains": marker}, "action": action}
    return add_fault(sandbox, {**rule, "times": times}, provider)


def batch_states(deps: Deps, campaign_id: int) -> list[str]:
    return [b["state"] for b in batches_of(deps, campaign_id)]


def batch_row(deps: Deps, batch_id: int) -> dict[str, Any]:
    """One batch's row as the database holds it: many tests judge a step by its columns."""
    with deps.db.transaction() as conn:
        found = conn.execute(text("SELECT * FROM batches WHERE id = :b"), {"b": batch_id})
        return dict(found.mappings().one())


def campaign_state(deps: Deps, campaign_id: int) -> str:
    """A campaign's ``state`` column, read directly rather than through the service."""
    with deps.db.transaction() as conn:
        found = conn.execute(text("SELECT state FROM campaigns WHERE id = :c"), {"c": campaign_id})
        return str(found.scalar_one())


def recipient_numbers(deps: Deps, campaign_id: int) -> list[str]:
    """A campaign's numbers in row order, as a provider answer about them lists them."""
    with deps.db.transaction() as conn:
        found = conn.execute(
            text("SELECT msisdn FROM recipients WHERE campaign_id = :c ORDER BY row_no"),
            {"c": campaign_id},
        )
        return list(found.scalars())


def recipient_statuses(deps: Deps, campaign_id: int) -> set[str]:
    """The distinct statuses a campaign's recipients are in: most steps move all of them at once."""
    with deps.db.transaction() as conn:
        found = conn.execute(
            text("SELECT DISTINCT status FROM recipients WHERE campaign_id = :c"),
            {"c": campaign_id},
        )
        return set(found.scalars())


@contextmanager
def recording(conn: Connection) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (and its parameters) run on ``conn`` inside the block, for EXPLAIN."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", record)
