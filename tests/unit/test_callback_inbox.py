"""The callback inbox's answer when PostgreSQL cannot take a report: an error the HTTP service
turns into 503, so that the provider calls again, never a report acknowledged and lost."""

from __future__ import annotations

import asyncio
import socket

import pytest

from dispatcher.api.inbox import CallbackInbox
from dispatcher.errors import InboxUnavailableError


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # free once closed: nothing listens there


def test_a_report_that_cannot_be_recorded_raises_inbox_unavailable() -> None:
    async def record_once() -> None:
        inbox = CallbackInbox(f"postgresql://nobody@127.0.0.1:{_closed_port()}/nothing")
        await inbox.start()
        try:
            await asyncio.wait_for(inbox.record("acct", "statut=11"), timeout=20)
        finally:
            await inbox.stop()

    with pytest.raises(InboxUnavailableError):
        asyncio.run(record_once())
