"""Fixtures of the bulkgw sandbox tests: a factory of test clients and its default client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.unit.sandbox.conftest import FakeClock, RecordingSender

from .test_bulkgw_support import Factory, client_factory

if TYPE_CHECKING:
    from starlette.testclient import TestClient


@pytest.fixture
def make(clock: FakeClock, sender: RecordingSender) -> Iterator[Factory]:
    with client_factory(clock, sender) as factory:
        yield factory


@pytest.fixture
def client(make: Factory) -> TestClient:
    return make()
