"""Operators' commands on one batch."""

from __future__ import annotations

import json

import click

from dispatcher.cli.app import cli


@cli.command(name="resend-batch")
@click.argument("batch_id", type=int)
@click.option(
    "--i-accept-duplicates",
    is_flag=True,
    required=True,
    help="An unknown batch may have been sent: re-sending it may send some SMS twice.",
)
def resend_batch_cmd(batch_id: int, i_accept_duplicates: bool) -> None:
    """Send an unknown or held batch again, on purpose: only the recipients reconciliation
    could not place, and never while it is still looking. Prints the evidence decided on."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.campaigns import resend_batch

    found = resend_batch(default_deps(), batch_id)
    if found is not None:
        click.echo(f"batch {batch_id}: reconciliation {found.state} after {found.tries} read(s)")
        for entry in found.evidence:
            click.echo(f"  {json.dumps(entry, ensure_ascii=False)}")
    click.echo(f"batch {batch_id}: its unknown recipients are queued again")
