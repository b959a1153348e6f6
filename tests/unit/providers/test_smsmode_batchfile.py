"""sMsmode batch mode (section 17): personalised texts uploaded as an ISO-8859-15 CSV file."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import Encoding
from dispatcher.errors import (
    BatchTooLargeError,
    CampaignValidationError,
    ConfigurationError,
    Problem,
    UnsendableBatchError,
)
from dispatcher.providers import smsmode_batchfile, smsmode_codes
from dispatcher.providers.smsmode import SmsmodeProvider

from ._http import answering, response
from ._options import parsed
from ._smsmode import TOKEN, batch, provider

# Section 17's example file: the English v3.3 rows ("TOT0" there, "TOTO" in the French v3.1),
# under the French v3.1's header. Some numbers are quoted and some are not.
DOC_FILE_FR = (
    '"numero","message","emetteur","refClient"\n'
    '"99999911","Ceci est le corps du message 1, test fichier CSV","RDV","ref123"\n'
    '88888888,"Ceci est le corps du message 2, test fichier CSV","","ref456"\n'
    '77777777,"Ceci est le corps du message 3, test fichier CSV","TOTO","ref789"\n'
)
DOC_FILE_EN = (
    '"numero","message","emetteur"\n'
    '"99999911","This is the body of the message 1, test fichier CSV","RDV","ref123"\n'
    '88888888,"This is the body of the message 2, test fichier CSV","","ref456"\n'
    '77777777,"This is the body of the message 3, test fichier CSV","TOT0","ref789"\n'
)
DOC_NUMBERS = ("99999911", "88888888", "77777777")
DOC_TEXTS = tuple(f"This is the body of the message {n}, test fichier CSV" for n in (1, 2, 3))
HEADER = ["numero", "message", "emetteur", "refClient"]


def personal(
    texts: Sequence[str], *, msisdns: Sequence[str] | None = None, **fields: Any
) -> OutboundBatch:
    """A batch with one text per recipient. Its ``text`` is the texts joined, so that its
    encoding is the one a planner would decide for them (Unicode when any text needs it)."""
    numbers = msisdns if msisdns is not None else [f"336{i:08d}" for i in range(len(texts))]
    fields.setdefault("client_ref", "b7")
    return batch("".join(texts) or ".", msisdns=numbers, texts=list(texts), **fields)


def upload(request: httpx.Request) -> tuple[dict[str, str], bytes]:
    """The body's only multipart/form-data part: its headers (lower-case names), its bytes."""
    kind, _, boundary = request.headers["content-type"].partition("; boundary=")
    assert kind == "multipart/form-data"
    body = request.read()
    assert int(request.headers["content-length"]) == len(body)
    first, *parts, last = body.split(b"--" + boundary.encode("ascii"))
    assert (first, last) == (b"", b"--\r\n")
    assert len(parts) == 1, "one field only: the file"
    head, _, content = parts[0].partition(b"\r\n\r\n")
    assert head.startswith(b"\r\n")
    assert content.endswith(b"\r\n")
    lines = head.decode("ascii").split("\r\n")[1:]
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    return headers, content[:-2]


def file_of(request: httpx.Request) -> bytes:
    return upload(request)[1]


def rows(request: httpx.Request) -> list[list[str]]:
    """The file as sMsmode reads it: ISO-8859-15 CSV (section 17)."""
    text = file_of(request).decode("iso-8859-15")
    return list(csv.reader(io.StringIO(text, newline="")))


def query(request: httpx.Request) -> dict[str, str]:
    pairs = urllib.parse.parse_qsl(request.url.query.decode("ascii"), strict_parsing=True)
    assert len({k for k, _ in pairs}) == len(pairs), "a parameter appears twice"
    return dict(pairs)


def refusal(outbound: OutboundBatch) -> list[Problem]:
    with pytest.raises(UnsendableBatchError, match="batch 7 cannot be sent") as raised:
        provider().prepare_send(outbound)  # the provider refuses any request: none is made
    return raised.value.problems


