"""``dispatcher doctor``: one line per check, non-zero exit when anything is wrong."""

from __future__ import annotations

import json
import sys

import click

from dispatcher.cli.app import cli

MARKS = {"ok": "ok  ", "warn": "warn", "FAIL": "FAIL"}


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The checks as JSON.")
def doctor(as_json: bool) -> None:
    """Check settings, database and migrations, broker, clocks, workers, beat and every
    account (credentials, balance): ok / warn / FAIL, exit 1 when anything FAILs."""
    from dispatcher.services.doctor import exit_code
    from dispatcher.services.doctor_probes import run_checks

    checks = run_checks()
    if as_json:
        ok = exit_code(checks) == 0
        click.echo(json.dumps({"ok": ok, "checks": [c.as_dict() for c in checks]}, indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            click.echo(f"{MARKS[check.status]}  {check.name:<{width}}  {check.detail}")
            if check.hint:
                click.echo(f"{'':4}  {'':<{width}}  -> {check.hint}")
    sys.exit(exit_code(checks))
