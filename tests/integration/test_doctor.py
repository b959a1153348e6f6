"""``dispatcher doctor`` through the real entry point, against the session's stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dispatcher.local.embedded import free_port
from dispatcher.local.stack import LocalStack

ENTRY_POINT = Path(sys.executable).with_name("dispatcher")
# Its sandbox account answers 3 requests a window: a balance asked here would take one of them.
SPARED = "DISPATCHER_ACCOUNTS__SANDBOX_ENVOYER_LIMITED__"


def _doctor(
    stack: LocalStack, tmp_path: Path, *args: str, **changed: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    env |= {k: v for k, v in stack.env.items() if not k.startswith(SPARED)}
    env |= changed
    return subprocess.run(
        [str(ENTRY_POINT), "doctor", *args],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _lines(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Each check's line by its name: ``{"database": "ok    database  PostgreSQL ..."}``."""
    checks = json.loads(done.stdout)["checks"]
    return {c["name"]: f"{c['status']} {c['detail']}" for c in checks}


@pytest.fixture(scope="module")
def healthy(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    return _doctor(stack, tmp_path_factory.mktemp("doctor"))


def test_doctor_on_a_running_stack_has_no_fail_and_exits_0(
    healthy: subprocess.CompletedProcess[str],
) -> None:
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    lines = healthy.stdout.splitlines()
    checks = [line for line in lines if not line.startswith(" ")]
    assert checks, healthy.stdout
    assert all(line.split()[0] in ("ok", "warn") for line in checks), healthy.stdout
    names = {line.split()[1] for line in checks}
    assert {"settings", "database", "migrations", "broker", "clock", "workers", "beat"} <= names
    assert "account sandbox-smsmode" in healthy.stdout


def test_doctor_names_the_workers_that_answered_and_the_sandbox(
    healthy: subprocess.CompletedProcess[str],
) -> None:
    assert "answered: worker1@" in healthy.stdout
    smsmode = next(
        line for line in healthy.stdout.splitlines() if "account sandbox-smsmode " in line
    )
    assert "(sandbox)" in smsmode
    assert "balance " in smsmode


def test_a_wrong_token_fails_naming_the_account_and_never_shows_it(
    stack: LocalStack, tmp_path: Path
) -> None:
    # The sandbox's sMsmode takes any token; its Envoyer SMS Pro checks login and password.
    wrong = {"DISPATCHER_ACCOUNTS__SANDBOX_ENVOYER__PASSWORD": "wrong-token-1234"}
    done = _doctor(stack, tmp_path, "--json", **wrong)

    assert done.returncode == 1, done.stdout + done.stderr
    line = _lines(done)["account sandbox-envoyer"]
    assert line.startswith("FAIL "), line
    assert "balance refused" in line
    assert "wrong-token-1234" not in done.stdout + done.stderr


def test_a_database_that_cannot_be_reached_fails_and_exits_1(
    stack: LocalStack, tmp_path: Path
) -> None:
    port = free_port()
    done = _doctor(stack, tmp_path, "--json",
                   DISPATCHER_DATABASE_URL=f"postgresql://x:pw@127.0.0.1:{port}/none")  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    lines = _lines(done)
    assert lines["database"].startswith("FAIL "), lines
    assert f"port {port}" in lines["database"]
    assert "migrations" not in lines  # skipped, not failed a second time
    assert lines["broker"].startswith("ok "), lines
