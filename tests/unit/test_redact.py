"""The one scrubber (dispatcher/redact.py): credentials by value in every encoding, and by name."""

from __future__ import annotations

import urllib.parse

import pytest

from dispatcher.domain.models import PollResult, RecipientResult, Report, SendResult
from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.redact import (
    MASK,
    Scrubber,
    basic_credentials,
    redact_names,
    remember,
    scrub_stored,
)

SECRET = 'Pa55 w0rd&<x>+/é"q'


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        urllib.parse.quote(SECRET, safe=""),
        urllib.parse.quote_plus(SECRET),
        "Pa55 w0rd&amp;&lt;x&gt;+/é&quot;q",
        'Pa55 w0rd&<x>+/\\u00e9\\"q',
    ],
    ids=["as-is", "url", "form", "xml", "json"],
)
def test_a_secret_is_masked_in_each_form_a_provider_could_echo_it_in(form: str) -> None:
    assert Scrubber([SECRET]).text(f"before {form} after") == f"before {MASK} after"


def test_a_secret_too_short_to_mask_by_value_leaves_other_words_alone() -> None:
    assert Scrubber(["Y"]).text("Your message: Yes") == "Your message: Yes"


def test_http_basic_credentials_are_masked_as_sent() -> None:
    header = basic_credentials("33612345678", "s3cr3t")
    assert Scrubber([header]).text(f"Authorization header was {header}") == (
        f"Authorization header was {MASK}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://api.smsmode.com/http/1.6/sendSMS.do?accessToken=Ab1CD2efg3Hi&message=Hi",
            "https://api.smsmode.com/http/1.6/sendSMS.do?accessToken=***&message=Hi",
        ),
        (
            "/bulksms/bulksms?username=X&password=Y&type=0",
            "/bulksms/bulksms?username=***&password=***&type=0",
        ),
        (
            "<request>/message/send?login=336&amp;password=s3c</request>",
            "<request>/message/send?login=***&amp;password=***</request>",
        ),
        (
            "<authentication><username>u</username><password>p&amp;q</password></authentication>",
            "<authentication><username>***</username><password>***</password></authentication>",
        ),
        ('{"password": "a\\"b", "n": 1}', '{"password": "***", "n": 1}'),
        (
            "u=https%3A%2F%2Fx%2Fcb%3Ftoken%3Dabc%26n%3D1",
            "u=https%3A%2F%2Fx%2Fcb%3Ftoken%3D***%26n%3D1",
        ),
        (
            "https://d.test/callbacks/smsmode/main/s3cr3t?x=1",
            "https://d.test/callbacks/smsmode/main/***?x=1",
        ),
        (
            "createSubAccount.do?newPseudo=b&newPass=yyyy",
            "createSubAccount.do?newPseudo=b&newPass=***",
        ),
    ],
    ids=[
        "smsmode-url",
        "bulkgw-url",
        "envoyer-request",
        "smsfactor-xml",
        "json",
        "encoded",
        "callback-path",
        "smsmode-subaccount",
    ],
)
def test_named_credentials_are_masked_without_knowing_them(text: str, expected: str) -> None:
    assert redact_names(text) == expected


def test_text_with_no_credential_is_unchanged() -> None:
    text = "32 | Authentication error | bypass the queue, passenger 3 | 1703"
    assert redact_names(text) == text


def test_results_are_scrubbed_in_every_text_they_carry() -> None:
    scrub = Scrubber(["s3cret-token"])
    sent = scrub.send_result(
        SendResult(
            Outcome.PERMANENT,
            "32",
            "bad s3cret-token",
            recipients=[RecipientResult("336", Outcome.PERMANENT, "1", "x s3cret-token")],
        )
    )
    polled = scrub.poll_result(
        PollResult(
            Outcome.ACCEPTED,
            reports=[Report("336", RecipientStatus.FAILED, "35", "raw s3cret-token")],
            description="s3cret-token",
        )
    )
    assert (sent.description, sent.recipients[0].description) == ("bad ***", "x ***")
    assert (polled.description, polled.reports[0].raw_text) == ("***", "raw ***")


def test_persistence_masks_the_credentials_adapters_were_built_with() -> None:
    remember(["remembered-s3cret"])
    assert scrub_stored("echo remembered-s3cret, accessToken=zz") == "echo ***, accessToken=***"
    assert scrub_stored(None) is None
