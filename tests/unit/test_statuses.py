"""Statuses only move forward; a final one never changes."""

from __future__ import annotations

import pytest

from dispatcher.domain.statuses import FINAL_STATUSES, BatchState, RecipientStatus


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        (RecipientStatus.QUEUED, RecipientStatus.UNKNOWN),
        (RecipientStatus.UNKNOWN, RecipientStatus.SUBMITTED),
        (RecipientStatus.SUBMITTED, RecipientStatus.DELIVERED),
        (RecipientStatus.SUBMITTED, RecipientStatus.FAILED),
        (RecipientStatus.SUBMITTED, RecipientStatus.EXPIRED),
        (RecipientStatus.QUEUED, RecipientStatus.CANCELLED),
    ],
)
def test_a_later_status_ranks_higher(lower: RecipientStatus, higher: RecipientStatus) -> None:
    assert lower.rank < higher.rank


def test_final_statuses_are_delivered_failed_expired_cancelled() -> None:
    assert {s.value for s in FINAL_STATUSES} == {"delivered", "failed", "expired", "cancelled"}


def test_unknown_and_held_batches_are_not_final_so_an_operator_can_act() -> None:
    assert not BatchState.UNKNOWN.is_final
    assert not BatchState.HELD.is_final
    assert BatchState.DONE.is_final
