"""``dispatcher worker``, ``beat`` and ``flower``: Celery run with the product's app and settings.

Each command checks the settings first (so that a mistake reads as one ``error:`` line, not a
traceback from importing ``workers.app``), prints the exact command, then replaces this
process with it (``os.execvp``): signals from a supervisor reach Celery itself. Flower's
credentials travel in its environment (``FLOWER_BASIC_AUTH``), never on its command line,
where ``ps`` shows them to every user of the host.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence

import click

from dispatcher.cli.app import cli
from dispatcher.errors import ConfigurationError
from dispatcher.queueing import QUEUES
from dispatcher.services.doctor import is_loopback
from dispatcher.settings import Settings, get_settings

CELERY = ("-m", "celery", "-A", "workers.app")
BEAT_SCHEDULE = "beat-schedule"


def celery_argv(*args: str) -> list[str]:
    return [sys.executable, *CELERY, *args]


def worker_argv(
    queues: Sequence[str], concurrency: int | None, name: str, loglevel: str
) -> list[str]:
    unknown = [q for q in queues if q not in QUEUES]
    if unknown or not queues:
        raise ConfigurationError(
            f"unknown queue(s) {', '.join(unknown) or '(none given)'}: the queues are "
            f"{', '.join(QUEUES)}"
        )
    argv = celery_argv("worker", "-Q", ",".join(queues), "-n", name, "-l", loglevel)
    if concurrency is not None:
        argv += ["-c", str(concurrency)]
    # Workers find each other's work through PostgreSQL, not gossip: these only cost start-up.
    return [*argv, "--without-gossip", "--without-mingle"]


def flower_env(settings: Settings, address: str, environ: Mapping[str, str]) -> dict[str, str]:
    """Flower's environment: basic auth from settings, or a refusal to expose it without."""
    env = dict(environ)
    user, password = settings.flower_user, settings.flower_password
    secret = password.get_secret_value() if password is not None else ""
    if bool(user) != bool(secret):
        raise ConfigurationError(
            "set both DISPATCHER_FLOWER_USER and DISPATCHER_FLOWER_PASSWORD, or neither"
        )
    if user and secret:
        if ":" in user or "," in user or "," in secret:
            raise ConfigurationError(
                "DISPATCHER_FLOWER_USER cannot hold ':' or ',' and DISPATCHER_FLOWER_PASSWORD "
                "cannot hold ',' (Flower reads them as a list of user:password)"
            )
        env["FLOWER_BASIC_AUTH"] = f"{user}:{secret}"
    elif not _loopback(address):
        raise ConfigurationError(
            f"Flower on {address} would show every task to anyone who can reach it: set "
            "DISPATCHER_FLOWER_USER and DISPATCHER_FLOWER_PASSWORD, or listen on 127.0.0.1"
        )
    else:
        env.pop("FLOWER_BASIC_AUTH", None)
    return env


def _loopback(address: str) -> bool:
    return (
        is_loopback(f"http://{address}/")
        if ":" not in address
        else is_loopback(f"http://[{address}]/")
    )


def _checked_settings() -> Settings:
    """Settings that a worker can start with: loaded, database and broker known."""
    from dispatcher.runtime import resolve_endpoints

    settings = get_settings()
    resolve_endpoints(settings)
    return settings


def _exec(argv: list[str], env: Mapping[str, str] | None = None, shown: str = "") -> None:
    shown_argv = shlex.join(["python", *argv[1:]])
    click.echo(f"running: {shown_argv}{shown}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Our own interpreter and fixed arguments, no shell: nothing a user typed is interpreted.
    os.execvpe(argv[0], argv, dict(os.environ if env is None else env))  # noqa: S606


@cli.command()
@click.option(
    "-Q", "--queues", default=",".join(QUEUES), show_default=True,
    help="Comma-separated queues to consume (plan, submit, poll).",
)  # fmt: skip
@click.option("-c", "--concurrency", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: Celery's, one per CPU).")  # fmt: skip
@click.option("-n", "--name", default="worker@%h", show_default=True, help="Node name.")
@click.option("-l", "--loglevel", default="INFO", show_default=True)
def worker(queues: str, concurrency: int | None, name: str, loglevel: str) -> None:
    """Run a Celery worker of the product (plan, submit and poll queues by default)."""
    _checked_settings()
    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    _exec(worker_argv(chosen, concurrency, name, loglevel))


@cli.command()
@click.option("-l", "--loglevel", default="INFO", show_default=True)
def beat(loglevel: str) -> None:
    """Run Celery beat: the sweep, reaper, reconciliation and archive schedules. One per
    installation is enough (a second one only publishes the periodic jobs twice)."""
    settings = _checked_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schedule = settings.data_dir / BEAT_SCHEDULE
    _exec(celery_argv("beat", "-s", str(schedule), "-l", loglevel))


@cli.command()
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5555, show_default=True)
def flower(address: str, port: int) -> None:
    """Run Flower (Celery's monitor) on the product's broker, behind basic authentication
    from DISPATCHER_FLOWER_USER / DISPATCHER_FLOWER_PASSWORD (required off loopback)."""
    settings = _checked_settings()
    env = flower_env(settings, address, os.environ)
    user = settings.flower_user
    shown = f" (basic auth: user {user!r}, password from settings)" if user else " (no auth)"
    _exec(celery_argv("flower", f"--address={address}", f"--port={port}"), env, shown)
