"""``dispatcher``: the command line of producers and operators."""

from __future__ import annotations

import json
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

import click

from dispatcher.errors import CampaignValidationError, DispatcherError
from dispatcher.logs import configure_logging
from dispatcher.providers.registry import DEFAULT_PROVIDER, REGISTRY
from dispatcher.settings import get_settings


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default: settings).")
def cli(log_level: str | None) -> None:
    """Bulk SMS campaigns: enqueue, plan, submit, track."""
    configure_logging(log_level or get_settings().log_level)


@cli.command()
@click.option(
    "--provider",
    type=click.Choice(sorted(REGISTRY)),
    default=DEFAULT_PROVIDER,
    show_default=True,
    help="Which of the sandbox's providers receives the campaign.",
)
@click.option("--recipients", "count", default=10_000, show_default=True, help="Campaign size.")
@click.option("--workers", default=1, show_default=True)
@click.option("--concurrency", default=2, show_default=True, help="Processes per worker.")
@click.option(
    "--timeout", default=300.0, show_default=True, help="Seconds to wait for final statuses."
)
@click.option("--keep-data", is_flag=True, help="Keep the temporary data directory and logs.")
def demo(
    provider: str, count: int, workers: int, concurrency: int, timeout: float, keep_data: bool
) -> None:
    """Run a real campaign end to end against the built-in provider sandbox."""
    from dispatcher.local.demo import run_demo

    summary = run_demo(
        provider=provider,
        recipients=count,
        workers=workers,
        concurrency=concurrency,
        timeout=timeout,
        keep_data=keep_data,
    )
    sys.exit(0 if summary.complete else 1)


