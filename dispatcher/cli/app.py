"""The ``dispatcher`` group and the entry point; commands live in the modules beside it."""

from __future__ import annotations

import sys

import click

from dispatcher.errors import DispatcherError
from dispatcher.logs import configure_logging
from dispatcher.settings import get_settings


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default: settings).")
def cli(log_level: str | None) -> None:
    """Bulk SMS campaigns: enqueue, plan, submit, track."""
    configure_logging(log_level or get_settings().log_level)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except DispatcherError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
