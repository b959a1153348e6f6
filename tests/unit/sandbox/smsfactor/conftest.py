"""Fixtures of the smsfactor sandbox tests: a factory of test clients and its default client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.unit.sandbox.conftest import FakeClock, RecordingSender

from .test_smsfactor_support import Clients

if TYPE_CHECKING:
    from starlette.testclient import TestClient


@pytest.fixture
def clients(clock: FakeClock, sender: RecordingSender) -> Iterator[Clients]:
    made = Clients(clock, sender)
    yield made
    made.close()


@pytest.fixture
def sf(clients: Clients) -> TestClient:
    return clients()
