"""``dispatcher doctor``: is this installation able to send? One check per concern.

Each check is a plain function that returns a :class:`Check`; those that judge facts (clock
skew, migrations, workers, beat, an account) take the facts as arguments, so that they are
tested with plain values, and :func:`run_checks` gathers the facts with short timeouts. A
check that cannot be made (the database is down) says so once; the checks that needed it are
skipped, not failed again. Credentials are never shown: only which ones are missing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dispatcher.settings import ENV_PREFIX, AccountSettings, Settings

Status = Literal["ok", "warn", "FAIL"]

TIMEOUT_SECONDS = 3.0
PING_SECONDS = 2.0
SKEW_WARN_SECONDS = 2.0
SKEW_FAIL_SECONDS = 30.0
# A scheduled campaign this long past its start, never started, means no sweep runs.
OVERDUE_GRACE_SECONDS = 120.0
LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# -- judging facts (pure) ---------------------------------------------------------------------


def settings_read(environ: Mapping[str, str], env_file: Path) -> str:
    """Which variables were read, by name only (values may be secrets): ``ACCOUNTS (38)``."""
    groups: dict[str, int] = {}
    for key in environ:
        if key.upper().startswith(ENV_PREFIX):
            top = key.upper().removeprefix(ENV_PREFIX).split("__", 1)[0]
            groups[top] = groups.get(top, 0) + 1
    listed = ", ".join(f"{k} ({n})" if n > 1 else k for k, n in sorted(groups.items()))
    env = f"{env_file} read" if env_file.is_file() else f"no {env_file.name} file"
    return f"{sum(groups.values())} {ENV_PREFIX}* variables ({listed or 'none'}); {env}"


def migrations_check(current: str | None, head: str) -> Check:
    if current == head:
        return Check("migrations", "ok", f"at head ({head})")
    return Check(
        "migrations",
        "FAIL",
        f"database at {current or 'no revision (empty)'}, code expects {head}",
        "run `dispatcher migrate` (or the stack's migration step) before starting workers",
    )


def skew_check(host: datetime, others: Mapping[str, datetime]) -> Check:
    """The largest difference between this host's clock and each server's."""
    if not others:
        return Check("clock", "warn", "no server clock could be read", "see the lines above")
    gaps = {name: (clock - host).total_seconds() for name, clock in others.items()}
    worst = max(abs(g) for g in gaps.values())
    shown = ", ".join(f"{name} {gap:+.1f} s" for name, gap in gaps.items())
    if worst > SKEW_FAIL_SECONDS:
        status: Status = "FAIL"
    elif worst > SKEW_WARN_SECONDS:
        status = "warn"
    else:
        status = "ok"
    hint = "" if status == "ok" else "synchronise the clocks (NTP): due times are compared"
    return Check("clock", status, f"skew vs this host: {shown}", hint)


def workers_check(answers: Mapping[str, Any] | None) -> Check:
    if not answers:
        return Check(
            "workers", "warn", f"no worker answered a ping within {PING_SECONDS:g} s",
            "start one: `dispatcher worker` (nothing is sent without one)",
        )  # fmt: skip
    names = sorted(answers)
    return Check("workers", "ok", f"{len(names)} answered: {', '.join(names)}")


def beat_check(overdue: tuple[int, datetime] | None, now: datetime) -> Check:
    if overdue is None:
        return Check("beat", "ok", "no scheduled campaign overdue (beat's sweep starts them)")
    campaign_id, send_at = overdue
    late = (now - send_at).total_seconds()
    return Check(
        "beat", "warn",
        f"campaign {campaign_id} was due {late / 60:.0f} min ago ({send_at:%Y-%m-%d %H:%M %Z}) "
        "and has not started",
        "is beat running? `dispatcher beat` (and a worker on the plan queue)",
    )  # fmt: skip


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def account_check(
    account: AccountSettings,
    needs: tuple[str, ...],
    balance: Callable[[], Decimal] | None,
) -> Check:
    """Provider, sandbox or real, credentials present, and the balance where there is one.
    ``needs``: the credential fields the provider uses; ``balance``: None when it has none."""
    where = "sandbox" if is_loopback(account.base_url) else "real"
    detail = f"{account.provider} at {account.base_url} ({where})"
    name = f"account {account.name}"
    missing = [f for f in needs if not _present(getattr(account, f, None))]
    if missing:
        variables = ", ".join(_variable(account.name, f) for f in missing)
        return Check(name, "FAIL", f"{detail}: no {', '.join(missing)}", f"set {variables}")
    if balance is None:
        return Check(name, "ok", f"{detail}; credentials set; no balance endpoint")
    try:
        credit = balance()
    except Exception as exc:  # the provider's answer, whatever it was, is the finding
        return Check(
            name, "FAIL", f"{detail}: balance refused: {exc}",
            "check the account's credentials and base URL (`dispatcher balance "
            f"{account.name}`)",
        )  # fmt: skip
    status: Status = "warn" if credit <= 0 else "ok"
    hint = "top the account up: campaigns are refused without credit" if credit <= 0 else ""
    return Check(name, status, f"{detail}; credentials set; balance {credit}", hint)


def where(url: str | None) -> str:
    """``host:port`` of a URL, never its credentials."""
    if not url:
        return "the configured address"
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port}" if parts.port else host


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == "FAIL" for c in checks) else 0


def _present(value: object) -> bool:
    if value is None:
        return False
    secret = getattr(value, "get_secret_value", None)
    return bool(secret() if secret else value)


def _variable(account: str, field: str) -> str:
    from dispatcher.settings import account_env_var

    return account_env_var(account, field)


def failed(name: str, exc: BaseException, hint: str = "") -> Check:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return Check(name, "FAIL", text[0] if text else type(exc).__name__, hint)


def now_utc() -> datetime:
    return datetime.now(UTC)


def env_file() -> Path:
    return Path(os.getcwd()) / ".env"


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = work()
    return result, time.monotonic() - started


def accounts_of(settings: Settings) -> list[AccountSettings]:
    return [settings.accounts[name] for name in sorted(settings.accounts)]
