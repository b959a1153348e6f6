"""Bulk gateway delivery reports pushed to an account's ``dlr_url``.

The document only says that ``dlr=1`` asks for a delivery report (section 1.2 parameter 4)
and that the message id "can then be used later to map the delivery reports to this
message" (section 1.4, code 1701); it defines no report format. The sandbox pushes one GET
per recipient status change, with SMPP-delivery-receipt-like parameters, in this order::

    msgid=<message id of the 1701 line>&destination=<digits>&source=<sender>
    &status=<ACCEPTD|DELIVRD|UNDELIV|EXPIRED|REJECTD>&err=<3 digits>
    &submitdate=<YYYY-MM-DD HH:MM:SS>&donedate=<YYYY-MM-DD HH:MM:SS>

Dates are UTC; values are percent-encoded UTF-8 (RFC 3986, a space is %20). ACCEPTD is the
intermediate report (handed to the operator); it can be switched off with
``"intermediate_reports": false``. Message ids are ``<submission id>-<n>`` (n from 1, the
recipient's position among the request's accepted destinations), so nothing is stored per
recipient: the schedule carries ``<n-1>:<number>`` items and :class:`TaggedTimeline` strips
the tag before computing the number's timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from dispatcher.sandbox.callbacks import CallbackRequest, EventBuilder
from dispatcher.sandbox.store import Submission
from dispatcher.sandbox.timeline import State, Timeline, TimelineConfig

#: (status, err) pushed for each timeline state; SCHEDULED and SENT are never pushed.
REPORTS: dict[State, tuple[str, str]] = {
    State.GATEWAY: ("ACCEPTD", "000"),
    State.RECEIVED: ("DELIVRD", "000"),
    State.DELIVERY_ERROR: ("UNDELIV", "001"),
    State.ROUTING_ERROR: ("UNDELIV", "002"),
    State.EXPIRED: ("EXPIRED", "003"),
    State.INVALID_RECIPIENT: ("REJECTD", "004"),
    State.BLACKLISTED: ("REJECTD", "005"),
    State.REJECTED: ("REJECTD", "006"),
}
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def message_id(submission_id: str, index: int) -> str:
    """The id of the recipient at 0-based ``index`` among a submission's numbers."""
    return f"{submission_id}-{index + 1}"


def tagged_numbers(numbers: list[str]) -> str:
    """``0:num,1:num,...``: what the callback schedule iterates over."""
    return ",".join(f"{i}:{n}" for i, n in enumerate(numbers))


class TaggedTimeline(Timeline):
    """The shared timeline, for ``<index>:<number>`` items; optionally final reports only."""

    def __init__(self, config: TimelineConfig, intermediate: bool) -> None:
        super().__init__(config)
        self._intermediate = intermediate

    def events(self, number: str, base: float) -> list[tuple[float, State]]:
        """The number's state changes, without GATEWAY when intermediate reports are off
        (a number that never leaves GATEWAY then gets no report, as with a lost receipt)."""
        found = super().events(number.partition(":")[2], base)
        if self._intermediate:
            return found
        return [(when, state) for when, state in found if state is not State.GATEWAY]


def _date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(DATE_FORMAT)


def with_query(url: str, query: str) -> str:
    """``url`` with ``query`` appended, keeping a query string the URL already has."""
    return f"{url}{'&' if '?' in url else '?'}{query}"


def report_builder(provider: str, sub: Submission, url: str) -> EventBuilder:
    """Builds the GET of one state change of one tagged recipient of ``sub``."""
    submitted = _date(sub.base)
    source = sub.sender or ""

    def build(tagged: str, state: State, when: float) -> CallbackRequest:
        index, _, number = tagged.partition(":")
        status, err = REPORTS[state]
        params = [
            ("msgid", message_id(sub.id, int(index))),
            ("destination", number),
            ("source", source),
            ("status", status),
            ("err", err),
            ("submitdate", submitted),
            ("donedate", _date(when)),
        ]
        return CallbackRequest(provider, with_query(url, urlencode(params, quote_via=quote)))

    return build
