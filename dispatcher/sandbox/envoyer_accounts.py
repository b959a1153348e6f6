"""Envoyer SMS Pro accounts: authentication, the request-rate limit and the STOP lists.

Balances live in the shared :class:`~dispatcher.sandbox.store.Store` (so ``/_sandbox/reset``
restores them); the rest of an account's live state (rate window, STOP list) lives here and
is dropped when the store replaces the account's object, which is what a reset does.

Choices the document ("Authentification", "Les limites du nombre de requête") leaves open:

- accountid is "obligatoire si plusieurs comptes": a login with one account may omit it; a
  login with several accounts must give it, or authentication fails (error 1). An accountid
  that is not one of the login's accounts fails too.
- ``accept_any_token``: a login absent from the config is accepted with any non-empty
  password, on an account ``accountid`` (default :data:`ANY_ACCOUNT_ID`) holding
  ``any_token_balance`` SMS and ``any_token_api_request_limit``. A configured login still
  needs its password.
- Rate limit: a fixed window per account, opened by the first request and lasting
  ``window_seconds`` (60 minutes); the first request after it opens the next one. Every
  authenticated call counts, whatever its outcome (stats and account/status included).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from dispatcher.sandbox.config import AccountConfig, SandboxConfig
from dispatcher.sandbox.envoyer_config import (
    ANY_ACCOUNT_ID,
    EnvoyerAccount,
    EnvoyerConfig,
)
from dispatcher.sandbox.envoyer_params import Credentials
from dispatcher.sandbox.envoyer_xml import RATE_LIMIT_ERROR_ID, ApiError
from dispatcher.sandbox.store import Account, Store


@dataclass
class Session:
    """An authenticated account and its live state."""

    profile: EnvoyerAccount
    account: Account
    window_start: float | None = None
    window_count: int = 0
    stop_list: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """The store token (``envoyer:LOGIN:ACCOUNTID``)."""
        return self.profile.key

    @property
    def remaining(self) -> int:
        """SMS left, as the answers show it (a whole number)."""
        return int(self.account.balance)


class Accounts:
    """The configured accounts plus those ``accept_any_token`` creates."""

    def __init__(self, config: EnvoyerConfig, sandbox: SandboxConfig, store: Store) -> None:
        self._config = config
        self._store = store
        self._accept_any = sandbox.accept_any_token
        self._any_balance = int(sandbox.any_token_balance)
        self._by_login: dict[str, list[EnvoyerAccount]] = {}
        self._sessions: dict[str, Session] = {}
        for profile in config.accounts:
            self._by_login.setdefault(profile.login, []).append(profile)
            store.declare_account(AccountConfig(profile.key, float(profile.balance)))

    def _resolve(self, creds: Credentials | None) -> EnvoyerAccount | None:
        """The account these credentials designate, without side effects."""
        if creds is None:
            return None
        profiles = self._by_login.get(creds.login)
        if profiles is None:
            if not self._accept_any:
                return None
            password, account_id = creds.candidates[-1]
            account_id = account_id or ANY_ACCOUNT_ID
            return EnvoyerAccount(
                login=creds.login,
                password=password,
                account_id=account_id,
                account_name=f"ACCOUNT{account_id}",
                balance=self._any_balance,
                api_request_limit=self._config.any_token_api_request_limit,
            )
        for password, account_id in creds.candidates:
            if password != profiles[0].password:
                continue
            if account_id is None:
                return profiles[0] if len(profiles) == 1 else None
            return next((p for p in profiles if p.account_id == account_id), None)
        return None

    def key_of(self, creds: Credentials | None) -> str | None:
        """The store token the credentials would authenticate as (fault rule matching)."""
        profile = self._resolve(creds)
        return None if profile is None else profile.key

    def authenticate(self, creds: Credentials | None) -> Session:
        """The session of valid credentials; raises error 1 otherwise."""
        profile = self._resolve(creds)
        account = None if profile is None else self._store.account(profile.key)
        if profile is None or account is None:
            raise ApiError(1)
        return self._session(profile, account)

    def _session(self, profile: EnvoyerAccount, account: Account) -> Session:
        session = self._sessions.get(profile.key)
        if session is None or session.account is not account:
            # First use, or the store was reset (it builds new account objects).
            session = Session(profile, account, stop_list=set(profile.stop_list))
            self._sessions[profile.key] = session
        return session

    def admit(self, session: Session, now: float) -> None:
        """Count one request in the account's window; raises the rate-limit error (HTTP 400)
        when it is over ``api_request_limit``."""
        start = session.window_start
        if start is None or now >= start + self._config.window_seconds:
            session.window_start, session.window_count = now, 0
        session.window_count += 1
        if session.window_count > session.profile.api_request_limit:
            raise ApiError(RATE_LIMIT_ERROR_ID)

    def siblings(self, session: Session) -> Iterator[Session]:
        """Every account of the session's login ("FONCTION LISTE DES COMPTES"), in config
        order; an ``accept_any_token`` login has only the account it used."""
        profiles = self._by_login.get(session.profile.login)
        if profiles is None:
            yield session
            return
        for profile in profiles:
            if profile.key == session.key:
                yield session
                continue
            account = self._store.account(profile.key)
            if account is not None:
                yield self._session(profile, account)
