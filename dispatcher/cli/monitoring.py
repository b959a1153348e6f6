"""``dispatcher exporter``: the workers' metrics of this host, for Prometheus.

Serves the sums of every worker directory under ``DISPATCHER_METRICS_DIR`` (default
``<data dir>/metrics``): one scrape target per host however many workers run on it. A worker
with ``DISPATCHER_METRICS_PORT`` set serves its own directory itself; this command is for
hosts that prefer one exporter process (or a worker started without the setting).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from types import FrameType

import click

from dispatcher.cli.app import cli
from dispatcher.errors import ConfigurationError
from dispatcher.settings import Settings, get_settings

DEFAULT_PORT = 9808


@cli.command()
@click.option("--host", default=None, help="Address to bind (default: DISPATCHER_METRICS_HOST).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port to serve /metrics on (default: DISPATCHER_METRICS_PORT, else 9808).",
)
def exporter(host: str | None, port: int | None) -> None:
    """Serve the workers' metrics of this host on /metrics until stopped."""
    from dispatcher.metrics.exporter import serve
    from dispatcher.metrics.multiprocess import metrics_root

    settings = get_settings()
    root = metrics_root(settings)
    try:
        bound = serve(
            root, host or settings.metrics_host, port if port is not None else _port(settings)
        )
    except OSError as exc:
        raise ConfigurationError(
            f"cannot serve metrics on {host or settings.metrics_host}:{port}: {exc.strerror}"
        ) from None
    click.echo(
        f"serving the workers' metrics of {root} on "
        f"http://{host or settings.metrics_host}:{bound}/metrics (Ctrl-C stops)"
    )
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


def _port(settings: Settings) -> int:
    return settings.metrics_port if settings.metrics_port is not None else DEFAULT_PORT
