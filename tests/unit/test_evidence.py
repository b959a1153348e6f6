"""A provider's answer kept as evidence comes back as the same answer (services/evidence.py)."""

from __future__ import annotations

from decimal import Decimal

from dispatcher.domain.models import RecipientResult, SendResult
from dispatcher.domain.statuses import Outcome
from dispatcher.services.evidence import Evidence, decode, encode


def test_an_answer_with_per_recipient_results_and_a_balance_round_trips() -> None:
    result = SendResult(
        Outcome.ACCEPTED,
        code="0",
        description="Accepted",
        provider_ref="ref-1",
        http_status=200,
        recipients=(
            RecipientResult("33612345678", Outcome.ACCEPTED, "0", "ok", message_id="m1"),
            RecipientResult("33698765432", Outcome.PERMANENT, "2", "invalid number"),
        ),
        retry_after=1.5,
        balance=Decimal("12.34"),
    )
    kept = Evidence(batch_id=7, attempt=2, worker="host:42", result=result)
    assert decode(encode(kept)) == kept


def test_a_bare_answer_round_trips() -> None:
    kept = Evidence(1, 1, "w", SendResult(Outcome.UNKNOWN, None, "timeout", answered=False))
    assert decode(encode(kept)) == kept