def test_capability() -> None:
    assert SmsmodeProvider.per_recipient_texts is True


# -- the request ----------------------------------------------------------------------------


def test_section_17_curl_example() -> None:
    # curl -v -k -H "ContentType: multipart/formdata" -X POST
    #     -F "fichier=@fichier.csv;type=text/csv"
    #     "https://api.smsmode.com/http/1.6/sendSMSBatch.do?accessToken=Ab1CD2efg3Hi"
    request = provider().build_send_request(personal(DOC_TEXTS, msisdns=DOC_NUMBERS))
    assert request.method == "POST"
    assert str(request.url).startswith(
        "https://api.smsmode.com/http/1.6/sendSMSBatch.do?accessToken=Ab1CD2efg3Hi&"
    )
    headers, _ = upload(request)
    assert headers == {
        "content-disposition": 'form-data; name="fichier"; filename="fichier.csv"',
        "content-type": "text/csv",
    }


def test_section_17_example_file() -> None:
    doc_rows = list(csv.reader(io.StringIO(DOC_FILE_FR, newline="")))
    written = smsmode_batchfile.csv_file(doc_rows[1:])
    # The same file, every field quoted, lines ended by CRLF.
    assert written == DOC_FILE_FR.replace("\n", "\r\n").replace(
        "\r\n88888888,", '\r\n"88888888",'
    ).replace("\r\n77777777,", '\r\n"77777777",').encode("iso-8859-15")
    assert list(csv.reader(io.StringIO(written.decode("iso-8859-15"), newline=""))) == doc_rows


def test_english_example_has_four_values_under_three_names() -> None:
    # The inconsistency the French header resolves: a fourth column, refClient.
    header, *doc_rows = csv.reader(io.StringIO(DOC_FILE_EN, newline=""))
    assert header == HEADER[:3]
    assert {len(row) for row in doc_rows} == {4}


def test_adapter_file_for_the_example_recipients() -> None:
    outbound = personal(DOC_TEXTS, msisdns=DOC_NUMBERS, sender="RDV", client_ref="b7")
    assert rows(provider().build_send_request(outbound)) == [
        HEADER,
        ["99999911", DOC_TEXTS[0], "RDV", "b7"],
        ["88888888", DOC_TEXTS[1], "RDV", "b7"],
        ["77777777", DOC_TEXTS[2], "RDV", "b7"],
    ]


def test_every_field_is_quoted_and_lines_end_in_crlf() -> None:
    content = file_of(provider().build_send_request(personal(["Hi"], msisdns=["33600000001"])))
    assert content == b'"numero","message","emetteur","refClient"\r\n"33600000001","Hi","","b7"\r\n'


def test_iso_8859_15_bytes() -> None:
    content = file_of(provider().build_send_request(personal(["é€"], msisdns=["33600000001"])))
    assert b'"33600000001","\xe9\xa4",' in content  # é %E9, € %A4 (not UTF-8, not cp1252 %80)


@pytest.mark.parametrize(
    ("text", "in_file"),
    [
        ("Hello, Mum", b'"Hello, Mum"'),
        ('Say "hi"', b'"Say ""hi"""'),
        ("line 1\nline 2", b'"line 1\nline 2"'),
        ("line 1\r\nline 2", b'"line 1\r\nline 2"'),
        ('","\n', b'""",""\n"'),
    ],
)
def test_commas_quotes_and_newlines_are_quoted(text: str, in_file: bytes) -> None:
    request = provider().build_send_request(personal([text, "next"]))
    assert b'"33600000000",' + in_file + b',"","b7"\r\n' in file_of(request)
    assert [row[1] for row in rows(request)[1:]] == [text, "next"]


TABLE_TEXT = st.text(
    alphabet=sorted(smsmode_codes.GSM_BASIC | smsmode_codes.GSM_EXTENDED), min_size=1, max_size=60
).filter(str.strip)  # a blank text is refused (test_an_empty_text_is_refused)


