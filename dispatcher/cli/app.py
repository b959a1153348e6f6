"""The ``dispatcher`` group and the entry point; commands live in the modules beside it."""

from __future__ import annotations

import sys

import click

from dispatcher.cli.failures import render
from dispatcher.errors import ConfigurationError
from dispatcher.logs import configure_logging
from dispatcher.settings import get_settings


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default: settings).")
def cli(log_level: str | None) -> None:
    """Bulk SMS campaigns: enqueue, plan, submit, track."""
    try:
        settings = get_settings()
    except ConfigurationError:  # the command that needs settings says what is wrong (doctor)
        configure_logging(log_level or "INFO")
        return
    configure_logging(log_level or settings.log_level, settings.log_format)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except Exception as exc:  # printed in one style, or raised again as a bug
        code = render(exc)
        if code is None:
            raise
        sys.exit(code)
