"""How a task's end reads in Flower and in the worker log.

With ``task_ignore_result`` and no result backend, Flower builds its task list from the
workers' events only: ``task-succeeded`` carries the returned string, ``task-failed`` the
raised exception's repr. So what a task returns or raises is the operator's whole view of it.

Decisions:

* A batch that stops for an operator (``unknown``, ``held``) or whose recipients failed
  (``failed``), a poll that could not read the reports, and a plan of a campaign that does not
  exist end in a raised :class:`TaskOutcomeError`: FAILURE in Flower, with the reason. Each task
  lists it in ``throws=``, so Celery logs it at INFO without a traceback. Nothing is retried or
  re-sent because of it: the service committed the state change before the task raises, and a
  task that raises is acknowledged (``task_acks_on_failure_or_timeout``, Celery's default, kept
  True in workers/app.py: with late acks a rejected message would be redelivered, and only the
  database claim would stop a second send).
* Waits are not failures: outside the send window, rate-limited, paced by the account's circuit
  breaker, a transient answer retried later. They stay SUCCESS, and the result names the wait
  and its end. Celery's RETRY state is not used: it re-publishes the message (a countdown task
  on the Redis broker, design rule 1.5), while our sweep already re-publishes what is due.
* Every result starts ``campaign <id> batch <id>: <outcome>`` (a plan: ``campaign <id>: <n>
  batches``), so Flower's list can be searched by campaign; the rest comes from the batch's
  row as the service left it (``last_message``, due time), the text ``dispatcher batch show``
  prints. Task arguments stay ids only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from dispatcher.errors import DispatcherError, NotFoundError
from dispatcher.persistence import batches, campaigns
from dispatcher.services.deps import Deps
from dispatcher.services.submit import SubmitStep
from dispatcher.services.track import PollStep

log = logging.getLogger(__name__)


class TaskOutcomeError(DispatcherError):
    """A task whose work did not succeed, already recorded in PostgreSQL; raised only so that
    Celery and Flower report FAILURE. It lives here, not in dispatcher/errors.py, because the
    library never raises it: it is how the workers tell Celery, and nothing catches it."""


class BatchNotSubmittedError(TaskOutcomeError):
    """A submit that ended unknown, held or failed."""


class PollFailedError(TaskOutcomeError):
    """A poll that could not read the batch's reports; it is read again after a backoff."""


class PlanRefusedError(TaskOutcomeError):
    """A plan for a campaign that cannot be planned (it does not exist)."""


# Ended without the recipients being sent or placed: an operator, or their failure, is next.
NOT_SUBMITTED = frozenset({SubmitStep.UNKNOWN, SubmitStep.HELD, SubmitStep.FAILED})
# Nothing was sent and the batch is due again at ``due_at``: the sweep publishes it then.
WAITS = frozenset(
    {SubmitStep.OUTSIDE_WINDOW, SubmitStep.RATE_LIMITED, SubmitStep.PACED, SubmitStep.RETRY}
)

_NEXT_STEP = {
    SubmitStep.UNKNOWN: "may have been sent; never re-sent on its own",
    SubmitStep.HELD: "nothing sent; waits for an operator",
    SubmitStep.FAILED: "its recipients failed",
}
_SAYS = {
    SubmitStep.NOT_CLAIMABLE: "already claimed or settled, a repeated wake-up",
    SubmitStep.EMPTY: "no recipient left to send",
    SubmitStep.LOST_CLAIM: "its claim ended before the send; another worker takes it",
}


@dataclass(frozen=True)
class BatchNote:
    """What the batch's row says after the service returned."""

    campaign_id: int | None  # None: the batch no longer exists (archived)
    message: str | None  # last_message: the provider's answer, the hold's or the wait's reason
    due_at: datetime | None
    poll_failures: int = 0  # asked for by a failed poll only


def batch_note(deps: Deps, batch_id: int, *, failures: bool = False) -> BatchNote:
    """One read by primary key after the service committed: the campaign id and the reason as
    recorded, rather than a second account of them built in the task. ``failures``: also the
    failed polls in a row (a failed poll leaves the batch submitted)."""
    try:
        with deps.db.transaction() as conn:
            found = batches.get_batch(conn, batch_id)
            target = batches.poll_target(conn, batch_id) if failures and found else None
    except SQLAlchemyError:  # the work is committed: a failed description must not undo it
        log.warning("could not read batch %s to describe its task", batch_id, exc_info=True)
        return BatchNote(None, None, None)
    if found is None:
        return BatchNote(None, None, None)
    failed = target.poll_failures if target is not None else 0
    return BatchNote(found.campaign_id, found.last_message, found.due_at, failed)


def campaign_state(deps: Deps, campaign_id: int) -> str | None:
    """A campaign's state, or None when it does not exist: why a plan created nothing."""
    with deps.db.transaction() as conn:
        try:
            return campaigns.get_campaign(conn, campaign_id).state.value
        except NotFoundError:
            return None


def submit_result(batch_id: int, step: SubmitStep, note: BatchNote) -> str:
    """The result of a submit that succeeded or waits; raises BatchNotSubmittedError otherwise."""
    head = f"{_batch(batch_id, note)}: {step.value}"
    if step in NOT_SUBMITTED:
        detail = f"{note.message or 'no answer recorded'}; {_NEXT_STEP[step]}"
        raise BatchNotSubmittedError(f"{head} ({detail}) - see `dispatcher batch show {batch_id}`")
    if step in WAITS:
        why = f" ({note.message})" if note.message else ""
        return f"{head}, due again at {_when(note.due_at)}{why}"
    if step is SubmitStep.ACCEPTED:
        return f"{head} ({note.message})" if note.message else head
    return f"{head} ({_SAYS[step]})" if step in _SAYS else head


def poll_result(batch_id: int, step: PollStep, note: BatchNote) -> str:
    """The result of a poll; raises PollFailedError when the reports could not be read."""
    head = f"{_batch(batch_id, note)}: {step.value}"
    if step is PollStep.FAILED:
        raise PollFailedError(
            f"{head} (reports not read, {note.poll_failures} failure(s) in a row; read again "
            "after a backoff; the provider's answer is in the worker log)"
        )
    return head


def plan_result(campaign_id: int, batch_ids: Sequence[int], state: str | None) -> str:
    """``state``: the campaign's state when nothing was planned (None: it does not exist)."""
    if batch_ids:
        return f"campaign {campaign_id}: {len(batch_ids)} batches"
    if state is None:
        raise PlanRefusedError(f"campaign {campaign_id}: refused (no such campaign)")
    why = "not due yet" if state == "scheduled" else f"it is {state}: a repeated wake-up"
    return f"campaign {campaign_id}: 0 batches ({why})"


_WORD = re.compile(r"^campaign \S+(?: batch \S+)?: (?P<word>[^\s,(]+)")


def result_word(retval: object) -> str:
    """The outcome word of a task's result or raised exception, for a bounded metrics label:
    ``accepted``, ``unknown``, ``planned``, ``skipped``... or ``other`` when the text is not
    ours (housekeeping's counts, an unexpected error)."""
    found = _WORD.match(str(retval))
    if found is None:
        return "other"
    word = found["word"]
    if word.isdigit():  # a plan's count of batches
        return "planned" if int(word) else "skipped"
    return word


def _batch(batch_id: int, note: BatchNote) -> str:
    campaign = note.campaign_id if note.campaign_id is not None else "?"
    return f"campaign {campaign} batch {batch_id}"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if at is not None else "an unknown time"
