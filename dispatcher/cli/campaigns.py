"""A campaign's life from the command line: enqueue, estimate, export, archive, pause, resume,
cancel (``status`` is in status.py)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from dispatcher.cli.app import cli


@cli.command()
@click.option("--account", required=True)
@click.option("--text", "message", required=True)
@click.option(
    "--recipients",
    "path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="CSV file with a number column (or one number per line); *.jsonl: JSON Lines.",
)
@click.option("--sender")
@click.option("--send-at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M%z"]))
@click.option("--key", "idempotency_key", help="Idempotency key.")
@click.option("--kind", type=click.Choice(["notification", "marketing"]), default="notification")
@click.option("--drop-invalid", is_flag=True, help="Leave invalid numbers out instead of refusing.")
@click.option("--option", "opts", multiple=True, help="key=value, e.g. stop=1 or method=GET.")
def enqueue(
    account: str,
    message: str,
    path: Path,
    sender: str | None,
    send_at: datetime | None,
    idempotency_key: str | None,
    kind: str,
    drop_invalid: bool,
    opts: tuple[str, ...],
) -> None:
    """Enqueue a campaign from a CSV file and print its id."""
    from contextlib import nullcontext

    from dispatcher import enqueue_campaign
    from dispatcher.cli.progress import rows_progress, wants_progress

    options = _options(opts)
    # Problems (CampaignValidationError) are printed by main(), grouped, like every error.
    with rows_progress(path) if wants_progress(path) else nullcontext() as progress:
        campaign_id = enqueue_campaign(
            account=account,
            text=message,
            recipients=path,
            sender=sender,
            send_at=send_at,
            idempotency_key=idempotency_key,
            kind=kind,
            invalid="drop" if drop_invalid else "reject",
            options=options,
            progress=progress,
        )
    click.echo(campaign_id)


@cli.command()
@click.option("--account", required=True)
@click.option("--text", "message", required=True)
@click.option(
    "--recipients",
    "path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="CSV file, or JSON Lines if its name ends in .jsonl.",
)
@click.option("--sender")
@click.option("--kind", type=click.Choice(["notification", "marketing"]), default="notification")
@click.option("--drop-invalid", is_flag=True)
@click.option("--option", "opts", multiple=True, help="key=value, e.g. transliterate=true.")
def estimate(account: str, message: str, path: Path, sender: str | None, kind: str,
             drop_invalid: bool, opts: tuple[str, ...]) -> None:  # fmt: skip
    """What a campaign would cost, without enqueuing it (JSON)."""
    from dispatcher import estimate_campaign

    found = estimate_campaign(
        account=account, text=message, recipients=path, sender=sender, kind=kind,
        invalid="drop" if drop_invalid else "reject", options=_options(opts),
    )  # fmt: skip
    click.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))


def _options(items: tuple[str, ...]) -> dict[str, object]:
    """key=value pairs: digits become numbers, true/false booleans; everything else stays text,
    checked with the campaign (``domain.inputs``). Only ASCII digits, and few: ``int("²")``
    and a 5,000-digit ``int`` raise ValueError."""
    options: dict[str, object] = {}
    for item in items:
        key, _, value = item.partition("=")
        flags = {"true": True, "false": False}
        number = value.isascii() and value.isdigit() and len(value) <= 18
        options[key] = int(value) if number else flags.get(value.lower(), value)
    return options


@cli.command()
@click.argument("campaign_id", type=int)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (default: stdout).")
def export(campaign_id: int, output: Path | None) -> None:
    """Every recipient of a campaign as CSV."""
    from dispatcher import export_recipients

    if output is None:
        export_recipients(campaign_id, sys.stdout.buffer)
        return
    with output.open("wb") as handle:
        export_recipients(campaign_id, handle)


@cli.command()
@click.argument("campaign_id", type=int)
@click.option(
    "--to",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory (default: DISPATCHER_ARCHIVE_DIR, else DATA_DIR/archives).",
)
def archive(campaign_id: int, directory: Path | None) -> None:
    """Export a done or cancelled campaign (its row as JSON, its recipients and delivery events
    as gzipped CSV) into DIR/campaign-ID, then drop its partitions. Its status still answers."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.retention import archive_campaign

    deps = default_deps()
    done = archive_campaign(deps, campaign_id, directory or deps.settings.archives)
    click.echo(
        f"campaign {campaign_id} archived in {done.path}: {done.recipients} recipients, "
        f"{done.events} delivery events; dropped {', '.join(done.dropped) or 'nothing'}"
    )


@cli.command(name="pause")
@click.argument("campaign_id", type=int)
def pause_cmd(campaign_id: int) -> None:
    """Stop sending new batches (sent ones are still tracked)."""
    from dispatcher import pause_campaign

    pause_campaign(campaign_id)


@cli.command(name="resume")
@click.argument("campaign_id", type=int)
def resume_cmd(campaign_id: int) -> None:
    from dispatcher import resume_campaign

    resume_campaign(campaign_id)


@cli.command(name="cancel")
@click.argument("campaign_id", type=int)
def cancel_cmd(campaign_id: int) -> None:
    """Cancel what has not been sent (and what the provider holds for later)."""
    from dispatcher import cancel_campaign

    click.echo(f"{cancel_campaign(campaign_id)} recipients cancelled")
