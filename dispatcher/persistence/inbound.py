"""SMS sent to us (replies, STOP requests): each kept once per provider message id."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert

from dispatcher.domain.models import InboundMessage
from schemas.tables import inbound_messages


def record(conn: Connection, account: str, message: InboundMessage, *, opt_out: bool) -> bool:
    """Store an inbound SMS; False when the provider already told us about it."""
    stmt = (
        insert(inbound_messages)
        .values(
            account=account,
            from_msisdn=message.from_msisdn,
            to_number=message.to,
            text=message.text,
            received_at=message.received_at,
            provider_ref=message.provider_ref,
            client_ref=message.client_ref,
            message_id=message.message_id,
            opt_out=opt_out,
        )
        .on_conflict_do_nothing(constraint="inbound_messages_account_message_id")
        .returning(inbound_messages.c.id)
    )
    return conn.execute(stmt).scalar_one_or_none() is not None