@given(texts=st.lists(TABLE_TEXT, min_size=1, max_size=5))
def test_any_table_text_arrives_intact(texts: list[str]) -> None:
    outbound = personal(texts, encoding=Encoding.GSM)
    provider().check_batch(outbound)
    read = rows(provider().build_send_request(outbound))
    assert read[0] == HEADER
    assert [(row[0], row[1]) for row in read[1:]] == list(zip(outbound.msisdns, texts, strict=True))


def test_the_whole_table_has_iso_8859_15_bytes() -> None:
    table = "".join(sorted(smsmode_codes.GSM_BASIC | smsmode_codes.GSM_EXTENDED))
    assert table.encode("iso-8859-15").decode("iso-8859-15") == table


def test_a_character_iso_8859_15_lacks_is_never_sent_as_a_question_mark() -> None:
    with pytest.raises(UnicodeEncodeError):
        smsmode_batchfile.csv_file([("33600000001", "☺", "", "b7")])


def test_a_standard_multipart_parser_reads_the_same_file() -> None:
    request = provider().build_send_request(personal(['é€, "x"\ny', "b"]))
    head = b"Content-Type: " + request.headers["content-type"].encode("ascii") + b"\r\n\r\n"
    message = email.message_from_bytes(head + request.read(), policy=email.policy.HTTP)
    (part,) = message.iter_parts()
    assert part.get_param("name", header="content-disposition") == "fichier"
    assert part.get_content_type() == "text/csv"
    assert part.get_payload(decode=True) == file_of(request)


# -- query parameters -------------------------------------------------------------------------


def test_query_by_default() -> None:
    request = provider().build_send_request(personal(["Hello", "Hi"], client_ref=""))
    assert query(request) == {"accessToken": TOKEN, "classe_msg": "2", "nbr_msg": "1"}


@pytest.mark.parametrize(
    ("fields", "key", "value"),
    [
        ({"sender": "PERSO"}, "emetteur", "PERSO"),
        ({"client_ref": "b123"}, "refClient", "b123"),
        (
            {"callback_url": "https://cb.example/smsmode/s3cret?a=1&b=2"},
            "notification_url",
            "https://cb.example/smsmode/s3cret?a=1&b=2",
        ),
        (
            {"provider_send_at": datetime(2005, 12, 21, 13, 35, tzinfo=UTC)},
            "date_envoi",
            "21122005-14:35",
        ),
        ({"options": {"allow_replies": True}}, "classe_msg", "4"),
    ],
)
def test_each_optional_parameter_is_in_the_query_when_set(
    fields: dict[str, Any], key: str, value: str
) -> None:
    request = provider().build_send_request(personal(["Hello", "Hi"], **fields))
    assert query(request)[key] == value


@pytest.mark.parametrize("key", ["emetteur", "refClient", "notification_url", "date_envoi"])
def test_optional_parameters_are_absent_when_unset(key: str) -> None:
    assert key not in query(provider().build_send_request(personal(["Hello"], client_ref="")))


@pytest.mark.parametrize("key", ["message", "numero", "stop", "groupe"])
def test_sendsms_parameters_are_not_in_the_query(key: str) -> None:
    outbound = personal(["Hello"], sender="PERSO", options={"stop": 1})
    assert key not in query(provider().build_send_request(outbound))


def test_rows_carry_the_sender_and_the_batch_reference() -> None:
    request = provider().build_send_request(personal(["a", "b"], sender="PERSO", client_ref="b9"))
    assert [row[2:] for row in rows(request)[1:]] == [["PERSO", "b9"], ["PERSO", "b9"]]
    assert (query(request)["emetteur"], query(request)["refClient"]) == ("PERSO", "b9")


