"""Child processes we start, wait for, and stop by PID (never by name)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a Celery worker finishes its task), then SIGKILL if it lingers."""
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def kill(self) -> None:
        """SIGKILL the process and its children (Celery's pool processes), as a crash would."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_dir: Path,
    ready: Callable[[ManagedProcess], bool],
    timeout: float = 60.0,
) -> ManagedProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    handle = log_path.open("wb")
    popen = subprocess.Popen(  # noqa: S603 (argv built by us)
        list(argv),
        env={**os.environ, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so kill() takes its children too
    )
    handle.close()
    process = ManagedProcess(name, popen, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{name} exited with {popen.returncode}:\n{process.log_tail()}")
        if ready(process):
            return process
        time.sleep(0.1)
    process.stop()
    raise TimeoutError(f"{name} not ready after {timeout}s:\n{process.log_tail()}")


def log_contains(text: str) -> Callable[[ManagedProcess], bool]:
    def check(process: ManagedProcess) -> bool:
        try:
            return text in process.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return False

    return check


def python() -> str:
    return sys.executable
