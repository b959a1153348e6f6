"""Envoyer SMS Pro: finding a send whose answer never came, by walking message ids.

This is part of the Envoyer SMS Pro adapter: :class:`EnvoyerLookup` holds ``find_submission``
and :class:`dispatcher.providers.envoyer.EnvoyerProvider` inherits it. Sections are cited by
their titles in the provider's "API SMS HTTP REST" 2.10 (French).

What the document offers to learn whether a request went out:

- ``message/send`` answers a ``message_id`` ("Retour du serveur": 879), the very thing a lost
  answer lost;
- ``message/stats?messageid=`` ("FONCTION STATISTIQUES DES MESSAGES") lists a message's
  recipients (``mobile_number``, ``status_id``, ``delivered_date``): no text, no date of
  sending, no tag; error 7 "Unknown messageid" for "a message that does not exist", error 8
  "Message is pending" before a scheduled message's time. "Toutes les réponses sont relatives
  à l'utilisateur authentifié": another account's message is read as one that does not exist;
- nothing lists an account's messages, and the ``tag`` is only shown in monthly statistics
  the API does not offer ("REVISIONS", 2.6.0): neither finds a message;
- ``account/status`` gives ``sms_remaining``, which every concurrent send also moves: no proof.

So the only lookup is by id, and the ids are not ours to choose. The choice made where the
document is silent (docs/providers.md, "Envoyer SMS Pro: the message id walk"): **message ids
are integers that rise in the order the provider accepts requests** (the document shows one,
879, for "the last message sent", and says no more). Then a request that ran between two of
the account's requests whose ids we know was numbered between them, and asking ``stats`` for
each id in that gap settles the question:

- ``ref_before``: the highest id answered before the request began; ``ref_after``: the lowest
  id of a request started after it had surely ended (the moment the batch became unknown);
- ids of other batches (``taken_refs``) are skipped unasked; every other id in the gap costs
  one request (one of the account's rate-limit slots, ``probe.take_slot``);
- a message whose recipients are exactly the batch's numbers matches (``dedupe=1`` and a whole
  request refused for one bad number mean the message holds exactly what we sent).

One match, with every other id read, is ``Found``. Two, or a match beside an id that could not
be read, is ``Undecided`` (never guess). No match in a closed gap every id of which was read is
``Absent``. With no later request yet, the ``OPEN_WALK`` nearest ids above ``ref_before`` (or
below ``ref_after``) that no other batch of the account holds are asked: a match there is
``Found``, no match proves nothing. A gap wider than
``MAX_GAP`` (ids shared with other customers, or a busy account) is ``Undecided``, and the
batch ends ``unplaced`` after ``RECONCILE_GIVE_UP_HOURS``; so do ids found out of order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dispatcher.domain.placement import Absent, Found, Placement, SubmissionProbe, Undecided
from dispatcher.domain.statuses import Outcome
from dispatcher.providers import envoyer_codes as codes
from dispatcher.providers.base import Provider

# The product's bounds on one look, for an account allowed 100 requests an hour by default
# ("Les limites du nombre de requête"): a closed gap of more ids than this is not walked.
MAX_GAP = 20
# Ids asked beside the one known neighbour when no request bounds the gap on the other side.
# Such a look proves nothing unless it finds the batch, and is repeated until the give-up
# time; an open gap means the account has sent nothing since, so these requests delay only
# its polls (each takes a slot), at most 5 per look every RECONCILE_RETRY_SECONDS x 10.
OPEN_WALK = 5
_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class Walk:
    """The ids one look asks about, and whether they fill the gap between two neighbours."""

    ids: tuple[int, ...]
    closed: bool
    span: str  # the walked range, for the evidence


@dataclass(frozen=True)
class Read:
    """What ``stats`` said about one id: its recipients, or why there are none."""

    numbers: frozenset[str] | None = None
    gone: bool = False  # error 7: not the account's message, or no message at all
    problem: str = ""  # could not be read: the look stops or cannot conclude


def plan_walk(probe: SubmissionProbe) -> Walk | Undecided:
    """The ids to ask about (see the module docstring), or why no walk can conclude."""
    below, above = _number(probe.ref_before), _number(probe.ref_after)
    if below is None and above is None:
        return Undecided("no request of the account with a numeric message_id around the send")
    if below is not None and above is not None:
        if above <= below:
            return Undecided(f"message ids out of order: {below} before, {above} after the send")
        if above - below - 1 > MAX_GAP:
            return Undecided(f"{above - below - 1} ids between {below} and {above}: over {MAX_GAP}")
        taken = _taken(probe)
        ids = tuple(i for i in range(below + 1, above) if i not in taken)
        return Walk(ids, True, f"ids {below + 1} to {above - 1}")
    # One neighbour only: the OPEN_WALK nearest ids that are not already the account's other
    # batches' (concurrent sends number their messages around ours), within MAX_GAP of it.
    taken = _taken(probe)
    if below is not None:
        nearest = range(below + 1, below + 1 + MAX_GAP)
    else:
        assert above is not None
        nearest = range(above - 1, max(0, above - 1 - MAX_GAP), -1)
    ids = tuple(sorted([i for i in nearest if i not in taken][:OPEN_WALK]))
    if not ids:
        return Undecided(f"the {MAX_GAP} ids beside {below or above} are all the account's")
    return Walk(ids, False, f"ids {ids[0]} to {ids[-1]} (open gap)")


def _taken(probe: SubmissionProbe) -> set[int]:
    """The message ids the account's other batches already hold: not this batch's."""
    return {n for n in (_number(r) for r in probe.taken_refs) if n is not None}


def judge(walk: Walk, reads: dict[int, Read], probe: SubmissionProbe) -> Placement:
    """What the reads of ``walk``'s ids prove about the probe's batch."""
    numbers = frozenset(n.lstrip("+") for n in probe.msisdns)
    matches = [i for i, read in reads.items() if read.numbers == numbers]
    unread = [i for i in walk.ids if i not in reads or reads[i].problem]
    if len(matches) > 1:
        return Undecided(f"{len(matches)} messages hold the batch's numbers: {matches}")
    if matches and unread:
        return Undecided(f"message {matches[0]} matches but id {unread[0]} could not be read")
    if matches:
        return Found(str(matches[0]), f"message/stats lists the batch's numbers; {walk.span}")
    if unread:
        problem = reads[unread[0]].problem if unread[0] in reads else "not asked"
        return Undecided(f"id {unread[0]}: {problem}; {walk.span}")
    if not walk.closed:
        return Undecided(f"not among {walk.span}, and no later request bounds the gap")
    detail = f"no message holds the batch's numbers: {walk.span}, {len(walk.ids)} asked"
    return Absent(probe.sent_after, probe.sent_before, detail)


class EnvoyerLookup(Provider):
    """The lookup half of the Envoyer SMS Pro adapter; the adapter inherits it."""

    can_find_submissions = True

    def find_submission(self, probe: SubmissionProbe) -> Placement:
        walk = plan_walk(probe)
        if isinstance(walk, Undecided):
            return walk
        reads: dict[int, Read] = {}
        for position, ident in enumerate(walk.ids):
            # The reconciler paid for the look's first request; each further one takes a slot.
            if position and not probe.take_slot():
                return Undecided(f"request limit: {position} of {len(walk.ids)} ids asked")
            read = self.read_stats(str(ident))
            reads[ident] = read
            if read.problem:
                break  # an error or an outage: the look cannot conclude, spend nothing more
        return judge(walk, reads, probe)

    def read_stats(self, message_id: str) -> Read:
        """One ``message/stats`` request: the adapter's own poll (``fetch_reports``), whose
        transport failures end in the last branch (an outcome that is not ``ACCEPTED``)."""
        result = self.fetch_reports(message_id)
        if result.rate_limited:
            return Read(problem=f"stats refused for the request limit: {result.description}")
        if result.gone:
            return Read(gone=True)
        if result.code == codes.POLL_PENDING:
            return Read(problem="message is pending (error 8): its recipients cannot be read")
        if result.outcome is not Outcome.ACCEPTED:
            return Read(problem=f"stats: {result.description or result.code}")
        return Read(numbers=frozenset(r.msisdn.lstrip("+") for r in result.reports))


def _number(ref: str | None) -> int | None:
    return int(ref) if ref is not None and _ID.fullmatch(ref) else None
