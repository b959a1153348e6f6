"""Operators' commands on batches: find the ones waiting for a person, see everything about
one, record a decision on it, or send it again.

    dispatcher batches [--state unknown --state held] [--campaign ID] [--account A] [--json]
    dispatcher batch show ID [--json]
    dispatcher batch resolve ID --sent|--failed [--reason TEXT]
    dispatcher batch resend ID --i-accept-duplicates     (also: resend-batch ID ...)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from rich.table import Table

from dispatcher.cli.app import cli
from dispatcher.cli.listing import as_json, console, when

BATCH_STATES = (
    "pending", "claimed", "sending", "submitted", "done", "failed", "unknown", "held",
    "cancelled",
)  # fmt: skip


@cli.command(name="batches")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(BATCH_STATES),
    help="Batches in this state (repeatable); default: held and unknown, those waiting for you.",
)
@click.option("--campaign", "campaign_id", type=int, help="Only this campaign's batches.")
@click.option("--account", help="Only this account's batches.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json_output", is_flag=True, help="A JSON list instead of a table.")
def batches_cmd(
    states: tuple[str, ...],
    campaign_id: int | None,
    account: str | None,
    limit: int,
    as_json_output: bool,
) -> None:
    """Batches waiting for an operator (held, unknown), or in the states asked for."""
    from dispatcher.persistence.operator_views import WAITING_STATES
    from dispatcher.runtime import default_deps
    from dispatcher.services.overview import waiting_batches

    asked = states or WAITING_STATES
    found = waiting_batches(
        default_deps(), states=asked, campaign_id=campaign_id, account=account, limit=limit
    )
    if as_json_output:
        click.echo(as_json(found))
        return
    if not found:
        click.echo(f"no batch is {' or '.join(asked)}", err=True)
        return
    console().print(_batches_table(found))
    click.echo(
        "`dispatcher batch show ID` says what is known about one; "
        "`dispatcher batch resolve ID --sent|--failed` records your decision",
        err=True,
    )


def _batches_table(found: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("id", "campaign", "account", "seq", "size", "state", "attempts"):
        justify = "right" if name in ("id", "campaign", "seq", "size", "attempts") else "left"
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for name in ("last answer", "reconciliation", "updated"):
        table.add_column(name, no_wrap=True)
    for b in found:
        answer = " ".join(x for x in (b["last_outcome"], b["last_code"]) if x) or "-"
        table.add_row(
            str(b["id"]), str(b["campaign_id"]), b["account"], str(b["seq"]), str(b["size"]),
            b["state"], str(b["attempts"]), answer, b["reconcile_state"] or "-",
            when(b["updated_at"]),
        )  # fmt: skip
    return table


@cli.group(name="batch")
def batch_group() -> None:
    """One batch: show it, resolve it, send it again."""


@batch_group.command(name="show")
@click.argument("batch_id", type=int)
@click.option("--json", "as_json_output", is_flag=True)
def show_cmd(batch_id: int, as_json_output: bool) -> None:
    """Everything needed to decide about a batch: attempts, times, the provider's answer,
    recipients by status, reconciliation's evidence and who did what to it."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.overview import batch_report

    report = batch_report(default_deps(), batch_id)
    if as_json_output:
        click.echo(as_json(report))
        return
    for line in _show_lines(report):
        click.echo(line)


def _show_lines(r: dict[str, Any]) -> list[str]:
    answer, rec = r["provider_answer"], r["reconciliation"]
    lines = [
        f"batch {r['id']}: {r['state']}  (campaign {r['campaign_id']}, {r['campaign_state']}; "
        f"account {r['account']}, {r['provider']}; seq {r['seq']}, {r['size']} recipients)",
        f"attempts   {r['attempts']} sent, {r['retries']} retried (nothing sent); "
        f"polls {r['polls']}, {r['poll_failures']} failing in a row; worker {r['worker'] or '-'}",
        "times      " + "; ".join(
            f"{name.removesuffix('_at').replace('_', ' ')} {when(value, seconds=True)}"
            for name, value in r["times"].items() if value is not None
        ),
        f"provider   {answer['outcome'] or '-'} code {answer['code'] or '-'}: "
        f"{answer['message'] or '-'} (reference {answer['provider_ref'] or '-'})",
        "recipients " + (
            ", ".join(f"{n} {status}" for status, n in r["recipients"].items()) or "none"
        ),
    ]  # fmt: skip
    for a in r["recipients_by_answer"]:
        lines.append(
            f"             {a['n']} {a['status']}: code {a['provider_code'] or '-'}, "
            f"{a['provider_text'] or 'no text'}"
        )
    lines.append(
        f"reconcile  {rec['state'] or 'never needed'}, {rec['tries']} read(s)"
        + (f", next check {when(rec['next_check'], seconds=True)}" if rec["next_check"] else "")
    )
    lines += [f"  {json.dumps(e, ensure_ascii=False, default=str)}" for e in rec["evidence"]]
    trail = [_audit_line(e) for e in r["audit"]] or ["nothing done by anyone yet"]
    lines += [("audit      " if n == 0 else " " * 11) + line for n, line in enumerate(trail)]
    if r["state"] in ("unknown", "held"):
        lines.append(_next_steps(r))
    return lines


