"""How a personalised campaign's texts travel to the provider.

"file": one request carries each recipient's own text (sMsmode's batch file), batches stay
in input order; possible when the provider has such a request and every text suits it (GSM,
no provider-added STOP mention). "grouped": otherwise; recipients with the same text are put
in the same batches, so identical texts share requests rather than one request each.

The mode is decided once every text is known, after the recipients are copied in: enqueue
stores it as the campaign's ``personalised`` option (never the caller's to set).
"""

from __future__ import annotations

from sqlalchemy import Connection

from dispatcher.domain.options import PersonalisedMode
from dispatcher.errors import Problem
from dispatcher.persistence import recipients
from dispatcher.providers.base import Provider
from dispatcher.services.content import Content
from dispatcher.services.estimate import CostCounter

MAX_PROBLEMS = 20


def choose_mode(
    conn: Connection, campaign_id: int, adapter: Provider, sender: str | None, content: Content,
    batch_size: int,
) -> tuple[PersonalisedMode, CostCounter, list[Problem]]:  # fmt: skip
    """The mode, the cost of every distinct text, and the problems the chosen mode has."""
    by_file = adapter.per_recipient_texts and content.stop != "native"
    options, encoding = content.options, content.encoding
    cost = CostCounter(adapter, options)
    grouped: list[Problem] = []
    file: list[Problem] = []
    for personal, count in recipients.distinct_texts(conn, campaign_id):
        cost.add(personal, count)
        if len(grouped) < MAX_PROBLEMS:
            grouped += _named(
                personal,
                adapter.validate(text=personal, sender=sender, options=options, encoding=encoding),
            )
        if by_file and not file:
            file = adapter.validate_texts(
                texts=[personal], sender=sender, options=options, encoding=encoding
            )
    if by_file and not file:
        return "file", cost, []
    recipients.regroup_by_text(conn, campaign_id, batch_size)
    return "grouped", cost, list(dict.fromkeys(grouped))[:MAX_PROBLEMS]


def _named(personal: str, problems: list[Problem]) -> list[Problem]:
    """A text's problems, saying which text (recipients' texts differ)."""
    shown = personal if len(personal) <= 40 else personal[:37] + "..."
    return [Problem(p.field, p.message, p.row, p.value or shown) for p in problems]