def test_replies_send_classe_4_and_no_sender_anywhere() -> None:
    outbound = personal(["a", "b"], sender="PERSO", options={"allow_replies": True})
    request = provider().build_send_request(outbound)
    assert query(request)["classe_msg"] == "4"
    assert "emetteur" not in query(request)
    assert [row[2] for row in rows(request)[1:]] == ["", ""]


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["a" * 160, "b"], "1"),  # section 17: nbr_msg=1 is 160 characters
        (["b", "a" * 161], "2"),
        (["a" * 306, "a"], "2"),  # nbr_msg=2 is 306
        (["a", "a" * 307, "a" * 200], "3"),
        (["a" * 459, "b" * 307], "3"),  # nbr_msg=3 is 459
        (["a" * 460, "a" * 10], "4"),
        (["{" * 80], "1"),  # starred characters count double
        (["x", "{" * 81], "2"),
        (["€" * 80, "a" * 160], "1"),
        (["a" * 765, "a"], "5"),
    ],
)
def test_nbr_msg_is_what_the_longest_row_needs(texts: list[str], expected: str) -> None:
    assert query(provider().build_send_request(personal(texts)))["nbr_msg"] == expected


def test_batches_without_texts_still_use_sendsms() -> None:
    request = provider().build_send_request(batch("Hello", method="POST"))
    assert request.url.path == "/http/1.6/sendSMS.do"


# -- refusals -------------------------------------------------------------------------------


def test_get_is_refused() -> None:
    assert refusal(personal(["Hello"], method="GET")) == [
        Problem("method", "a batch file (section 17) is uploaded by POST only", value="GET")
    ]
    with pytest.raises(ConfigurationError, match="by POST, not GET"):
        provider().build_send_request(personal(["Hello"], method="GET"))


def test_unicode_batch_is_refused() -> None:
    problems = refusal(personal(["Bonjour", "☺ merci"]))
    assert [(p.field, p.row, p.value) for p in problems] == [
        ("encoding", None, None),
        ("text", 2, "☺"),
    ]
    assert "no Unicode class (classe_msg=9)" in problems[0].message


def test_batch_marked_unicode_is_refused_even_with_table_texts() -> None:
    problems = refusal(personal(["Bonjour", "merci"], encoding=Encoding.UNICODE))
    assert [p.field for p in problems] == ["encoding"]


@pytest.mark.parametrize("character", ["Δ", "¤", "`", "\f", "ê", "œ", "☺", "😀"])
def test_characters_outside_the_table_are_refused(character: str) -> None:
    # Δ and ¤ are GSM 03.38 but not in sMsmode's ISO-8859-15 table; ê and œ are ISO-8859-15
    # but not in the table: sent, sMsmode would make them "?".
    problems = refusal(personal(["ok", f"a{character}b"], encoding=Encoding.GSM))
    assert [(p.field, p.row, p.value) for p in problems] == [("text", 2, character)]


def test_stop_is_refused() -> None:
    problems = refusal(personal(["Hello"], options={"stop": 1}))
    assert [(p.field, p.value) for p in problems] == [("options.stop", "1")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sender": "My Shop"}, "sender"),
        ({"sender": "PERSO", "options": {"allow_replies": True}}, "sender"),
    ],
)
def test_sender_and_options_follow_validate(fields: dict[str, Any], field: str) -> None:
    assert [p.field for p in refusal(personal(["a", "b", "c"], **fields))] == [field]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"allow_replies": "false"}, "options.allow_replies"),
    ],
)
def test_ill_typed_options_are_refused_before_any_batch(
    options: dict[str, Any], field: str
) -> None:
    # Enqueue parses options with the adapter's model: such a value never reaches a batch.
    with pytest.raises(CampaignValidationError) as raised:
        personal(["a", "b", "c"], options=options)
    assert [p.field for p in raised.value.problems] == [field]


def test_each_row_must_fit_the_part_limit() -> None:
    problems = refusal(personal(["a" * 765, "a" * 766, "{" * 383]))
    assert [(p.field, p.row) for p in problems] == [("text", 2), ("text", 3)]
    assert "needs 6 gsm SMS parts; sMsmode sends at most 5" in problems[0].message


