"""``dispatcher campaigns``: the campaigns, newest first, with their recipients' counts.

A table on a terminal, ``--json`` for scripts. Also the small helpers the operator's other
listings share (``batches.py``): times in the operator's local zone, and rich tables that do
not wrap when piped.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from dispatcher.cli.app import cli

CAMPAIGN_STATES = ("scheduled", "running", "paused", "needs_attention", "done", "cancelled")


def console() -> Console:
    """A terminal's own width; piped (a script, a test), wide enough for a row per line."""
    return Console() if sys.stdout.isatty() else Console(width=200, no_color=True)


def when(value: datetime | None, *, seconds: bool = False) -> str:
    """A time in the operator's local zone, to the minute (or second); ``-`` when unset."""
    if value is None:
        return "-"
    return f"{value.astimezone():%Y-%m-%d %H:%M:%S}"[: 19 if seconds else 16]


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def day_or_time(text: str, *, end: bool) -> datetime:
    """``YYYY-MM-DD`` (a whole local day: ``--until`` includes it) or an ISO date and time;
    a time without a zone is local."""
    try:
        if len(text) == 10:
            day = datetime.combine(date.fromisoformat(text), time())
            return (day + timedelta(days=1) if end else day).astimezone()
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM)"
        ) from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def _since(_: click.Context, __: click.Parameter, value: str | None) -> datetime | None:
    return None if value is None else day_or_time(value, end=False)


def _until(_: click.Context, __: click.Parameter, value: str | None) -> datetime | None:
    return None if value is None else day_or_time(value, end=True)


@cli.command(name="campaigns")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(CAMPAIGN_STATES),
    help="Only campaigns in this state (repeatable).",
)
@click.option("--account", help="Only this account's campaigns.")
@click.option("--since", callback=_since, help="Created on or after (YYYY-MM-DD or ISO time).")
@click.option("--until", callback=_until, help="Created up to (a date: that day included).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json_output", is_flag=True, help="A JSON list instead of a table.")
def campaigns_cmd(
    states: tuple[str, ...],
    account: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json_output: bool,
) -> None:
    """Campaigns, newest first: state, account, times and recipients per status."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.overview import campaigns_page

    found = campaigns_page(
        default_deps(), states=states, account=account, since=since, until=until, limit=limit
    )
    if as_json_output:
        click.echo(as_json(found))
        return
    if not found:
        click.echo("no campaign matches", err=True)
        return
    console().print(_table(found))
    if len(found) == limit:
        click.echo(f"(the newest {limit}; --limit shows more)", err=True)


def _table(found: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("id", "state", "account", "provider", "created", "send at"):
        table.add_column(name, no_wrap=True)
    for name in ("recipients", "delivered", "failed", "expired", "unknown"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("finished", no_wrap=True)
    for c in found:
        n = c["counts"]
        state = c["state"] + (" (archived)" if c["archived_at"] else "")
        table.add_row(
            str(c["id"]), state, c["account"], c["provider"], when(c["created_at"]),
            when(c["send_at"]), f"{c['size']:,}", f"{n['delivered']:,}", f"{n['failed']:,}",
            f"{n['expired']:,}", f"{n['unknown']:,}", when(c["finished_at"]),
        )  # fmt: skip
    return table
