"""Which unknown recipient a pushed report for a message id we never stored belongs to.

The bulk gateway answers 1715 ("Response timeout", "do NOT re-submit the same message again",
section 1.4 of its document) with no message id, and a send whose answer was lost has none
either; the gateway may still have taken the message, and then its pushed report names a
message id no recipient has. Such a report says: *some* message to this number, on this
account, was submitted at this date. It places an unknown recipient only when nothing else
could explain it (docs/design-rules.md 1.11, "never guess"):

    one message id offered to exactly one of the batch's unknown recipients   placed
    a recipient offered two message ids                         ambiguous (two sends seen)
    a message id offered to two of the batch's recipients       ambiguous
    a message id another unknown send to that number could own  ambiguous (rivals)

Ambiguous recipients stay ``unknown`` for their operator, with the reason; the database query
that finds the candidates (persistence/unmatched_reports.py) already leaves out reports whose
message id a recipient of the account has, and dates outside the send's window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """A stored report's message that may be ``recipient_id``'s: same account and number,
    submit date within the send's window. ``rivals``: other unknown recipients of the
    account with that number whose send window also holds the date."""

    recipient_id: int
    message_id: str
    rivals: int = 0


@dataclass(frozen=True)
class Matching:
    placed: Mapping[int, str] = field(default_factory=dict)  # recipient id -> message id
    ambiguous: Mapping[int, str] = field(default_factory=dict)  # recipient id -> why


def match(candidates: Iterable[Candidate]) -> Matching:
    """The recipients exactly one message can be, and why the others cannot be decided."""
    by_recipient: defaultdict[int, set[str]] = defaultdict(set)
    by_message: defaultdict[str, set[int]] = defaultdict(set)
    rivalled: set[tuple[int, str]] = set()
    for c in candidates:
        by_recipient[c.recipient_id].add(c.message_id)
        by_message[c.message_id].add(c.recipient_id)
        if c.rivals > 0:
            rivalled.add((c.recipient_id, c.message_id))
    placed: dict[int, str] = {}
    ambiguous: dict[int, str] = {}
    for recipient_id, messages in sorted(by_recipient.items()):
        if len(messages) > 1:
            ambiguous[recipient_id] = f"{len(messages)} reported messages fit this send"
            continue
        (message_id,) = messages
        if len(by_message[message_id]) > 1:
            ambiguous[recipient_id] = "the reported message fits several recipients"
        elif (recipient_id, message_id) in rivalled:
            ambiguous[recipient_id] = "another unknown send to this number fits the same date"
        else:
            placed[recipient_id] = message_id
    return Matching(placed, ambiguous)