def _audit_line(entry: dict[str, Any]) -> str:
    detail = ", ".join(f"{k}={v}" for k, v in entry["detail"].items() if v is not None)
    at = datetime.fromisoformat(entry["at"])
    what = f"{when(at, seconds=True)} {entry['actor']} {entry['action'].replace('_', ' ')}"
    return what + (f" ({detail})" if detail else "")


def _next_steps(r: dict[str, Any]) -> str:
    i = r["id"]
    if r["state"] == "held":
        return (
            f"next: `dispatcher batch resend {i} --i-accept-duplicates` sends it, "
            f"`dispatcher batch resolve {i} --failed --reason ...` gives it up"
        )
    if r["reconciliation"]["state"] == "pending":
        return "next: nothing yet: reconciliation is still looking in the provider's records"
    return (
        f"next: `dispatcher batch resolve {i} --sent|--failed --reason ...` records what you "
        f"found; `dispatcher batch resend {i} --i-accept-duplicates` sends the unplaced again"
    )


@batch_group.command(name="resolve")
@click.argument("batch_id", type=int)
@click.option(
    "--sent", "decision", flag_value="sent", help="You saw them sent: unknown -> expired."
)
@click.option(
    "--failed", "decision", flag_value="failed", help="They were not sent: -> failed, for good."
)
@click.option("--reason", help="Why (kept with each recipient and in the audit trail).")
@click.option("--json", "as_json_output", is_flag=True)
def resolve_cmd(
    batch_id: int, decision: str | None, reason: str | None, as_json_output: bool
) -> None:
    """Record your decision on an unknown or held batch; nothing is sent. --sent: its unknown
    recipients become expired (sent, no report will come); --failed: its unknown and queued
    recipients become failed. Audited; its campaign is settled."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.resolve import resolve_batch

    if decision is None:
        raise click.UsageError("say what you decided: --sent or --failed")
    done = resolve_batch(default_deps(), batch_id, decision, reason=reason)
    if as_json_output:
        click.echo(as_json(done.as_dict()))
        return
    click.echo(
        f"batch {batch_id}: {done.was.value} -> {done.batch_state.value}; {done.recipients} "
        f"recipient(s) -> {done.recipient_status.value}; campaign {done.campaign_id} is "
        f"{done.campaign_state.value} (recorded as {done.actor})"
    )


_DUPLICATES_HELP = "An unknown batch may have been sent: re-sending it may send some SMS twice."


def _resend(batch_id: int) -> None:
    from dispatcher.runtime import default_deps
    from dispatcher.services.campaigns import resend_batch

    found = resend_batch(default_deps(), batch_id)
    if found is not None:
        click.echo(f"batch {batch_id}: reconciliation {found.state} after {found.tries} read(s)")
        for entry in found.evidence:
            click.echo(f"  {json.dumps(entry, ensure_ascii=False)}")
    click.echo(f"batch {batch_id}: its unknown recipients are queued again")


@batch_group.command(name="resend")
@click.argument("batch_id", type=int)
@click.option("--i-accept-duplicates", is_flag=True, required=True, help=_DUPLICATES_HELP)
def resend_cmd(batch_id: int, i_accept_duplicates: bool) -> None:
    """Send an unknown or held batch again, on purpose: only the recipients reconciliation
    could not place, and never while it is still looking. Prints the evidence decided on."""
    _resend(batch_id)


@cli.command(name="resend-batch")
@click.argument("batch_id", type=int)
@click.option("--i-accept-duplicates", is_flag=True, required=True, help=_DUPLICATES_HELP)
def resend_batch_cmd(batch_id: int, i_accept_duplicates: bool) -> None:
    """The former spelling of `dispatcher batch resend`."""
    _resend(batch_id)
