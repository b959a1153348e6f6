"""Hosts for a multi-host benchmark on one machine: network namespaces on a private bridge.

Each host is a network namespace (``ip netns``) with one veth into a Linux bridge; the
machine itself (the "host side", where PostgreSQL and Redis listen) holds the bridge's
address. Every namespace is in the same /24, so hosts reach each other and the host side
through the bridge (layer 2): no IP forwarding, no NAT, no firewall rule, nothing changed
outside what this module creates. A command runs on a host through ``ip netns exec`` and
``unshare --uts`` with the host's own hostname, so a process there is what it would be on a
machine of its own: its own addresses, its own ``socket.gethostname()``. Both exec, so the
PID a caller gets is the command's own.

Several runs can share the machine: each takes a free *slot* (a lock file held for the run),
and a slot's names (``dmh<slot>-...``) and subnet (``10.213.<slot>.0/24``) are its own.
A slot whose lock is free but whose names still exist was left by a run that died: its
namespaces' processes (listed by ``ip netns pids``) are killed by PID, its processes on the
host side (a PID file with their start times, so a recycled PID is never hit) too, and its
namespaces and bridge are deleted, and the temp dirs it recorded removed, before the slot is
used again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import psutil

STATE_DIR = Path("/tmp/dispatcher-multihost")  # noqa: S108 (lock and PID files, root only)
SLOTS = 16
HOST_SIDE = 1  # the bridge's address in the slot's /24
FIRST_HOST = 10  # hosts take .10, .11, ...


class HostsUnavailableError(RuntimeError):
    """Namespaces cannot be made here (not root, no CAP_NET_ADMIN, no iproute2)."""


@dataclass(frozen=True)
class Host:
    name: str  # "w1"
    netns: str  # "dmh0-w1"
    address: str  # "10.213.0.11"

    @property
    def hostname(self) -> str:
        return self.netns

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run on this host: its network namespace and its own hostname."""
        return [
            "ip",
            "netns",
            "exec",
            self.netns,
            "unshare",
            "--uts",
            "--",
            "sh",
            "-c",
            'hostname "$0" && exec "$@"',
            self.hostname,
            *argv,
        ]


def _ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    argv = ["ip", *(["-n", netns] if netns else []), *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def namespaces_permitted() -> str | None:
    """None when this process may create network namespaces, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root (or CAP_NET_ADMIN and CAP_SYS_ADMIN)"
    probe = f"dmh-probe-{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except FileNotFoundError:
        return "iproute2's `ip` is not installed"
    except RuntimeError as exc:
        return f"`ip netns add` is not permitted here: {exc}"
    _ip("netns", "del", probe, check=False)
    return None


class Hosts:
    """Namespaces ``names`` on a bridge, the host side at ``.1``; removed on exit.

    ``record(pid)`` notes a process started on the host side, so that a later run can stop
    it if this one dies without its ``finally``.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.slot = -1
        self.hosts: dict[str, Host] = {}
        self._lock: IO[str] | None = None

    @property
    def prefix(self) -> str:
        return f"dmh{self.slot}"

    @property
    def subnet(self) -> str:
        return f"10.213.{self.slot}"

    @property
    def host_side(self) -> str:
        """The machine's own address on the bridge (PostgreSQL and Redis listen there)."""
        return f"{self.subnet}.{HOST_SIDE}"

    @property
    def cidr(self) -> str:
        return f"{self.subnet}.0/24"

    @property
    def bridge(self) -> str:
        return f"{self.prefix}br"

    def __enter__(self) -> Hosts:
        reason = namespaces_permitted()
        if reason:
            raise HostsUnavailableError(reason)
        self._take_slot()
        try:
            self._create()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def record(self, pid: int) -> None:
        with self._pid_file.open("a") as out:
            out.write(f"{pid} {psutil.Process(pid).create_time()}\n")

    def record_dir(self, path: Path) -> None:
        """A temp dir of the run, removed by a later run if this one dies before removing it."""
        with self._dir_file.open("a") as out:
            out.write(f"{path}\n")

    # -- setting up and removing ----------------------------------------------------------

    def _take_slot(self) -> None:
        STATE_DIR.mkdir(mode=0o700, exist_ok=True)
        for slot in range(SLOTS):
            handle = (STATE_DIR / f"slot{slot}.lock").open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.slot, self._lock = slot, handle
            self._remove_leftovers()
            self._remove_recorded_dirs()
            return
        raise HostsUnavailableError(f"all {SLOTS} slots are in use ({STATE_DIR})")

    @property
    def _pid_file(self) -> Path:
        return STATE_DIR / f"slot{self.slot}.pids"

    @property
    def _dir_file(self) -> Path:
        return STATE_DIR / f"slot{self.slot}.dirs"

    def _create(self) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.host_side}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for index, name in enumerate(self.names):
            host = Host(name, f"{self.prefix}-{name}", f"{self.subnet}.{FIRST_HOST + index}")
            _ip("netns", "add", host.netns)
            self.hosts[name] = host
            peer = ("peer", "name", "eth0", "netns", host.netns)
            _ip("link", "add", host.netns, "type", "veth", *peer)
            _ip("link", "set", host.netns, "master", self.bridge, "up")
            _ip("addr", "add", f"{host.address}/24", "dev", "eth0", netns=host.netns)
            _ip("link", "set", "eth0", "up", netns=host.netns)
            _ip("link", "set", "lo", "up", netns=host.netns)

    def remove(self) -> None:
        """Everything of this slot: processes left in its namespaces, the namespaces (their
        veths go with them), the bridge, host-side processes recorded; then the slot's lock."""
        if self.slot < 0:
            return
        self._remove_leftovers()
        self._dir_file.unlink(missing_ok=True)  # the caller removes its own dirs
        self.hosts.clear()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _remove_recorded_dirs(self) -> None:
        if self._dir_file.exists():
            for line in self._dir_file.read_text().splitlines():
                shutil.rmtree(line, ignore_errors=True)
            self._dir_file.unlink()

    def _remove_leftovers(self) -> None:
        prefix = f"{self.prefix}-"
        namespaces = [line.split()[0] for line in _ip("netns", "list").splitlines() if line]
        for netns in namespaces:
            if netns.startswith(prefix):
                for pid in _ip("netns", "pids", netns, check=False).split():
                    _kill(int(pid))
                _ip("netns", "del", netns, check=False)
        _stop_recorded(self._pid_file)
        links = _ip("-o", "link", "show").splitlines()
        for line in links:
            name = line.split(":")[1].strip().split("@")[0]
            if name == self.bridge or name.startswith(prefix):
                _ip("link", "del", name, check=False)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _stop_recorded(pid_file: Path) -> None:
    """Processes an earlier run of this slot recorded and did not stop: each PID only if the
    process with it still has the start time recorded (else the PID was reused)."""
    if not pid_file.exists():
        return
    for line in pid_file.read_text().splitlines():
        pid, started = line.split()
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(int(pid))
            if abs(process.create_time() - float(started)) < 0.01:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except psutil.TimeoutExpired:
                    process.kill()
    pid_file.unlink()


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """SIGTERM (and SIGHUP) raise SystemExit while inside, so ``finally`` blocks still remove
    what the run made; Ctrl-C already raises KeyboardInterrupt."""

    def _exit(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, _exit) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Call ``check`` every 0.1 s until it is true; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout}s")
