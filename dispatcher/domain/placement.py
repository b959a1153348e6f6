"""What reconciliation asks a provider about a send whose answer never came, and what it learns.

A batch is ``unknown`` when its request may have reached the provider and no answer says
whether it did (a read timeout, a dropped connection, a worker killed mid-request). Before an
operator sees it, the reconciler (``services/reconcile.py``) asks the provider's own records
(docs/design-rules.md 1.11) with a :class:`SubmissionProbe` and gets one :class:`Placement` back:

    Found(provider_ref)        the provider has it: the batch is submitted, polling takes over
    Absent(covered window)     the provider's records cover the whole send window and hold no
                               such submission (two such reads, far enough apart, prove it)
    Undecided(reason)          nothing can be concluded from this read (an error, a list too
                               short, two candidates): ask again later, give up after a while

Adapters never decide what happens to the batch; they only say what the records show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime


def no_request_limit() -> bool:
    """The default ``SubmissionProbe.take_slot``: every further request may go."""
    return True


@dataclass(frozen=True)
class SubmissionProbe:
    """Everything an adapter needs to recognise one batch's request in the provider's records.

    ``sent_after``/``sent_before`` bound when the provider can have recorded the request: from
    the moment it was marked as being sent to the moment the batch became unknown (the
    request had surely ended by then). ``msisdns`` are the numbers the request carried.
    ``text`` is None when the request carried one text per recipient (sMsmode's batch file).
    ``recent_sends`` counts the account's requests started since ``sent_after`` (how far back
    a "last N messages" list must reach); ``taken_refs`` are provider references that belong
    to other batches already, so never this one.

    ``ref_before`` is the highest numeric reference the account was answered before
    ``sent_after``, ``ref_after`` the lowest one of its requests started after ``sent_before``
    (None when there is none): the neighbours of a provider numbering its messages in order
    (Envoyer SMS Pro's gap walk). ``take_slot`` is asked before each request of a look after
    its first (which the reconciler has already paid for); False means the account's request
    limit has no slot left now, and the look ends with what it has learnt.
    """

    batch_id: int
    client_ref: str
    text: str | None
    msisdns: Sequence[str]
    sent_after: datetime
    sent_before: datetime
    recent_sends: int = 0
    taken_refs: frozenset[str] = frozenset()
    ref_before: str | None = None
    ref_after: str | None = None
    take_slot: Callable[[], bool] = field(default=no_request_limit, compare=False, repr=False)


@dataclass(frozen=True)
class Found:
    """The provider recorded the request under ``provider_ref``; ``message_ids`` maps numbers
    to per-recipient ids where the provider has them."""

    provider_ref: str
    detail: str = ""
    message_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Absent:
    """The provider's records from ``covered_from`` to ``covered_to`` hold no such request."""

    covered_from: datetime
    covered_to: datetime
    detail: str = ""


@dataclass(frozen=True)
class Undecided:
    """This read proves nothing either way."""

    reason: str


Placement = Found | Absent | Undecided
