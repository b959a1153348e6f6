"""The bulk gateway's tables: section 1.4's answer codes, the SMPP v3.4 errors its note lets
through, message types (section 1.2) and the default report statuses."""

from __future__ import annotations

import pytest

from dispatcher.domain.statuses import Outcome
from dispatcher.providers import bulkgw_codes as codes

from ._bulkgw import REPORT_STATUSES, batch, provider
from ._http import response

A, T, P, U = Outcome.ACCEPTED, Outcome.TRANSIENT, Outcome.PERMANENT, Outcome.UNKNOWN

# Section 1.4 "Response", row by row (2.4 is the same table).
SECTION_1_4 = [
    ("1701", A, "Success, Message Submitted Successfully."),
    (
        "1702",
        P,
        "Invalid URL. This means that one of the parameters was not provided or left blank.",
    ),
    ("1703", P, "Invalid value in username or password field."),
    ("1704", P, "Invalid value in type field."),
    ("1705", P, "Invalid message."),
    ("1706", P, "Invalid destination."),
    ("1707", P, "Invalid source (Sender)."),
    ("1708", P, "Invalid value for dlr parameter."),
    ("1709", T, "User validation failed."),  # the only code the note lets us retry
    ("1710", P, "Internal error."),
    ("1725", P, "Insufficient credit."),
    ("1715", U, "Response timeout."),  # "do NOT re-submit the same message again"
    ("1732", P, "DND reject."),
    ("1028", P, "Spam message"),
    ("1041", P, "Duplicate Message."),
    ("1042", P, "Explicit DND Destination"),
    ("1033", P, "Message Template Mismatch."),
    ("69", P, "Internal Error"),
    ("8", P, "Internal Error"),
    ("16", P, "IP Blacklisted."),
    ("18", P, "Non Whitelisted User IP."),
]


@pytest.mark.parametrize(("code", "outcome", "description"), SECTION_1_4)
def test_every_section_1_4_code(code: str, outcome: Outcome, description: str) -> None:
    assert codes.classify(code) == (outcome, description)


def test_the_table_has_exactly_the_documented_codes() -> None:
    assert list(codes.SEND_CODES) == [code for code, _, _ in SECTION_1_4]


@pytest.mark.parametrize(("code", "outcome", "description"), SECTION_1_4)
def test_every_code_on_a_destination_line(code: str, outcome: Outcome, description: str) -> None:
    body = f"{code}|33612345678|m-{code}"
    result = provider().parse_send_response(response(body), batch(msisdns=["33612345678"]))
    (recipient,) = result.recipients
    assert (recipient.outcome, recipient.code, recipient.description) == (
        outcome,
        code,
        description,
    )
    assert recipient.message_id == ("m-1701" if code == "1701" else None)
    assert (result.outcome, result.code) == (outcome, code)


# SMPP v3.4 section 5.1.3 command_status values, in decimal (the document's 8 and 69 are).
SMPP = [
    ("1", "ESME_RINVMSGLEN"),
    ("2", "ESME_RINVCMDLEN"),
    ("3", "ESME_RINVCMDID"),
    ("4", "ESME_RINVBNDSTS"),
    ("5", "ESME_RALYBND"),
    ("6", "ESME_RINVPRTFLG"),
    ("7", "ESME_RINVREGDLVFLG"),
    ("8", "ESME_RSYSERR"),
    ("10", "ESME_RINVSRCADR"),
    ("11", "ESME_RINVDSTADR"),
    ("12", "ESME_RINVMSGID"),
    ("13", "ESME_RBINDFAIL"),
    ("14", "ESME_RINVPASWD"),
    ("15", "ESME_RINVSYSID"),
    ("17", "ESME_RCANCELFAIL"),
    ("19", "ESME_RREPLACEFAIL"),
    ("20", "ESME_RMSGQFUL"),
    ("21", "ESME_RINVSERTYP"),
    ("51", "ESME_RINVNUMDESTS"),
    ("52", "ESME_RINVDLNAME"),
    ("64", "ESME_RINVDESTFLAG"),
    ("66", "ESME_RINVSUBREP"),
    ("67", "ESME_RINVESMCLASS"),
    ("68", "ESME_RCNTSUBDL"),
    ("69", "ESME_RSUBMITFAIL"),
    ("72", "ESME_RINVSRCTON"),
    ("73", "ESME_RINVSRCNPI"),
    ("80", "ESME_RINVDSTTON"),
    ("81", "ESME_RINVDSTNPI"),
    ("83", "ESME_RINVSYSTYP"),
    ("84", "ESME_RINVREPFLAG"),
    ("85", "ESME_RINVNUMMSGS"),
    ("88", "ESME_RTHROTTLED"),
    ("97", "ESME_RINVSCHED"),
    ("98", "ESME_RINVEXPIRY"),
    ("99", "ESME_RINVDFTMSGID"),
    ("100", "ESME_RX_T_APPN"),
    ("101", "ESME_RX_P_APPN"),
    ("102", "ESME_RX_R_APPN"),
    ("103", "ESME_RQUERYFAIL"),
    ("192", "ESME_RINVOPTPARSTREAM"),
    ("193", "ESME_ROPTPARNOTALLWD"),
    ("194", "ESME_RINVPARLEN"),
    ("195", "ESME_RMISSINGOPTPARAM"),
    ("196", "ESME_RINVOPTPARAMVAL"),
    ("254", "ESME_RDELIVERYFAILURE"),
    ("255", "ESME_RUNKNOWNERR"),
]


@pytest.mark.parametrize(("code", "name"), SMPP)
def test_every_smpp_error_is_permanent(code: str, name: str) -> None:
    outcome, description = codes.classify(code)
    assert outcome is P  # throttling and "temporary" included: section 1.4's note
    if code not in codes.SEND_CODES:  # the document's own rows win (8, 69)
        assert description.startswith(f"SMPP v3.4 error {name} ")


def test_the_smpp_table_has_exactly_the_defined_errors() -> None:
    assert set(codes.SMPP_ERRORS) == {code for code, _ in SMPP}
    for (_, name), description in zip(SMPP, codes.SMPP_ERRORS.values(), strict=True):
        assert description.startswith(f"{name} ")


@pytest.mark.parametrize("code", ["1024", "1100", "1279", "0001100"])
def test_smpp_vendor_specific_errors_are_permanent(code: str) -> None:
    assert codes.classify(code) == (P, "SMPP v3.4 SMSC vendor-specific error")


@pytest.mark.parametrize(
    "code", ["0", "9", "16", "18", "22", "256", "1023", "1280", "1700", "1711"]
)
def test_codes_in_no_table_are_unknown_never_transient(code: str) -> None:
    outcome, description = codes.classify(code)
    if code in codes.SEND_CODES:  # 16 and 18 are SMPP reserved values the document defines
        assert outcome is P
    else:
        assert (outcome, description) == (U, "undocumented code")


@pytest.mark.parametrize(
    ("unicode", "flash", "expected"),
    [(False, False, "0"), (False, True, "1"), (True, False, "2"), (True, True, "6")],
)
def test_message_types(unicode: bool, flash: bool, expected: str) -> None:
    assert codes.message_type(unicode=unicode, flash=flash) == expected


def test_the_default_report_statuses_are_the_smpp_ones() -> None:
    assert dict(codes.REPORT_STATUSES) == dict(REPORT_STATUSES)
