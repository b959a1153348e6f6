"""XML errors (status -2) of apiV2.php: shape of section 1.2 and hostile documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .test_smsfactor_support import (
    AUTH,
    BILLION_LAUGHS,
    MESSAGE,
    RECIPIENTS,
    SEND,
    Answer,
    Clients,
    post,
    send,
    sms_xml,
    submissions,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient

XXE = (
    '<!DOCTYPE sms [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f"<sms>{AUTH}<message><sender>Shop</sender><text>&xxe;</text></message>{RECIPIENTS}</sms>"
)


def raw(client: TestClient, body: bytes | str) -> Answer:
    data = body.encode() if isinstance(body, str) else body
    return post(client, SEND, data)


def assert_xml_error(answer: Answer) -> None:
    assert answer.status == "-2"
    assert answer.message.startswith("Erreur XML")
    assert answer.tags == ["status", "message"]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not xml",
        "<sms>",
        f"<sms>{AUTH}{MESSAGE}{RECIPIENTS}</ sms>",
        f"<SMS>{AUTH}{MESSAGE}{RECIPIENTS}</SMS>",
        f'<sms xmlns="urn:x">{AUTH}{MESSAGE}{RECIPIENTS}</sms>',
        f"<sms>{AUTH}{MESSAGE}{RECIPIENTS}</sms><sms/>",
    ],
    ids=["empty", "text", "unclosed", "template-typo", "root-case", "namespace", "two-roots"],
)
def test_malformed_or_misnamed_documents_are_xml_errors(sf: TestClient, body: str) -> None:
    assert_xml_error(raw(sf, body))


@pytest.mark.parametrize(
    "body",
    [
        f"<sms>{MESSAGE}{RECIPIENTS}</sms>",
        f"<sms>{AUTH}{RECIPIENTS}</sms>",
        f"<sms>{AUTH}{MESSAGE}</sms>",
        f"<sms>{AUTH}{MESSAGE}<recipients/></sms>",
        f"<sms><authentication><password>x</password></authentication>{MESSAGE}{RECIPIENTS}</sms>",
        f"<sms><authentication><username>x</username></authentication>{MESSAGE}{RECIPIENTS}</sms>",
    ],
    ids=["authentication", "message", "recipients", "gsm", "username", "password"],
)
def test_missing_mandatory_element_is_an_xml_error(sf: TestClient, body: str) -> None:
    assert_xml_error(raw(sf, body))


@pytest.mark.parametrize(
    "document",
    [
        {"sender": None},
        {"sender": ""},
        {"sender": "TwelveChars1"},
        {"sender": "My Shop"},
        {"sender": "Boutiqué"},
        {"text": None},
        {"text": ""},
        {"text": "a" * 1121},
        {"is_flash": "2"},
        {"is_flash": "true"},
        {"type_": "flash"},
        {"type_": "longsms"},
        {"type_": "bookmark"},
    ],
    ids=[
        "no-sender",
        "empty-sender",
        "sender-12",
        "sender-space",
        "sender-accent",
        "no-text",
        "empty-text",
        "text-1121",
        "isflash-2",
        "isflash-true",
        "type-unknown",
        "type-case",
        "bookmark-without-link",
    ],
)
def test_invalid_values_are_xml_errors(sf: TestClient, document: dict[str, Any]) -> None:
    assert_xml_error(send(sf, **document))


def test_sender_of_eleven_alphanumerics_is_accepted(sf: TestClient) -> None:
    assert send(sf, sender="Shop1234567").status == "1"


@pytest.mark.parametrize(
    "body",
    [
        f"<sms>{AUTH}{MESSAGE}{RECIPIENTS}<extra/></sms>",
        f"<sms>{AUTH}<message><sender>S</sender><text>x</text><isflash>1</isflash></message>"
        f"{RECIPIENTS}</sms>",
        f"<sms>{AUTH}{MESSAGE}<recipients><number>33612345678</number></recipients></sms>",
        f"<sms>{AUTH}{MESSAGE}{MESSAGE}{RECIPIENTS}</sms>",
        f"<sms>{AUTH}<message><sender>S</sender><text>a<b/>c</text></message>{RECIPIENTS}</sms>",
    ],
    ids=["unknown-top", "unknown-message-child", "unknown-recipient", "repeated", "mixed-text"],
)
def test_undocumented_or_repeated_elements_are_xml_errors(sf: TestClient, body: str) -> None:
    assert_xml_error(raw(sf, body))


def test_element_order_is_free(sf: TestClient) -> None:
    body = f"<sms>{RECIPIENTS}<message><text>Hi</text><sender>Shop</sender></message>{AUTH}</sms>"
    assert raw(sf, body).status == "1"


def test_cdata_text_and_comments_are_read(sf: TestClient) -> None:
    text = "<text><![CDATA[a < b & c]]><!-- note --></text>"
    body = f"<sms>{AUTH}<message><sender>Shop</sender>{text}</message>{RECIPIENTS}</sms>"
    assert raw(sf, body).status == "1"
    assert submissions(sf)[0]["text"] == "a < b & c"


def test_declared_latin1_document_is_decoded(sf: TestClient) -> None:
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + sms_xml(text="caf\xe9").replace(
        b"caf\xc3\xa9", b"caf\xe9"
    )
    assert raw(sf, body).status == "1"
    assert submissions(sf)[0]["text"] == "café"


def test_undeclared_latin1_bytes_are_an_xml_error(sf: TestClient) -> None:
    assert_xml_error(raw(sf, sms_xml(text="caf\xe9").replace(b"\xc3\xa9", b"\xe9")))


def test_billion_laughs_is_an_xml_error_and_accepts_nothing(sf: TestClient) -> None:
    assert_xml_error(raw(sf, BILLION_LAUGHS))
    assert submissions(sf) == []


def test_external_entity_is_an_xml_error(sf: TestClient) -> None:
    assert_xml_error(raw(sf, XXE))


def test_any_doctype_is_refused(sf: TestClient) -> None:
    assert_xml_error(raw(sf, b"<!DOCTYPE sms>" + sms_xml()))


def test_utf16_doctype_is_refused(sf: TestClient) -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE sms>' + sms_xml().decode()
    assert_xml_error(raw(sf, body.encode("utf-16")))


def test_undefined_entity_is_an_xml_error(sf: TestClient) -> None:
    body = sms_xml(text="PLACEHOLDER").replace(b"PLACEHOLDER", b"&nbsp;")
    assert_xml_error(raw(sf, body))


def test_body_over_the_size_limit_is_an_xml_error(clients: Clients) -> None:
    client = clients({"max_body_bytes": 300})
    assert raw(client, sms_xml()).status == "1"
    assert_xml_error(raw(client, sms_xml(text="a" * 400)))


def test_oversized_form_body_is_refused_before_reading_the_field(clients: Clients) -> None:
    client = clients({"max_body_bytes": 100})
    answer = post(client, SEND, b"XML=" + b"%41" * 100, "application/x-www-form-urlencoded")
    assert_xml_error(answer)
