"""Fixtures of the envoyer sandbox tests: a factory of test clients and its default client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.unit.sandbox.conftest import FakeClock

from .test_envoyer_support import Clients

if TYPE_CHECKING:
    from starlette.testclient import TestClient


@pytest.fixture
def make(clock: FakeClock) -> Iterator[Clients]:
    clients = Clients(clock)
    yield clients
    clients.close()


@pytest.fixture
def client(make: Clients) -> TestClient:
    return make()
