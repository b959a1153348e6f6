"""One error style through the real entry point: ``error: ...`` on stderr, exit 2 for what the
user can fix, exit 3 for a server that cannot be reached, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dispatcher.local.embedded import free_port
from dispatcher.local.servers import ServerUrls
from dispatcher.persistence.database import Database
from tests.integration.helpers import plain_mobiles

ENTRY_POINT = Path(sys.executable).with_name("dispatcher")

# An account nothing is ever sent to: validation refuses the campaign before any request.
ACCOUNT = {
    "DISPATCHER_ACCOUNTS__OFFLINE__PROVIDER": "smsmode",
    "DISPATCHER_ACCOUNTS__OFFLINE__BASE_URL": "http://127.0.0.1:9",
    "DISPATCHER_ACCOUNTS__OFFLINE__ACCESS_TOKEN": "never-sent",
    "DISPATCHER_ACCOUNTS__OFFLINE__CHECK_BALANCE": "false",
}


def _cli(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    return subprocess.run(
        [str(ENTRY_POINT), *args],
        env=clean | env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def env(database: Database, servers: ServerUrls) -> dict[str, str]:
    return {"DISPATCHER_DATABASE_URL": database.url, "DISPATCHER_BROKER_URL": servers.redis_url}


def test_an_unknown_campaign_is_one_error_line_with_exit_2(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = _cli(tmp_path, env, "status", "987654")

    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "987654" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_csv_lists_its_problems_grouped_by_reason_with_exit_2(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = [f"12{n}" for n in range(40)]
    rows = ["number", *plain_mobiles(5), *bad, "not a number"]
    csv = tmp_path / "list.csv"
    csv.write_text("\n".join(rows) + "\n")

    done = _cli(tmp_path, env | ACCOUNT, "enqueue", "--account", "offline", "--text", "Hi",
                "--recipients", str(csv))  # fmt: skip

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: campaign rejected, 41 problem(s):")
    grouped = [line for line in done.stderr.splitlines() if " rows (rows " in line]
    assert len(grouped) == 1, done.stderr  # 40 bad numbers of one reason: one line, not 40
    assert "40 rows (rows 6, 7, 8, ...: '120', '121', '122', ...)" in grouped[0]
    assert "row 46: recipients: unparsable ('not a number')" in done.stderr  # on its own
    assert "Traceback" not in done.stderr


def test_an_unreachable_database_names_its_address_with_exit_3(
    servers: ServerUrls, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "DISPATCHER_DATABASE_URL": f"postgresql://someone:pw@127.0.0.1:{port}/nothing",
        "DISPATCHER_BROKER_URL": servers.redis_url,
    }

    done = _cli(tmp_path, env, "status", "1")

    assert done.returncode == 3
    assert done.stderr.startswith(f"error: cannot reach PostgreSQL at 127.0.0.1:{port} (")
    assert "pw@" not in done.stderr
    assert "Traceback" not in done.stderr