def test_an_empty_text_is_refused() -> None:
    assert refusal(personal(["a", " "])) == [Problem("text", "is empty", row=2)]


def test_texts_must_match_the_recipients() -> None:
    outbound = personal(["a", "b"], msisdns=["33600000001", "33600000002", "33600000003"])
    assert refusal(outbound) == [Problem("texts", "2 texts for 3 recipients")]


def test_a_text_is_reported_once_at_its_first_row() -> None:
    problems = refusal(personal(["a", "☺", "b", "☺"], encoding=Encoding.GSM))
    assert [(p.field, p.row) for p in problems] == [("text", 2)]


def test_row_problems_are_capped() -> None:
    texts = [f"{i} ☺" for i in range(25)]
    problems = refusal(personal(texts, encoding=Encoding.GSM))
    assert [p.row for p in problems[:10]] == list(range(1, 11))
    assert problems[10:] == [Problem("texts", "15 more problem(s) in later rows")]


def test_validate_texts_is_the_campaign_check() -> None:
    adapter = provider()
    none = parsed(adapter)
    assert adapter.validate_texts(texts=["a", "b"], sender="PERSO", options=none) == []
    problems = adapter.validate_texts(texts=[], sender=None, options=none)
    assert problems == [Problem("texts", "is empty")]
    problems = adapter.validate_texts(
        texts=["☺"], sender=None, options=none, encoding=Encoding.UNICODE
    )
    assert [p.field for p in problems] == ["encoding", "text"]


@pytest.mark.parametrize(("size", "allowed"), [(1000, True), (1001, False)])
def test_a_file_takes_at_most_1000_rows(size: int, allowed: bool) -> None:
    outbound = personal(["Hello"] * size)
    if allowed:
        provider().check_batch(outbound)
    else:
        with pytest.raises(BatchTooLargeError, match="at most 1000 per batch file"):
            provider().check_batch(outbound)


def test_the_account_batch_size_applies() -> None:
    with pytest.raises(BatchTooLargeError, match="at most 2 per batch file"):
        provider(batch_size=2).check_batch(personal(["a", "b", "c"]))


# -- answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "outcome", "code", "ref"),
    [
        ("0 | Accepted | C4mpagne12", Outcome.ACCEPTED, "0", "C4mpagne12"),
        ("0 | Accepted", Outcome.UNKNOWN, "0", None),  # no campagneID: reconcile, never re-send
        ("31 | Internal error", Outcome.TRANSIENT, "31", None),
        ("32 | Authentication error", Outcome.PERMANENT, "32", None),
        ("33 | Insufficient credit", Outcome.PERMANENT, "33", None),
        ("35 | Obligatory parameters missing", Outcome.PERMANENT, "35", None),
        ("50 | Temporarily inaccessible", Outcome.TRANSIENT, "50", None),
        ("99 | ?", Outcome.UNKNOWN, "99", None),
    ],
)
def test_section_17_answers(body: str, outcome: Outcome, code: str, ref: str | None) -> None:
    seen: list[httpx.Request] = []
    adapter = provider(answering(body, seen=seen))
    outbound = personal(["Hello", "Hi"])
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert (result.outcome, result.code, result.provider_ref) == (outcome, code, ref)
    assert [r.url.path for r in seen] == ["/http/1.6/sendSMSBatch.do"]


def test_the_campaign_id_is_polled_as_an_sms_id() -> None:
    # Section 4 takes an smsID; we assume sMsmode's campagneID is accepted there.
    result = provider().parse_send_response(response("0 | Accepted | C4mpagne12"), personal(["a"]))
    assert result.provider_ref is not None
    request = provider().build_poll_request(result.provider_ref)
    assert request.url.path == "/http/1.6/compteRendu.do"
    assert dict(request.url.params) == {"accessToken": TOKEN, "smsID": "C4mpagne12"}
