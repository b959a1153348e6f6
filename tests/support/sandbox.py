"""The sandbox's own configuration, one source for the integration and fault suites.

Both suites run the stack with the same Envoyer credentials ("sandbox" / "sandbox-token");
written twice, a change to one suite's copy would leave the other's stack refused.
"""

from __future__ import annotations

from typing import Any


def sandbox_config(request_limit: int, *more_envoyer: dict[str, Any]) -> dict[str, Any]:
    """Any token accepted; Envoyer SMS Pro counting requests per account in a 5 s window (60
    minutes documented), the "sandbox" account allowed ``request_limit`` of them; then any
    further Envoyer accounts a suite needs."""
    sandbox = {
        "login": "sandbox",
        "password": "sandbox-token",
        "account_id": 1,
        "api_request_limit": request_limit,
    }
    return {
        "accept_any_token": True,
        "envoyer": {"window_seconds": 5, "accounts": [sandbox, *more_envoyer]},
    }
