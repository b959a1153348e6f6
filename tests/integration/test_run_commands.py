"""``dispatcher flower`` and ``dispatcher worker`` start the real thing with the product's
settings; each is stopped by its PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from dispatcher.local.embedded import free_port
from dispatcher.local.stack import LocalStack
from dispatcher.queueing import producer_app
from tests.support.waiting import wait_until

ENTRY_POINT = Path(sys.executable).with_name("dispatcher")


@contextmanager
def _running(
    stack: LocalStack, log: Path, *args: str, **more: str
) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    env |= {**stack.env, **more}
    with log.open("wb") as out:
        process = subprocess.Popen([str(ENTRY_POINT), *args], env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_flower_asks_for_the_credentials_from_settings(stack: LocalStack, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "flower.log"
    auth = {"DISPATCHER_FLOWER_USER": "ops", "DISPATCHER_FLOWER_PASSWORD": "flower-pw-77"}
    with _running(stack, log, "flower", "--port", str(port), **auth) as flower:
        url = f"http://127.0.0.1:{port}/api/workers"

        def answered() -> httpx.Response | None:
            try:
                return httpx.get(url, timeout=2)
            except httpx.TransportError:
                return None

        refused = wait_until(answered, timeout=60, what="flower to listen")
        allowed = httpx.get(url, auth=("ops", "flower-pw-77"), timeout=10)
        shown = Path(f"/proc/{flower.pid}/cmdline").read_bytes().decode()

    assert refused.status_code == 401
    assert allowed.status_code == 200
    assert "flower-pw-77" not in shown  # not on the command line `ps` shows
    assert "flower-pw-77" not in log.read_text()
    assert "running: python -m celery -A workers.app flower" in log.read_text()


def test_a_worker_started_by_the_cli_answers_a_ping(stack: LocalStack, tmp_path: Path) -> None:
    name = f"cli-{os.getpid()}@test"
    log = tmp_path / "worker.log"
    app = producer_app(stack.env["DISPATCHER_BROKER_URL"], 3600)
    try:
        with _running(stack, log, "worker", "-Q", "poll", "-c", "1", "-n", name):

            def pinged() -> bool:
                return bool(app.control.inspect(destination=[name], timeout=1).ping())

            wait_until(pinged, timeout=90, what=f"worker {name} to answer a ping")
    finally:
        app.close()
    assert "-Q poll -n " in log.read_text()
