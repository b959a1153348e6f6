"""Builds the sandbox ASGI application: shared context, provider emulators, admin API.

Adding a provider means writing one :class:`~dispatcher.sandbox.context.ProviderEmulator`
subclass and listing it in :data:`EMULATORS`; the store, timeline, fault rules, callback
dispatcher and admin API are shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette

from dispatcher.sandbox.admin import AdminApi
from dispatcher.sandbox.bulkgw import BulkgwEmulator
from dispatcher.sandbox.callbacks import CallbackDispatcher, Sender
from dispatcher.sandbox.config import SandboxConfig
from dispatcher.sandbox.context import Clock, ProviderEmulator, SandboxContext
from dispatcher.sandbox.envoyer import EnvoyerEmulator
from dispatcher.sandbox.faults import FaultInjector
from dispatcher.sandbox.smsfactor import SmsfactorEmulator
from dispatcher.sandbox.smsmode import SmsmodeEmulator
from dispatcher.sandbox.store import Store
from dispatcher.sandbox.timeline import Timeline

EMULATORS: tuple[type[ProviderEmulator], ...] = (
    SmsmodeEmulator,
    EnvoyerEmulator,
    SmsfactorEmulator,
    BulkgwEmulator,
)


def build_context(
    config: SandboxConfig,
    clock: Clock | None = None,
    callback_sender: Sender | None = None,
    emulators: Sequence[type[ProviderEmulator]] = EMULATORS,
) -> SandboxContext:
    """The shared state, with the config's fault rules installed."""
    now = clock or time.time
    store = Store(config)
    endpoints = {e.name: frozenset(e.endpoints) for e in emulators}
    faults = FaultInjector(endpoints, seed=config.fault_seed)
    for raw in config.faults:
        faults.add(raw)
    return SandboxContext(
        config=config,
        clock=now,
        store=store,
        timeline=Timeline(config.timeline),
        faults=faults,
        callbacks=CallbackDispatcher(config.callbacks, now, store, callback_sender),
    )


def create_app(
    config: SandboxConfig | None = None,
    *,
    clock: Clock | None = None,
    callback_sender: Sender | None = None,
    emulators: Sequence[type[ProviderEmulator]] = EMULATORS,
) -> Starlette:
    """The sandbox application.

    ``clock`` (seconds since the epoch) and ``callback_sender`` are for tests: a fake clock
    moves reports forward without sleeping, a fake sender records callbacks. The callback
    loop runs only while the application's lifespan is active (uvicorn, or a ``TestClient``
    used as a context manager); without it, ``app.state.sandbox.callbacks.drain()`` sends
    what is due. ``app.state.sandbox`` is the :class:`SandboxContext`. ``emulators`` lets a
    test build an app with only the providers it exercises.
    """
    ctx = build_context(config or SandboxConfig(), clock, callback_sender, emulators)
    instances = {cls.name: cls(ctx) for cls in emulators}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(ctx.callbacks.run(), name="sandbox-callbacks")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [route for emulator in instances.values() for route in emulator.routes()]
    routes += AdminApi(ctx, instances).routes()
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = ctx
    return app
