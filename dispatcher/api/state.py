"""What the route handlers take from the application, typed: the wiring and the inbox.

``create_app`` puts them on ``app.state``; handlers are plain module-level functions and ask
for what they need here, so no handler closes over another's variables and each route module
can be read, and tested, on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from dispatcher.api.inbox import CallbackInbox
from dispatcher.services.deps import Deps


def install(app: Starlette, deps_factory: Callable[[], Deps], inbox: CallbackInbox) -> None:
    app.state.deps_factory = deps_factory
    app.state.inbox = inbox


def deps(connection: HTTPConnection) -> Deps:
    """This process's wiring; asked for on each request, as the factory may build it lazily."""
    factory = cast(Callable[[], Deps], connection.app.state.deps_factory)
    return factory()


def inbox(where: HTTPConnection | Starlette) -> CallbackInbox:
    """The group-commit writer of pushed reports (a request's, or the app's at its lifespan)."""
    app = where if isinstance(where, Starlette) else where.app
    return cast(CallbackInbox, app.state.inbox)
