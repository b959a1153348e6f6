"""One error style for every command: ``error: <message>`` (and ``hint: ...``) on stderr.

Exit codes: 2 for an error the user can fix in what they asked or configured (every
``DispatcherError``, settings included), 3 for a database or broker that cannot be reached.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import click
import redis
from kombu.exceptions import OperationalError as BrokerOperationalError
from psycopg import OperationalError as PsycopgOperationalError
from sqlalchemy.exc import InterfaceError, OperationalError

from dispatcher.errors import DispatcherError
from dispatcher.services.doctor import where

USER_ERROR = 2
UNREACHABLE = 3


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _endpoint(which: str) -> str | None:
    """The URL the command used, when settings can still be read."""
    try:
        from dispatcher.runtime import resolve_endpoints
        from dispatcher.settings import get_settings

        endpoints = resolve_endpoints(get_settings())
    except DispatcherError:
        return None
    return endpoints.database_url if which == "database" else endpoints.broker_url


def render(exc: BaseException, endpoint: Callable[[str], str | None] = _endpoint) -> int | None:
    """Print ``exc`` in the product's style and return the exit code; None: not ours to print."""
    if isinstance(exc, DispatcherError):
        click.echo(f"error: {exc}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        return USER_ERROR
    if isinstance(exc, OperationalError | InterfaceError | PsycopgOperationalError):
        at = where(endpoint("database"))
        click.echo(f"error: cannot reach PostgreSQL at {at} ({first_line(exc)})", err=True)
        click.echo("hint: check DISPATCHER_DATABASE_URL, or run `dispatcher doctor`", err=True)
        return UNREACHABLE
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | BrokerOperationalError):
        at = where(endpoint("broker"))
        click.echo(f"error: cannot reach the broker at {at} ({first_line(exc)})", err=True)
        click.echo("hint: check DISPATCHER_BROKER_URL, or run `dispatcher doctor`", err=True)
        return UNREACHABLE
    return None
