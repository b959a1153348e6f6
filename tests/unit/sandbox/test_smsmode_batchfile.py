"""sendSMSBatch.do (document section 17): a CSV file of per-recipient messages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from dispatcher.sandbox.config import AccountConfig
from dispatcher.sandbox.smsmode_batchfile import multipart_parts, read_rows
from dispatcher.sandbox.smsmode_params import InvalidParameterError

from .conftest import (
    TOKEN,
    FakeClock,
    RecordingSender,
    accepted_id,
    context,
    get,
    send,
    submissions,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient

PATH = "/http/1.6/sendSMSBatch.do"
URL = "http://127.0.0.1:9/dlr"
ALL_FINAL = 8.0
MISSING = "35 | Missing mandatory parameter"

# Section 17, English v3.3: three header names, four values per row.
ENGLISH = b""""numero","message","emetteur"
"99999911","This is the body of the message 1, test fichier CSV","RDV","ref123"
88888888,"This is the body of the message 2, test fichier CSV","","ref456"
77777777,"This is the body of the message 3, test fichier CSV","TOT0","ref789"
"""
# Section 17, French v3.1: the header names the fourth column.
FRENCH = """"numero","message","emetteur","refClient"
"99999911","Ceci est le corps du message 1, test fichier CSV","RDV","ref123"
88888888,"Ceci est le corps du message 2, test fichier CSV","","ref456"
77777777,"Ceci est le corps du message 3, test fichier CSV","TOTO","ref789"
""".encode("iso8859_15")


def csv_file(*rows: str, header: str = "numero,message,emetteur,refClient") -> bytes:
    return "\r\n".join((header, *rows)).encode("iso8859_15")


def batch(
    client: TestClient,
    data: bytes | None,
    field: str = "fichier",
    **params: str,
) -> str:
    """POST the file as a multipart part (None: a form without it), parameters in the query
    string."""
    params.setdefault("accessToken", TOKEN)
    query = f"{PATH}?{urlencode(params, encoding='iso8859_15')}"
    if data is None:
        response = client.post(query, data={"numero": "33612345678", "message": "Hi"})
    else:
        response = client.post(query, files={field: ("fichier.csv", data, "text/csv")})
    assert response.status_code == 200
    return str(response.text)


def only(client: TestClient) -> dict[str, Any]:
    (found,) = submissions(client)
    return found


def report(client: TestClient, sms_id: str) -> str:
    return get(client, "compteRendu.do", accessToken=TOKEN, smsID=sms_id)


def stats(client: TestClient) -> dict[str, Any]:
    data = client.get("/_sandbox/stats").json()
    assert isinstance(data, dict)
    return data


def callbacks(client: TestClient, sender: RecordingSender) -> list[dict[str, str]]:
    asyncio.run(context(client).callbacks.drain())
    return [dict(parse_qsl(urlsplit(r.url).query, encoding="iso8859_15")) for r in sender.requests]


def test_the_documented_curl_request_is_accepted(client: TestClient) -> None:
    # curl -F "fichier=@fichier.csv;type=text/csv" "...sendSMSBatch.do?accessToken=..."
    boundary = "------------------------d74496d66958873e"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; '
            f'filename="fichier.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + ENGLISH
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        f"{PATH}?accessToken={TOKEN}",
        content=body,
        headers={
            "content-type": f"multipart/form-data; boundary={boundary}",
            "ContentType": "multipart/formdata",  # the example's misspelt header: ignored
        },
    )
    sms_id = accepted_id(response.text)
    sub = only(client)
    assert (sub["id"], sub["method"], sub["numbers"]) == (
        sms_id,
        "POST-batch",
        ["99999911", "88888888", "77777777"],
    )


@pytest.mark.parametrize(
    ("data", "text", "last_sender"),
    [
        (ENGLISH, "This is the body of the message {}, test fichier CSV", "TOT0"),
        (FRENCH, "Ceci est le corps du message {}, test fichier CSV", "TOTO"),
    ],
    ids=["english", "french"],
)
def test_the_documented_files(client: TestClient, data: bytes, text: str, last_sender: str) -> None:
    accepted_id(batch(client, data))
    sub = only(client)
    assert sub["texts"] == [text.format(i) for i in (1, 2, 3)]
    assert (sub["senders"], sub["ref_clients"]) == (
        ["RDV", None, last_sender],
        ["ref123", "ref456", "ref789"],
    )
    assert (sub["text"], sub["sender"], sub["ref_client"]) == (text.format(1), None, None)
    assert (sub["parts"], sub["cost"], sub["recipient_parts"], sub["classe_msg"]) == (
        1,
        3.0,
        [1, 1, 1],
        2,
    )
    assert report(client, sub["id"]) == "99999911 0 | 88888888 0 | 77777777 0"


def test_file_is_iso_8859_15(client: TestClient) -> None:
    # é€ round-trip (A4 is € in ISO-8859-15, 80 its Windows-1252 place); ç is outside the
    # section 3 table; UTF-8 "é" (C3 A9) is read as two ISO-8859-15 characters, both outside.
    data = b'numero,message,emetteur\n33612345678,"Caf\xe9 \xa4 \x80 le\xe7on \xc3\xa9",\n'
    accepted_id(batch(client, data))
    assert only(client)["texts"] == ["Café € € le?on ??"]


def test_quoting_commas_quotes_and_line_breaks(client: TestClient) -> None:
    data = csv_file(
        '0612345678,"Hello, ""friend""\r\nsee you\nsoon",SHOP,"a,b"',
        "  0712345678 , plain text , , ",
        "",
        ",,,",
        '33612345679,"x""y",,',
    )
    accepted_id(batch(client, data))
    sub = only(client)
    assert sub["numbers"] == ["33612345678", "33712345678", "33612345679"]
    assert sub["texts"] == ['Hello, "friend"\r\nsee you\nsoon', "plain text ", 'x"y']
    assert (sub["senders"], sub["ref_clients"]) == (["SHOP", None, None], ["a,b", None, None])


def test_empty_row_sender_and_ref_fall_back_to_the_request(client: TestClient) -> None:
    data = csv_file("33612345678,one,,", "33612345679,two,OWN,mine", "33612345670,three, ,")
    accepted_id(batch(client, data, emetteur="DEFAULT", refClient="req"))
    sub = only(client)
    assert (sub["sender"], sub["ref_client"]) == ("DEFAULT", "req")
    assert sub["senders"] == ["DEFAULT", "OWN", "DEFAULT"]
    assert sub["ref_clients"] == ["req", "mine", "req"]


def test_parameters_may_come_as_form_fields(client: TestClient) -> None:
    response = client.post(
        f"{PATH}?refClient=from-query",
        files={"fichier": ("f.csv", csv_file("33612345678,Hi,,"), "text/csv")},
        data={"accessToken": TOKEN, "refClient": "from-form", "emetteur": "FORM"},
    )
    accepted_id(response.text)
    sub = only(client)
    assert (sub["ref_client"], sub["sender"]) == ("from-query", "FORM")


def test_the_file_part_needs_no_filename(client: TestClient) -> None:
    response = client.post(
        f"{PATH}?accessToken={TOKEN}",
        files={"fichier": (None, csv_file("33612345678,Hi,,"))},
    )
    accepted_id(response.text)


def test_classe_4_without_sender(client: TestClient) -> None:
    accepted_id(batch(client, csv_file("33612345678,Hi,,"), classe_msg="4"))
    assert only(client)["classe_msg"] == 4


def test_nbr_msg_truncates_each_row_and_each_row_pays_its_parts(client: TestClient) -> None:
    data = csv_file(
        "33612345678," + "a" * 400 + ",,", "33612345679,short,,", "33612345670," + "€" * 81 + ",,"
    )
    accepted_id(batch(client, data, nbr_msg="2"))
    sub = only(client)
    assert sub["texts"] == ["a" * 306, "short", "€" * 81]
    assert (sub["recipient_parts"], sub["parts"], sub["cost"]) == ([2, 1, 2], 2, 5.0)
    assert get(client, "credit.do", accessToken=TOKEN) == "999999995"


def test_insufficient_balance_answers_33(make_client: Callable[..., TestClient]) -> None:
    client = make_client(accounts=(AccountConfig(TOKEN, balance=2),))
    data = csv_file("33612345678," + "a" * 200 + ",,", "33612345679,b,,")
    assert batch(client, data) == "33 | Insufficient account balance"
    assert (submissions(client), get(client, "credit.do", accessToken=TOKEN)) == ([], "2")


def test_unknown_and_missing_tokens(client: TestClient) -> None:
    data = csv_file("33612345678,Hi,,")
    assert batch(client, data, accessToken="nope") == "32 | Authentication error"
    assert batch(client, data, accessToken="") == MISSING


@pytest.mark.parametrize(
    ("data", "params"),
    [
        pytest.param(None, {}, id="no-file"),
        pytest.param(b"", {}, id="empty-file"),
        pytest.param(b"\r\n\r\n", {}, id="blank-file"),
        pytest.param(b"numero,message,emetteur\r\n", {}, id="header-only"),
        pytest.param(b"numero;message;emetteur\r\n33612345678;Hi;\r\n", {}, id="semicolons"),
        pytest.param(b"numero,message\r\n33612345678,Hi\r\n", {}, id="no-emetteur-column"),
        pytest.param(b"numero,texte,emetteur\r\n33612345678,Hi,\r\n", {}, id="unknown-column"),
        pytest.param(
            b"\xef\xbb\xbfnumero,message,emetteur\r\n33612345678,Hi,\r\n", {}, id="utf8-bom"
        ),
        pytest.param(
            b"numero,message,emetteur,ref,extra\r\n33612345678,Hi,,,\r\n", {}, id="five-columns"
        ),
        pytest.param(csv_file("33612345678,Hi"), {}, id="row-2-values"),
        pytest.param(csv_file("33612345678,Hi,,,"), {}, id="row-5-values"),
        pytest.param(csv_file(",Hi,,"), {}, id="empty-number"),
        pytest.param(csv_file("33612345678,,,"), {}, id="empty-message"),
        pytest.param(csv_file('"33612345678,33612345679",Hi,,'), {}, id="two-numbers"),
        pytest.param(csv_file('33612345678,"Hi,,'), {}, id="unterminated-quote"),
        pytest.param(csv_file('33612345678,"Hi"there,,'), {}, id="text-after-quote"),
        pytest.param(csv_file("33612345678,Hi,TWELVECHARSX,"), {}, id="row-sender-too-long"),
        pytest.param(
            csv_file("33612345678,Hi,SHOP,"), {"classe_msg": "4"}, id="row-sender-classe-4"
        ),
        pytest.param(
            csv_file("33612345678,Hi,,"),
            {"emetteur": "SHOP", "classe_msg": "4"},
            id="request-sender-classe-4",
        ),
        pytest.param(csv_file("33612345678,Hi,,"), {"classe_msg": "9"}, id="classe-9"),
        pytest.param(csv_file("33612345678,Hi,,"), {"classe_msg": "3"}, id="classe-3"),
        pytest.param(csv_file("33612345678,Hi,,"), {"nbr_msg": "0"}, id="nbr_msg"),
        pytest.param(csv_file("33612345678,Hi,,"), {"date_envoi": "2024-03-01 12:00"}, id="date"),
        pytest.param(csv_file("33612345678,Hi,,"), {"notification_url": "ftp://x"}, id="url"),
        pytest.param(
            csv_file("33612345678,Hi,,"), {"emetteur": "33612345678"}, id="request-sender-msisdn"
        ),
    ],
)
def test_invalid_requests_answer_35(
    client: TestClient, data: bytes | None, params: dict[str, str]
) -> None:
    assert batch(client, data, **params) == MISSING
    assert submissions(client) == []
    assert get(client, "credit.do", accessToken=TOKEN) == "1000000000"


def test_only_the_fichier_part_is_the_file(client: TestClient) -> None:
    assert batch(client, csv_file("33612345678,Hi,,"), field="file") == MISSING


def test_get_is_not_allowed(client: TestClient) -> None:
    assert client.get(f"{PATH}?accessToken={TOKEN}").status_code == 405


def test_reports_status_and_delete_work_per_number(client: TestClient, clock: FakeClock) -> None:
    sms_id = accepted_id(batch(client, csv_file("0612345678,one,,", "33612345699,two,,")))
    clock.advance(ALL_FINAL)
    assert report(client, sms_id) == "33612345678 11 | 33612345699 35"
    assert get(client, "smsStatus.do", accessToken=TOKEN, smsID=sms_id) == (
        "15 | Partially received"
    )
    deleted = get(client, "deleteSMS.do", accessToken=TOKEN, numero="33612345699")
    assert (deleted, only(client)["deleted"]) == ("0 | SMS message deleted", True)


def test_scheduled_batch_is_refunded_when_deleted(client: TestClient) -> None:
    data = csv_file("33612345678," + "a" * 200 + ",,", "33612345679,b,,")
    sms_id = accepted_id(batch(client, data, date_envoi="01032024-13:00"))
    assert (report(client, sms_id), only(client)["scheduled_for"]) == (
        "33612345678 10 | 33612345679 10",
        "2024-03-01T12:00:00+00:00",
    )
    get(client, "deleteSMS.do", accessToken=TOKEN, smsID=sms_id)
    assert get(client, "credit.do", accessToken=TOKEN) == "1000000000"


def test_callbacks_carry_each_rows_ref_client_and_cost(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    data = csv_file("33612345678," + "a" * 200 + ",,row-é", "33612345679,b,,")
    sms_id = accepted_id(batch(client, data, refClient="req", notification_url=URL))
    clock.advance(ALL_FINAL)
    got = {
        (c["numero"], c["statut"], c["smsID"], c["refClient"], c["cost"])
        for c in callbacks(client, sender)
    }
    assert got == {
        ("33612345678", "13", sms_id, "row-é", "2"),
        ("33612345678", "11", sms_id, "row-é", "2"),
        ("33612345679", "13", sms_id, "req", "1"),
        ("33612345679", "11", sms_id, "req", "1"),
    }


def test_callbacks_of_a_number_on_two_rows_carry_both_rows(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    data = csv_file("33612345678,one,,r1", "33612345678,two,,r2", "33612345679,three,,")
    accepted_id(batch(client, data, notification_url=URL))
    clock.advance(ALL_FINAL)
    got = [(c["numero"], c["statut"], c.get("refClient")) for c in callbacks(client, sender)]
    assert sorted(got) == [
        ("33612345678", "11", "r1"),
        ("33612345678", "11", "r2"),
        ("33612345678", "13", "r1"),
        ("33612345678", "13", "r2"),
        ("33612345679", "11", None),
        ("33612345679", "13", None),
    ]


def test_one_submission_whatever_the_texts(client: TestClient) -> None:
    accepted_id(
        batch(client, csv_file("33612345678,one,,", "33612345679,two,,", "0612345670,one,,"))
    )
    data = stats(client)
    assert (data["accepted_submissions"], data["accepted_recipients"]) == (1, 3)
    assert data["requests"]["smsmode.batch"] == 1
    assert len(submissions(client)) == 1


def test_duplicates_count_each_recipients_own_text(client: TestClient) -> None:
    accepted_id(batch(client, csv_file("33612345678,one,,", "33612345679,two,,")))
    send(client, message="two", numero="33612345678")  # another text for that number
    assert stats(client)["duplicate_recipients"] == 0
    send(client, message="two", numero="33612345679")
    accepted_id(batch(client, csv_file("33612345678,one,,", "33612345678,one,,")))
    assert stats(client)["duplicate_recipients"] == 3


def test_duplicates_survive_a_rebuild(client: TestClient) -> None:
    accepted_id(batch(client, csv_file("33612345678,one,,", "33612345679,two,,")))
    sms_id = accepted_id(
        send(client, message="x", numero="33600000000", date_envoi="01032024-13:00")
    )
    get(client, "deleteSMS.do", accessToken=TOKEN, smsID=sms_id)  # rebuilds the index
    send(client, message="two", numero="33612345679")
    assert stats(client)["duplicate_recipients"] == 1


def add_fault(client: TestClient, **rule: Any) -> None:
    response = client.post("/_sandbox/faults", json={"provider": "smsmode", **rule})
    assert response.status_code == 200, response.text


def test_code_fault_on_batch_accepts_nothing(client: TestClient) -> None:
    add_fault(client, endpoint="batch", action={"type": "code", "code": "50"})
    assert batch(client, ENGLISH) == "50 | Temporarily unavailable"
    assert send(client, message="Hi", numero="33612345678").startswith("0 |")
    assert [s["method"] for s in submissions(client)] == ["POST"]


def test_accept_then_timeout_fault_records_the_batch(client: TestClient) -> None:
    add_fault(client, endpoint="batch", action={"type": "accept_then_timeout", "delay": 0})
    accepted_id(batch(client, ENGLISH))
    assert only(client)["method"] == "POST-batch"


@pytest.mark.parametrize(
    "match",
    [
        {"text_contains": "Café"},
        {"numero_contains": "0612345678"},
        {"ref_client_contains": "row-2"},
        {"ref_client_contains": "req"},
        {"token": TOKEN},
    ],
    ids=["text", "numero", "row-ref", "request-ref", "token"],
)
def test_fault_rules_match_the_file(client: TestClient, match: dict[str, str]) -> None:
    add_fault(client, endpoint="batch", match=match, action={"type": "http_status", "status": 502})
    data = csv_file("33612345678,Hi,,row-1", "0612345678,Café,,row-2")
    response = client.post(
        f"{PATH}?accessToken={TOKEN}&refClient=req",
        files={"fichier": ("f.csv", data, "text/csv")},
    )
    assert response.status_code == 502
    assert submissions(client) == []


def test_rules_for_send_or_for_other_texts_let_the_batch_through(client: TestClient) -> None:
    add_fault(client, endpoint="send", action={"type": "http_status", "status": 503})
    code_31 = {"type": "code", "code": "31"}
    add_fault(client, endpoint="batch", match={"text_contains": "zzz"}, action=code_31)
    accepted_id(batch(client, ENGLISH))


def test_read_rows_keeps_raw_values() -> None:
    assert read_rows(b'numero, "message",EMETTEUR,RefClient\n1,"\xe9",s,r\n2,m,\n') == [
        ("1", "\xe9", "s", "r"),
        ("2", "m", "", ""),
    ]
    with pytest.raises(InvalidParameterError):
        read_rows(None)


def test_multipart_parts_of_damaged_bodies() -> None:
    assert multipart_parts(b"--b\r\n", "multipart/form-data") == []
    body = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b\r\nContent-Dis'
    assert multipart_parts(body, "multipart/form-data; boundary=b") == [("a", b"1")]
