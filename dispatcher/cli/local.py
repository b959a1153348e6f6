"""Running the product: the demo, the local stack, migrations and the HTTP service."""

from __future__ import annotations

import signal
import sys
import time

import click

from dispatcher.cli.app import cli
from dispatcher.providers.registry import DEFAULT_PROVIDER, REGISTRY
from dispatcher.settings import get_settings


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
        metrics=True,
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
            click.echo(f"api       {stack.api_url} (state metrics: {stack.api_url}/metrics)")
        if stack.worker_metrics_url:
            click.echo(f"metrics   {stack.worker_metrics_url} (the workers' counters)")
        click.echo("operate   dispatcher campaigns | status ID --watch | batches | doctor | flower")
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
