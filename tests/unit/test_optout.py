"""Which SMS we receive are requests to stop."""

from __future__ import annotations

import pytest

from dispatcher.domain.optout import is_stop_request


@pytest.mark.parametrize(
    "text", ["STOP", "stop", "Stop.", "  STOP SMS", "Arrêt", "ARRET merci", "désabonner", "STOPALL"]
)
def test_these_are_stop_requests(text: str) -> None:
    assert is_stop_request(text)


@pytest.mark.parametrize("text", ["", "Merci !", "OK", "Je veux stop", "123", "STOPPED?"])
def test_these_are_not(text: str) -> None:
    assert not is_stop_request(text)
