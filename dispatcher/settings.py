"""All settings, from environment variables prefixed ``DISPATCHER_`` or a ``.env`` file.

Nested values use ``__``: ``DISPATCHER_ACCOUNTS__SMSMODE_MAIN__BASE_URL`` sets the base URL of
the account that code calls ``"smsmode-main"`` (account names are lower-case, and ``_`` and
``-`` are the same character in them). Secrets are ``SecretStr``: they never print.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatcher.errors import ConfigurationError

ENV_PREFIX = "DISPATCHER_"


def canonical_account(name: str) -> str:
    """``SMSMODE_MAIN``, ``smsmode_main`` and ``smsmode-main`` all name one account."""
    return name.strip().lower().replace("_", "-")


def account_env_var(account: str, field: str) -> str:
    return f"{ENV_PREFIX}ACCOUNTS__{account.upper().replace('-', '_')}__{field.upper()}"


class AccountSettings(BaseModel):
    """One provider account. Credentials a provider does not use stay empty."""

    name: str = ""
    provider: str  # a key of dispatcher.providers.registry.REGISTRY
    base_url: str
    access_token: SecretStr | None = None  # sMsmode
    username: str | None = None  # Envoyer SMS Pro login, SMSFactor, bulk gateway
    password: SecretStr | None = None
    account_id: str | None = None  # Envoyer SMS Pro multi-account
    method: Literal["GET", "POST"] | None = None  # None: the provider's default for bulk
    batch_size: int | None = Field(default=None, ge=1)  # None: the product's default per method
    rate_limit: str | None = None  # "20/second", "100 per 60 minutes"; None: provider default
    callback_secret: SecretStr | None = None  # part of the callback URL given to the provider
    default_region: str = "FR"
    timezone: str = "Europe/Paris"  # for provider-side dates such as sMsmode's date_envoi
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    # Marketing campaigns: the STOP mention appended when the provider adds none itself (e.g.
    # "STOP au 36180"), the send window ("Mon-Sat 08:00-20:00 Europe/Paris holidays=FR" when
    # unset), and what one SMS part costs in the provider's credits (for estimates).
    stop_text: str | None = None
    send_window: str | None = None
    credits_per_sms: float = Field(default=1.0, gt=0)
    # Refuse campaigns the provider's balance cannot cover (asked at most once a minute).
    check_balance: bool = True
    # Provider-specific settings, validated by the provider's adapter (see its ``Options``):
    # DISPATCHER_ACCOUNTS__<NAME>__OPTIONS__<KEY>.
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("provider")
    @classmethod
    def _provider(cls, value: str) -> str:
        """One of the registered adapters. The registry is read here, when an account is
        validated, not at import: the adapters import this module."""
        from dispatcher.providers.registry import REGISTRY

        if value not in REGISTRY:
            raise ValueError(f"unknown provider {value!r}; known: {', '.join(sorted(REGISTRY))}")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    def secret(self, field: Literal["access_token", "password", "callback_secret"]) -> str:
        value: SecretStr | None = getattr(self, field)
        if value is None or not value.get_secret_value():
            raise ConfigurationError(
                f"account {self.name!r} ({self.provider}) needs {field}: "
                f"set {account_env_var(self.name, field)}"
            )
        return value.get_secret_value()

    def required(self, field: Literal["username", "account_id"]) -> str:
        value: str | None = getattr(self, field)
        if not value:
            raise ConfigurationError(
                f"account {self.name!r} ({self.provider}) needs {field}: "
                f"set {account_env_var(self.name, field)}"
            )
        return value


class Timings(BaseModel):
    """How long things wait. Every wait lives in PostgreSQL as a due time, not in the broker."""

    # ``submit_max_attempts`` is deprecated and unused: a transient answer proves nothing was
    # sent, so it is no longer counted and never holds a batch; ``send_deadline_hours`` bounds
    # the wait instead. Still accepted so that existing environments keep starting.
    submit_max_attempts: int = Field(default=6, ge=1)
    # The backoff after a transient answer or a failed poll (services/pacing.py::backoff).
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_cap_seconds: float = Field(default=300.0, gt=0)
    # How long after its start a campaign's batches may keep waiting on a provider that answers
    # "not now" (transient); then their recipients fail with the provider's last answer. A
    # batch waiting for its send window or for the request-rate limit is never failed by it.
    send_deadline_hours: float = Field(default=24.0, gt=0)
    # In-process retries only for failures proving nothing was sent (connection refused...).
    nothing_sent_retry_seconds: float = Field(default=3.0, ge=0)
    # Recovery after a crash (docs/architecture.md, "Timings"). A claim lives from ``claim`` to
    # ``mark_sending``: no HTTP in between but the bounded rate-limit question
    # (services/limits.py ASK_SECONDS, about 3 s at worst), so 6 s is twice that, and a dead
    # worker's claim is back in work within lease + reap interval (8 s). A claim that outlives
    # its lease only loses its batch to another worker (``mark_sending`` fails): never a
    # duplicate. The send lease is the account's timeouts plus this margin plus
    # ``db_retry_seconds``.
    claim_lease_seconds: float = Field(default=6.0, gt=0)
    send_lease_margin_seconds: float = Field(default=5.0, gt=0)
    # How long the write recording a provider's answer (and a claim, a poll's reports) is
    # retried while PostgreSQL is unreachable (a restart takes seconds); the send lease includes
    # it, so the reaper never guesses "unknown" for a batch whose answer is still being written.
    db_retry_seconds: float = Field(default=20.0, ge=0)
    # A pending batch's message is assumed lost this long after it was published. A wiped
    # Redis is noticed at the next sweep instead (its marker key is gone), and a dead worker's
    # claim is published by the reaper, so this is the last resort: for a Redis restored from
    # an old snapshot or a publish that failed. Each waiting batch in a deep queue gets one
    # extra wake-up per period, hence not shorter.
    republish_after_seconds: float = Field(default=60.0, gt=0)
    # Fairness (docs/architecture.md, "Fairness"): at most this many of one campaign's batches
    # wait in the submit queue; each claim publishes the campaign's next one. A new campaign's
    # batch is then behind at most this many per running campaign, never a whole big one.
    # Measured at 300,000 recipients, 3 submit processes (single runs): 4 sent them in
    # 11.6-12.7 s, 8 in 10.2 s, 16 in 10.4-10.7 s (the workers then never wait for a claim to
    # publish); the 100-recipient campaign beside it took 0.25-0.36, 0.34 and 0.62-0.77 s.
    queued_batches_per_campaign: int = Field(default=8, ge=1)
    sweep_interval_seconds: float = Field(default=2.0, gt=0)
    reap_interval_seconds: float = Field(default=2.0, gt=0)
    poll_first_delay_seconds: float = Field(default=10.0, ge=0)
    poll_growth: float = Field(default=2.0, ge=1)
    poll_max_interval_seconds: float = Field(default=3600.0, gt=0)
    # None: the provider's own horizon (sMsmode keeps reports 30 days).
    poll_horizon_hours: float | None = Field(default=None, gt=0)
    # A published poll's next poll time moves this far ahead; a poll whose message was lost
    # (its worker died) is published again after it: lease + sweep interval = 12 s. A poll
    # slower than the lease may be read twice, which changes nothing (reports only move
    # forward, and both reads take rate-limit slots and answer to the breaker).
    poll_lease_seconds: float = Field(default=10.0, gt=0)
    task_time_limit_seconds: int = Field(default=300, gt=0)
    # Pushed reports are applied from the inbox this often, once they are this old (so no
    # earlier id can still be committing behind them).
    callback_drain_interval_seconds: float = Field(default=1.0, gt=0)
    callback_settle_seconds: float = Field(default=1.0, ge=0)
    # The circuit breaker per provider account (dispatcher/breaker.py): it opens after this
    # many answers proving nothing was sent, each within the window of the previous one; then
    # one probe goes out after the base wait, the wait growing to the maximum while probes
    # fail. A 2-hour outage costs about threshold + 4 + 120 requests with the defaults.
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_failure_window_seconds: float = Field(default=60.0, gt=0)
    breaker_probe_base_seconds: float = Field(default=5.0, gt=0)
    breaker_probe_growth: float = Field(default=2.0, ge=1)
    breaker_probe_max_seconds: float = Field(default=60.0, gt=0)
    # Reconciliation of unknown outcomes (services/reconcile.py): beat looks this often; a
    # batch is reserved this long by the reconciler that took it; "absent" needs two reads of
    # the provider's records at least ``reconcile_confirm_seconds`` apart; a read that proves
    # nothing is repeated after ``reconcile_retry_seconds``, doubling to ten times that; after
    # ``reconcile_give_up_hours`` the batch is left to its operator (unplaced).
    reconcile_interval_seconds: float = Field(default=5.0, gt=0)
    reconcile_lease_seconds: float = Field(default=60.0, gt=0)
    reconcile_confirm_seconds: float = Field(default=60.0, ge=0)
    reconcile_retry_seconds: float = Field(default=30.0, gt=0)
    reconcile_give_up_hours: float = Field(default=6.0, gt=0)
    # Pushed reports naming a message id no recipient has are kept this long for the
    # reconciler (services/reconcile_pushed.py); keep it above every REPORT_HORIZON_HOURS.
    pushed_report_retention_hours: float = Field(default=72.0, gt=0)
    # How often beat archives the campaigns past ``retention_days`` (off unless that is set).
    archive_interval_seconds: float = Field(default=600.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        case_sensitive=False,
    )

    # None: start an embedded server (see dispatcher.local) under ``data_dir``.
    database_url: str | None = None
    broker_url: str | None = None
    data_dir: Path = Path(".dispatcher")
    accounts: dict[str, AccountSettings] = Field(default_factory=dict)
    # Public base URL of the HTTP service, used to build provider callback URLs.
    callback_base_url: str | None = None
    api_tokens: list[SecretStr] = Field(default_factory=list)
    # Basic authentication of ``dispatcher flower`` (it shows every task and can revoke them);
    # without both, Flower only starts on a loopback address.
    flower_user: str | None = None
    flower_password: SecretStr | None = None
    timings: Timings = Field(default_factory=Timings)
    visibility_timeout_seconds: int = Field(default=3600, gt=0)
    log_level: str = "INFO"
    # "json": one JSON object a line (time, level, logger, message, process, and campaign_id /
    # batch_id / task when known), for log collectors; secrets are redacted either way.
    log_format: Literal["text", "json"] = "text"
    # Prometheus (dispatcher/metrics): the port of a worker's exporter of its pool's metrics
    # (unset: none; ``dispatcher exporter`` serves them instead), bound on ``metrics_host``;
    # and where the pool processes write them (None: ``data_dir``/metrics), one directory per
    # worker node under it, wiped when that worker starts.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_dir: Path | None = None
    # Retention (services/retention.py): a done or cancelled campaign finished more than
    # ``retention_days`` ago is archived (its recipients and events exported to ``archive_dir``,
    # then their partitions dropped; the campaign row stays), at most ``archive_per_run`` per
    # beat run (every ``timings.archive_interval_seconds``). None: keep everything.
    retention_days: float | None = Field(default=None, gt=0)
    archive_dir: Path | None = None  # None: ``data_dir``/archives
    archive_per_run: int = Field(default=5, ge=1)

    @property
    def archives(self) -> Path:
        return self.archive_dir or self.data_dir / "archives"

    @field_validator("accounts")
    @classmethod
    def _name_accounts(cls, accounts: dict[str, AccountSettings]) -> dict[str, AccountSettings]:
        named = {}
        for key, account in accounts.items():
            name = canonical_account(key)
            named[name] = account.model_copy(update={"name": name})
        return named

    def account(self, name: str) -> AccountSettings:
        found = self.accounts.get(canonical_account(name))
        if found is None:
            known = ", ".join(sorted(self.accounts)) or "none"
            raise ConfigurationError(
                f"no account {name!r} is configured (configured: {known}); "
                f"set {account_env_var(canonical_account(name), 'provider')} and "
                f"{account_env_var(canonical_account(name), 'base_url')}"
            )
        return found


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings, turning pydantic's errors into one that names variables."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            path = "__".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{ENV_PREFIX}{path}: {err['msg']}")
        raise ConfigurationError("invalid settings:\n  " + "\n  ".join(lines)) from None


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Settings as a process started with ``env`` would read them (used by the local stack's
    own process to see what its workers see). Other DISPATCHER_* variables are ignored."""
    saved = {k: v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}
    try:
        for key in saved:
            del os.environ[key]
        os.environ.update(env)
        return load_settings(_env_file=None)
    finally:
        for key in [k for k in os.environ if k.upper().startswith(ENV_PREFIX)]:
            del os.environ[key]
        os.environ.update(saved)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Services take settings as arguments instead."""
    return load_settings()