@cli.command()
@click.option("--sandbox/--no-sandbox", default=True, show_default=True)
@click.option("--api/--no-api", default=True, show_default=True)
@click.option("--workers", default=1, show_default=True)
@click.option("--concurrency", default=2, show_default=True)
def up(sandbox: bool, api: bool, workers: int, concurrency: int) -> None:
    """Run the local stack (embedded servers unless configured) until Ctrl-C."""
    from dispatcher.local.stack import LocalStack, StackOptions

    settings = get_settings()
    options = StackOptions(
        data_dir=settings.data_dir.resolve(),
        database_url=settings.database_url,
        broker_url=settings.broker_url,
        sandbox=sandbox,
        api=api,
        workers=workers,
        concurrency=concurrency,
        publish=True,
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    with LocalStack(options) as stack:
        assert stack.endpoints is not None
        click.echo(f"database  {stack.endpoints.database_url}")
        click.echo(f"broker    {stack.endpoints.broker_url}")
        if stack.sandbox_url:
            click.echo(f"sandbox   {stack.sandbox_url} (account 'sandbox-smsmode')")
        if stack.api_url:
            click.echo(f"api       {stack.api_url}")
        for process in stack.processes:
            click.echo(f"{process.name:<9} pid {process.pid}, log {process.log_path}")
        click.echo("Ctrl-C stops everything.")
        try:
            while not stopping and all(p.alive() for p in stack.processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


@cli.command()
def migrate() -> None:
    """Apply the database migrations."""
    from dispatcher.persistence.database import Database
    from dispatcher.persistence.migrate import upgrade
    from dispatcher.runtime import resolve_endpoints

    upgrade(Database(resolve_endpoints(get_settings()).database_url))
    click.echo("database is at the latest revision")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def api(host: str, port: int) -> None:
    """Run the HTTP service (producers' API and provider callbacks)."""
    import uvicorn

    from dispatcher.api.app import create_app

    uvicorn.run(create_app(), host=host, port=port, access_log=False, log_config=None)


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
    from dispatcher import enqueue_campaign

    options = _options(opts)
    try:
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
        )
    except CampaignValidationError as exc:
        raise click.ClickException(str(exc)) from None
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

    try:
        found = estimate_campaign(
            account=account, text=message, recipients=path, sender=sender, kind=kind,
            invalid="drop" if drop_invalid else "reject", options=_options(opts),
        )  # fmt: skip
    except CampaignValidationError as exc:
        raise click.ClickException(str(exc)) from None
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
def status(campaign_id: int) -> None:
    """Recipients per status and batches per state, as JSON; on stderr, what a campaign in
    ``needs_attention`` waits for (the JSON's ``attention`` counts, in words)."""
    from dispatcher import campaign_status
    from dispatcher.domain.statuses import CampaignState

    progress = campaign_status(campaign_id)
    click.echo(json.dumps(progress.as_dict(), indent=2))
    if progress.archived_at is not None:
        click.echo(
            f"campaign {campaign_id} was archived on {progress.archived_at:%Y-%m-%d %H:%M %Z} "
            f"to {progress.archive_path}: its counts are those of that day",
            err=True,
        )
    if progress.state is CampaignState.NEEDS_ATTENTION:
        waiting = ", ".join(
            f"{n} {what.replace('_', ' ')}" for what, n in progress.attention.items()
        )
        click.echo(
            f"campaign {campaign_id} needs attention: {waiting}. Nothing moves on its own; "
            "`dispatcher resend-batch BATCH_ID --i-accept-duplicates` sends a held or unknown "
            "batch again, `dispatcher cancel` stops the campaign.",
            err=True,
        )


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


@cli.command()
@click.argument("account")
def balance(account: str) -> None:
    """The provider's credit balance for an account."""
    from dispatcher.providers.registry import adapter_for

    # Without a balance endpoint (has_balance), CapabilityError says so and main() prints it.
    click.echo(adapter_for(get_settings().account(account)).balance())


@cli.group()
def optout() -> None:
    """The opt-out list: numbers left out of every campaign."""


@optout.command(name="add")
@click.argument("numbers", nargs=-1)
@click.option(
    "--file", "path", type=click.Path(exists=True, path_type=Path), help="CSV of numbers."
)
@click.option("--reason")
def optout_add(numbers: tuple[str, ...], path: Path | None, reason: str | None) -> None:
    """Add numbers (arguments or a CSV file)."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.opt_outs import add_numbers

    change = add_numbers(default_deps(), path or list(numbers), reason=reason)
    _report_change("added", change.changed, change.invalid)


@optout.command(name="remove")
@click.argument("numbers", nargs=-1)
@click.option("--file", "path", type=click.Path(exists=True, path_type=Path))
def optout_remove(numbers: tuple[str, ...], path: Path | None) -> None:
    """Remove numbers (arguments or a CSV file)."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.opt_outs import remove_numbers

    change = remove_numbers(default_deps(), path or list(numbers))
    _report_change("removed", change.changed, change.invalid)


@optout.command(name="export")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (default: stdout).")
def optout_export(output: Path | None) -> None:
    """The whole list as CSV (number, source, reason, date)."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.opt_outs import export_list

    if output is None:
        export_list(default_deps(), sys.stdout.buffer)
        return
    with output.open("wb") as handle:
        export_list(default_deps(), handle)


@optout.command(name="check")
@click.argument("account")
@click.argument("number")
def optout_check(account: str, number: str) -> None:
    """Ask a provider's STOP list (Envoyer SMS Pro) about a number; a listed one joins ours."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.opt_outs import check_with_provider

    listed = check_with_provider(default_deps(), account, number)
    click.echo(f"{number}: {'on' if listed else 'not on'} {account}'s STOP list")


@optout.command(name="push")
@click.argument("account")
@click.argument("numbers", nargs=-1, required=True)
def optout_push(account: str, numbers: tuple[str, ...]) -> None:
    """Put numbers on a provider's STOP list (one request each, within the account's limit)."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.opt_outs import push_to_provider

    click.echo(f"{push_to_provider(default_deps(), account, numbers)} pushed to {account}")


@cli.group(name="api-key")
def api_key() -> None:
    """Producers' keys for the HTTP service: named, stored only as a digest."""


@api_key.command(name="create")
@click.argument("name")
def api_key_create(name: str) -> None:
    """Make a key named NAME and print it: this is the only time it is shown."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.api_keys import create_key

    key = create_key(default_deps(), name)
    click.echo(key)
    click.echo(f"API key {name!r} created: send it as 'Authorization: Bearer <key>'. It is "
               "stored only as a digest and cannot be shown again.", err=True)  # fmt: skip


@api_key.command(name="list")
def api_key_list() -> None:
    """Every key's name, creation and revocation (never the key)."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.api_keys import list_keys

    for key in list_keys(default_deps()):
        revoked = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "live"
        click.echo(f"{key.name}\tcreated {key.created_at.isoformat()}\t{revoked}")


@api_key.command(name="revoke")
@click.argument("name")
def api_key_revoke(name: str) -> None:
    """Refuse the key named NAME from now on (its name is never given to another key)."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.api_keys import revoke_key

    revoke_key(default_deps(), name)
    click.echo(f"API key {name!r} revoked")


def _report_change(verb: str, count: int, invalid: list[tuple[int, str, str]]) -> None:
    click.echo(f"{count} {verb}")
    for row, value, reason in invalid[:20]:
        click.echo(f"  row {row}: {reason} ({value!r})", err=True)
    if len(invalid) > 20:
        click.echo(f"  ... and {len(invalid) - 20} more invalid", err=True)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except DispatcherError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
