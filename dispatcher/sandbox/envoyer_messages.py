"""Envoyer SMS Pro functions on an accepted message: stats and cancellation.

"FONCTION STATISTIQUES DES MESSAGES": the per-recipient status is derived from the shared
timeline each time stats are asked for (nothing is stored per recipient), then mapped to
the document's status ids ("Les statuts de réception des SMS").
"FONCTION ANNULATION D'ENVOI DE MESSAGE PROGRAMME": a scheduled message can be cancelled
before its send time, and its SMS are recredited.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.responses import Response

from dispatcher.sandbox.envoyer_accounts import Session
from dispatcher.sandbox.envoyer_params import Call
from dispatcher.sandbox.envoyer_xml import ApiError, document, elements, escape, success
from dispatcher.sandbox.store import Store, Submission
from dispatcher.sandbox.timeline import State, Timeline

PROVIDER = "envoyer"
DELIVERED = 1
STOPPED = 5

#: 4 in progress, 3 delivered to the operator (both intermediate), 1 delivered, 2 not
#: delivered, 5 STOP SMS (final). Every failure of the shared timeline is "not delivered";
#: a blacklisted recipient is "en STOP SMS".
STATUS_IDS: dict[State, int] = {
    State.SCHEDULED: 4,  # never shown: stats answer error 8 until the send time
    State.SENT: 4,
    State.GATEWAY: 3,
    State.RECEIVED: DELIVERED,
    State.DELIVERY_ERROR: 2,
    State.ROUTING_ERROR: 2,
    State.INVALID_RECIPIENT: 2,
    State.EXPIRED: 2,
    State.REJECTED: 2,
    State.BLACKLISTED: STOPPED,
}


def message_of(store: Store, call: Call, session: Session) -> Submission:
    """The caller's message named by ``messageid`` (leading zeros allowed). Error 7 for an
    unknown id or another account's message. A missing id has no documented detail: error 2
    "Messageid is missing", following the pattern of the documented ones."""
    raw = call.params.get("messageid", "").strip()
    if not raw:
        raise ApiError(2, "Messageid is missing")
    sub = None
    if raw.isascii() and raw.isdigit():
        sub = store.find(PROVIDER, str(int(raw)))
    if sub is None or sub.token != session.key:
        raise ApiError(7)
    return sub


class _DeliveryDates:
    """Delivery dates of one message's recipients, as ``2011-02-10 13:32:00`` local time.

    A received recipient was delivered ``final_delay`` plus its per-number offset after the
    send time (see :mod:`dispatcher.sandbox.timeline`). Formatting dominates the cost of a
    large report, and recipients of one message are delivered within a few seconds of one
    another, so each second is formatted once.
    """

    def __init__(self, timeline: Timeline, zone: ZoneInfo, base: float) -> None:
        self._timeline = timeline
        self._zone = zone
        self._delivered = base + timeline.config.final_delay
        self._seconds: dict[int, str] = {}

    def __call__(self, number: str) -> str:
        second = int(self._delivered + self._timeline.offset(number))
        text = self._seconds.get(second)
        if text is None:
            moment = datetime.fromtimestamp(second, self._zone)
            text = self._seconds[second] = moment.strftime("%Y-%m-%d %H:%M:%S")
        return text


def stats(timeline: Timeline, zone: ZoneInfo, sub: Submission, now: float) -> Response:
    """Counts per status (``number_status_1`` to ``_5``), then one ``recipient`` per number
    of the message, duplicates included, in the order they were sent. Numbers that were on
    the account's STOP list at acceptance are status 5 from the start. ``delivered_date`` is
    given for status 1 only and is empty otherwise, as in the document's example.

    Error 8 before the send time; a cancelled message was never sent and answers error 11.
    """
    if sub.cancelled:
        raise ApiError(11)
    if now < sub.base:
        raise ApiError(8)
    numbers = sub.number_list()
    states = timeline.states_at(numbers, sub.base, now)
    stopped = set(sub.extra.get("stop_listed") or ())
    counts = [0] * 6
    delivered_at = _DeliveryDates(timeline, zone, sub.base)
    rows: list[str] = []
    for number, state in zip(numbers, states, strict=True):
        status = STOPPED if stopped and number in stopped else STATUS_IDS[state]
        counts[status] += 1
        date = delivered_at(number) if status == DELIVERED else ""
        rows.append(
            "    <recipient>\n"
            f"      <mobile_number>{escape(number)}</mobile_number>\n"
            f"      <delivered_date>{date}</delivered_date>\n"
            f"      <status_id>{status}</status_id>\n"
            "    </recipient>\n"
        )
    totals = elements(2, ((f"number_status_{i}", counts[i]) for i in range(1, 6)))
    return document(f"  <status>success</status>\n  <stats>\n{totals}{''.join(rows)}  </stats>\n")


def cancel(
    store: Store, timeline: Timeline, sub: Submission, session: Session, now: float
) -> Response:
    """Before the send time: cancelled, SMS recredited. After it, error 9 (being sent) while
    the recipients are still "en cours de traitement" (status 4, before the timeline's
    gateway delay), error 10 (sent) afterwards; error 11 when already cancelled. A cancelled
    message leaves the duplicate counts (it reached no phone)."""
    if sub.cancelled:
        raise ApiError(11)
    if now >= sub.base + timeline.config.gateway_delay:
        raise ApiError(10)
    if now >= sub.base:
        raise ApiError(9)
    sub.deleted = sub.cancelled = True
    sub.extra["cancelled"] = True
    session.account.balance += sub.cost
    store.rebuild_duplicates()
    refund = [("message_id", sub.id), ("recredited_sms", int(sub.cost))]
    return success("message", [*refund, ("sms_remaing", session.remaining)])
