"""SMSFactor inbound SMS (section 3): the form variable XML holding <inbox>."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatcher.domain.models import InboundMessage
from dispatcher.errors import CallbackError

from ._smsfactor import HOSTILE, provider

PARIS = ZoneInfo("Europe/Paris")

# Section 3.1's example exactly as printed: stray backslashes, blanks, a date over two lines.
SECTION_3_1 = """<inbox>
<sms from="\\ 0000000000\\" to="\\ 0000000000\\" date=\\"2011-06-01
12:02:07\\"><![CDATA[My message 1]]></sms>
<sms from="\\ 1111111111\\" to="\\ 0000000000\\" date=\\"2011-06-01
12:02:08\\"><![CDATA[My message 2]]></sms>
</inbox>"""


def inbox(*sms: str) -> dict[str, str]:
    return {"XML": f"<inbox>{''.join(sms)}</inbox>"}


def sms(text: str = "Hello", **attributes: str) -> str:
    fields = {"from": "33600000000", "to": "33700000000", "date": "2011-06-01 12:02:07"}
    fields.update(attributes)
    attrs = "".join(f' {key}="{value}"' for key, value in fields.items() if value != "-")
    return f"<sms{attrs}><![CDATA[{text}]]></sms>"


def test_section_3_1_example_as_printed() -> None:
    assert provider().parse_inbound({"XML": SECTION_3_1}) == [
        InboundMessage(
            from_msisdn="0000000000",
            text="My message 1",
            received_at=datetime(2011, 6, 1, 12, 2, 7, tzinfo=PARIS),
            to="0000000000",
        ),
        InboundMessage(
            from_msisdn="1111111111",
            text="My message 2",
            received_at=datetime(2011, 6, 1, 12, 2, 8, tzinfo=PARIS),
            to="0000000000",
        ),
    ]


def test_section_3_1_example_repaired() -> None:
    (message,) = provider().parse_inbound(inbox(sms("My message 1", **{"from": "0000000000"})))
    assert (message.from_msisdn, message.text) == ("0000000000", "My message 1")


def test_the_received_date_is_read_in_the_account_timezone() -> None:
    (message,) = provider(timezone="UTC").parse_inbound(inbox(sms()))
    assert message.received_at is not None
    assert message.received_at.isoformat() == "2011-06-01T12:02:07+00:00"


@pytest.mark.parametrize(
    ("params", "field", "value"),
    [
        (inbox(sms("STOP")), "text", "STOP"),
        (inbox(sms("")), "text", ""),
        (inbox(sms('a < b & "c" ]] >')), "text", 'a < b & "c" ]] >'),
        (inbox(sms("Noël à bientôt ☺")), "text", "Noël à bientôt ☺"),
        (inbox(sms("back\\slash")), "text", "back\\slash"),  # a well-formed push is kept as is
        (inbox(sms("<!DOCTYPE x> <!ENTITY y>")), "text", "<!DOCTYPE x> <!ENTITY y>"),  # text only
        ({"XML": "<inbox><sms from='336'>plain &amp; text</sms></inbox>"}, "text", "plain & text"),
        (inbox(sms(date="-")), "received_at", None),
        (inbox(sms(to="-")), "to", None),
        (inbox(sms(**{"from": " +33600000000 "})), "from_msisdn", "+33600000000"),
        (
            inbox(sms(date=" 2011-06-01  12:02:07 ")),
            "received_at",
            datetime(2011, 6, 1, 12, 2, 7, tzinfo=PARIS),
        ),
        (
            {"XML": '<?xml version="1.0" encoding="ISO-8859-1"?>' + inbox(sms("Noël"))["XML"]},
            "text",
            "Noël",  # the form was decoded already: a declared charset changes nothing
        ),
    ],
)
def test_inbox_variants(params: dict[str, str], field: str, value: object) -> None:
    (message,) = provider().parse_inbound(params)
    assert getattr(message, field) == value


def test_an_empty_inbox_holds_no_message() -> None:
    assert provider().parse_inbound({"XML": "<inbox></inbox>"}) == []


def test_many_messages_keep_their_order() -> None:
    params = inbox(*(sms(str(n), **{"from": f"3360000000{n}"}) for n in range(5)))
    assert [m.text for m in provider().parse_inbound(params)] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "without its XML variable"),
        ({"xml": SECTION_3_1}, "without its XML variable"),
        ({"XML": "  "}, "without its XML variable"),
        ({"XML": "<outbox><sms from='1'>x</sms></outbox>"}, "not <inbox>"),
        ({"XML": "<inbox><mms from='1'>x</mms></inbox>"}, "unexpected <mms>"),
        (inbox(sms(**{"from": "-"})), "without from"),
        (inbox(sms(**{"from": "\\ "})), "without from"),
        (inbox(sms(date="01/06/2011 12:02:07")), "date"),
        (inbox(sms(date="2011-06-01T12:02:07")), "date"),
        (inbox(sms(date="2011-02-30 12:02:07")), "date"),
        ({"XML": "<inbox><sms from='1'>x</sms>"}, "unreadable inbox XML"),  # truncated
        ({"XML": "<inbox><sms from=\\'1\\'>x</sms"}, "unreadable inbox XML"),
    ],
)
def test_malformed_pushes_are_refused(params: dict[str, str], message: str) -> None:
    with pytest.raises(CallbackError, match=message):
        provider().parse_inbound(params)


HOSTILE_INBOX = {
    "billion laughs": (
        '<!DOCTYPE inbox [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><inbox><sms from="1">&c;</sms></inbox>'
    ),
    "external entity": (
        '<!DOCTYPE inbox [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<inbox><sms from="1">&x;</sms></inbox>'
    ),
    "external DTD": '<!DOCTYPE inbox SYSTEM "http://attacker.test/a.dtd"><inbox/>',
    "bare DOCTYPE": '<!DOCTYPE inbox><inbox><sms from="1">x</sms></inbox>',
    "DOCTYPE behind backslashes": '<!DOCTYPE inbox><inbox><sms from=\\"1\\">x</sms></inbox>',
    "truncated": '<inbox><sms from="1"><![CDATA[My mess',
    "oversized": '<inbox><sms from="1">' + "a" * (1024 * 1024) + "</sms></inbox>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_INBOX))
def test_hostile_pushes_are_refused(name: str) -> None:
    with pytest.raises(CallbackError, match="unreadable inbox XML"):
        provider().parse_inbound({"XML": HOSTILE_INBOX[name]})


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_answers_pushed_as_inbox_are_refused(name: str) -> None:
    raw = HOSTILE[name].decode("utf-8", "replace")
    with pytest.raises(CallbackError):
        provider().parse_inbound({"XML": raw})
