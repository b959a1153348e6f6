"""Producers' API keys: created under a name and shown once, stored as a digest, revoked.

A key is 32 random bytes, written URL-safe base64 (43 characters); PostgreSQL keeps only the
SHA-256 digest of those characters, so a copy of the database lets nobody call the API. A
request's token is hashed the same way and looked up by digest (persistence.api_keys).

``DISPATCHER_API_TOKENS`` still works, for the local stack, the demo and the tests: those
tokens are hashed once when the HTTP service starts (:func:`settings_keys`), named
``settings:1``, ``settings:2``..., and compared digest to digest in constant time, every one
of them, so the answer's timing tells nothing about how close a guess came.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

from dispatcher.errors import ConfigurationError, NotFoundError
from dispatcher.persistence import api_keys
from dispatcher.persistence.api_keys import ApiKeyRow
from dispatcher.services.deps import Deps
from dispatcher.settings import Settings

KEY_BYTES = 32
SETTINGS_PREFIX = "settings:"
# Names are shown in listings and stored on campaigns: short, printable, no blank.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")

SettingsKeys = tuple[tuple[str, bytes], ...]


def digest(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


def create_key(deps: Deps, name: str) -> str:
    """A new key named ``name``; the caller shows it once: it cannot be read back."""
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigurationError(
            f"API key name {name!r}: 1 to 64 ASCII letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or a digit"
        )
    key = secrets.token_urlsafe(KEY_BYTES)
    with deps.db.transaction() as conn:
        if not api_keys.insert_key(conn, name, digest(key.encode("ascii"))):
            raise ConfigurationError(
                f"an API key named {name!r} exists already (a revoked key keeps its name, so "
                "that campaigns' created_by always means one key); choose another name"
            )
    return key


def list_keys(deps: Deps) -> list[ApiKeyRow]:
    with deps.db.transaction() as conn:
        return api_keys.list_keys(conn)


def revoke_key(deps: Deps, name: str) -> None:
    """Refuse the key from the next request on; its row and name stay."""
    with deps.db.transaction() as conn:
        if not api_keys.revoke(conn, name):
            raise NotFoundError(f"no live API key named {name!r}")


def settings_keys(settings: Settings) -> SettingsKeys:
    """The digests of ``DISPATCHER_API_TOKENS``, named by their place in the list."""
    return tuple(
        (f"{SETTINGS_PREFIX}{n}", digest(token.get_secret_value().encode("utf-8")))
        for n, token in enumerate(settings.api_tokens, start=1)
    )


def identify(deps: Deps, known: SettingsKeys, token: bytes) -> str | None:
    """The name of the live key ``token`` is, or None. Blocking: one indexed query."""
    given = digest(token)
    matched = _settings_match(known, given)
    if matched is not None:
        return matched
    with deps.db.transaction() as conn:
        found = api_keys.active_key(conn, given)
    if found is None or not hmac.compare_digest(found[1], given):
        return None
    return found[0]


def _settings_match(known: Sequence[tuple[str, bytes]], given: bytes) -> str | None:
    """Every digest compared (no early exit), each in constant time."""
    matched = None
    for name, stored in known:
        if hmac.compare_digest(stored, given):
            matched = name
    return matched
