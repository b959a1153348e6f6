"""The workers' exporter: the sums of the pool processes' metric files, served over HTTP.

Two ways to run it, same output:

* inside a worker (``DISPATCHER_METRICS_PORT`` set): a thread of the worker's main process
  serves that worker's own directory; it never records anything itself;
* ``dispatcher exporter --port N``: a process of its own serving every worker directory under
  ``DISPATCHER_METRICS_DIR`` (several workers on one host, one scrape target).

Worker metrics only: the state side (campaigns, batches, queues) is served once, by the HTTP
service's ``/metrics``, so that two exporters never report the same gauge twice.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class DirectoriesCollector(Collector):
    """The sums over every ``*.db`` file of ``root`` and of its worker subdirectories."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def collect(self) -> Iterable[Any]:
        files = glob.glob(os.path.join(self.root, "*.db"))
        files += glob.glob(os.path.join(self.root, "*", "*.db"))
        merged: Iterable[Any] = MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        return merged


def registry_for(path: Path) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DirectoriesCollector(path))
    return registry


def serve(path: Path, host: str, port: int) -> int:
    """Serve ``path``'s metrics on ``host:port`` in a daemon thread; the port bound (useful
    with port 0)."""
    path.mkdir(parents=True, exist_ok=True)
    server, _thread = start_http_server(port, addr=host, registry=registry_for(path))
    bound = int(server.server_address[1])
    log.info("metrics exporter on http://%s:%s/metrics (from %s)", host, bound, path)
    return bound
