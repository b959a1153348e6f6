"""The opt-out list from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dispatcher.cli.app import cli


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


def _report_change(verb: str, count: int, invalid: list[tuple[int, str, str]]) -> None:
    click.echo(f"{count} {verb}")
    for row, value, reason in invalid[:20]:
        click.echo(f"  row {row}: {reason} ({value!r})", err=True)
    if len(invalid) > 20:
        click.echo(f"  ... and {len(invalid) - 20} more invalid", err=True)
