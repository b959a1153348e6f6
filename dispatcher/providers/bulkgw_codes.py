"""The bulk gateway's answers: code tables copied row by row from its document, and the
reading of section 1.4's answer lines.

Sections cited are those of the gateway's document ("Unified Communications API's").
Codes are kept as the strings the gateway sends. Section 1.4's note decides the outcomes:
"Apart from error code 1709, please do NOT retry re-sending the message for any other error
code (including SMPP v3.4 Error codes)" and "For error code 1715, do NOT re-submit the same
message again". So 1709 is the only transient code, 1715 (a response timeout: the message may
have gone) is unknown, and every other documented code is permanent. A code in none of these
tables is unknown, never transient (docs/architecture.md, "Never the same SMS twice").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from dispatcher.domain.models import RecipientResult, SendResult
from dispatcher.domain.statuses import Outcome, RecipientStatus

A, T, P, U = Outcome.ACCEPTED, Outcome.TRANSIENT, Outcome.PERMANENT, Outcome.UNKNOWN

# Section 1.4 "Response" (section 2.4 repeats it for the scheduler), every row, in its order.
SEND_CODES: Mapping[str, tuple[Outcome, str]] = {
    "1701": (A, "Success, Message Submitted Successfully."),
    "1702": (
        P,
        "Invalid URL. This means that one of the parameters was not provided or left blank.",
    ),
    "1703": (P, "Invalid value in username or password field."),
    "1704": (P, "Invalid value in type field."),
    "1705": (P, "Invalid message."),
    "1706": (P, "Invalid destination."),
    "1707": (P, "Invalid source (Sender)."),
    "1708": (P, "Invalid value for dlr parameter."),
    "1709": (T, "User validation failed."),
    "1710": (P, "Internal error."),
    "1725": (P, "Insufficient credit."),
    "1715": (U, "Response timeout."),
    "1732": (P, "DND reject."),
    "1028": (P, "Spam message"),
    "1041": (P, "Duplicate Message."),
    "1042": (P, "Explicit DND Destination"),
    "1033": (P, "Message Template Mismatch."),
    "69": (P, "Internal Error"),
    "8": (P, "Internal Error"),
    "16": (P, "IP Blacklisted."),
    "18": (P, "Non Whitelisted User IP."),
}

# Section 1.4's note: "standard SMPP v3.4 error codes may also be returned". They are read in
# decimal, as the document's own 8 (ESME_RSYSERR, 0x08) and 69 (ESME_RSUBMITFAIL, 0x45) are.
# The command_status table of SMPP v3.4 (its section 5.1.3), every defined error; ESME_ROK (0)
# is no error and stays out, so a "0" answer is unknown. Where the document gives a row for
# the same number (8, 69, and 16 and 18, which SMPP leaves reserved) the document's row wins.
# All permanent, throttling and "temporary" codes included: the document forbids retrying any.
SMPP_ERRORS: Mapping[str, str] = {
    "1": "ESME_RINVMSGLEN Message Length is invalid",
    "2": "ESME_RINVCMDLEN Command Length is invalid",
    "3": "ESME_RINVCMDID Invalid Command ID",
    "4": "ESME_RINVBNDSTS Incorrect BIND Status for given command",
    "5": "ESME_RALYBND ESME Already in Bound State",
    "6": "ESME_RINVPRTFLG Invalid Priority Flag",
    "7": "ESME_RINVREGDLVFLG Invalid Registered Delivery Flag",
    "8": "ESME_RSYSERR System Error",
    "10": "ESME_RINVSRCADR Invalid Source Address",
    "11": "ESME_RINVDSTADR Invalid Dest Addr",
    "12": "ESME_RINVMSGID Message ID is invalid",
    "13": "ESME_RBINDFAIL Bind Failed",
    "14": "ESME_RINVPASWD Invalid Password",
    "15": "ESME_RINVSYSID Invalid System ID",
    "17": "ESME_RCANCELFAIL Cancel SM Failed",
    "19": "ESME_RREPLACEFAIL Replace SM Failed",
    "20": "ESME_RMSGQFUL Message Queue Full",
    "21": "ESME_RINVSERTYP Invalid Service Type",
    "51": "ESME_RINVNUMDESTS Invalid number of destinations",
    "52": "ESME_RINVDLNAME Invalid Distribution List name",
    "64": "ESME_RINVDESTFLAG Destination flag is invalid (submit_multi)",
    "66": "ESME_RINVSUBREP Invalid 'submit with replace' request",
    "67": "ESME_RINVESMCLASS Invalid esm_class field data",
    "68": "ESME_RCNTSUBDL Cannot Submit to Distribution List",
    "69": "ESME_RSUBMITFAIL submit_sm or submit_multi failed",
    "72": "ESME_RINVSRCTON Invalid Source address TON",
    "73": "ESME_RINVSRCNPI Invalid Source address NPI",
    "80": "ESME_RINVDSTTON Invalid Destination address TON",
    "81": "ESME_RINVDSTNPI Invalid Destination address NPI",
    "83": "ESME_RINVSYSTYP Invalid system_type field",
    "84": "ESME_RINVREPFLAG Invalid replace_if_present flag",
    "85": "ESME_RINVNUMMSGS Invalid number of messages",
    "88": "ESME_RTHROTTLED Throttling error (ESME has exceeded allowed message limits)",
    "97": "ESME_RINVSCHED Invalid Scheduled Delivery Time",
    "98": "ESME_RINVEXPIRY Invalid message validity period (Expiry time)",
    "99": "ESME_RINVDFTMSGID Predefined Message Invalid or Not Found",
    "100": "ESME_RX_T_APPN ESME Receiver Temporary App Error Code",
    "101": "ESME_RX_P_APPN ESME Receiver Permanent App Error Code",
    "102": "ESME_RX_R_APPN ESME Receiver Reject Message Error Code",
    "103": "ESME_RQUERYFAIL query_sm request failed",
    "192": "ESME_RINVOPTPARSTREAM Error in the optional part of the PDU Body",
    "193": "ESME_ROPTPARNOTALLWD Optional Parameter not allowed",
    "194": "ESME_RINVPARLEN Invalid Parameter Length",
    "195": "ESME_RMISSINGOPTPARAM Expected Optional Parameter missing",
    "196": "ESME_RINVOPTPARAMVAL Invalid Optional Parameter Value",
    "254": "ESME_RDELIVERYFAILURE Delivery Failure",
    "255": "ESME_RUNKNOWNERR Unknown Error",
}
# SMPP v3.4 section 5.1.3: 0x400-0x4FF are "Reserved for SMSC vendor specific errors"; the
# document's 1028, 1033, 1041 and 1042 sit there. Such a code is an SMPP v3.4 error: permanent.
SMPP_VENDOR_RANGE = range(0x400, 0x500)


def classify(code: str) -> tuple[Outcome, str]:
    """What one answer code proves, and its description (``code`` is all digits)."""
    if code in SEND_CODES:
        return SEND_CODES[code]
    smpp = SMPP_ERRORS.get(code.lstrip("0") or "0")
    if smpp is not None:
        return P, f"SMPP v3.4 error {smpp}"
    if int(code) in SMPP_VENDOR_RANGE:
        return P, "SMPP v3.4 SMSC vendor-specific error"
    return U, "undocumented code"


# Section 1.2 "type". Plain text and Unicode follow the text; flash is the campaign option.
# 3 (reserved) and 4 (WAP Push: a URL to fetch, not a text) are not messages the product
# sends; 5 and 7 (ISO-8859-1) are 8-bit data coding, 140 characters an SMS, which the product
# neither measures (text.py knows GSM 7-bit and UCS-2) nor needs: a GSM text goes as 0, any
# other as 2, and many handsets render ISO-8859-1 SMS badly.
TYPE_PLAIN, TYPE_FLASH, TYPE_UNICODE, TYPE_UNICODE_FLASH = "0", "1", "2", "6"


def message_type(*, unicode: bool, flash: bool) -> str:
    if unicode:
        return TYPE_UNICODE_FLASH if flash else TYPE_UNICODE
    return TYPE_FLASH if flash else TYPE_PLAIN


# The document defines no delivery-report format (dlr=1 only asks for reports). Defaults are
# the "stat" values of an SMPP v3.4 delivery receipt (SMPP v3.4 appendix B) and the ENROUTE
# state of its message_state table (section 5.2.28); an account maps others in its options.
REPORT_STATUSES: Mapping[str, RecipientStatus] = {
    "DELIVRD": RecipientStatus.DELIVERED,
    "EXPIRED": RecipientStatus.EXPIRED,
    "DELETED": RecipientStatus.FAILED,
    "UNDELIV": RecipientStatus.FAILED,
    "REJECTD": RecipientStatus.FAILED,
    "ACCEPTD": RecipientStatus.SUBMITTED,
    "ENROUTE": RecipientStatus.SUBMITTED,
    "UNKNOWN": RecipientStatus.UNKNOWN,
}


# -- section 1.4: reading an answer ---------------------------------------------------------------

_ENTRY_SEPARATORS = re.compile(r"[\r\n,]+")
_CODE = re.compile(r"[0-9]{1,10}")  # SMPP command_status is 32 bits: at most 10 digits
_DESTINATION = re.compile(r"\+?[0-9]+")


@dataclass(frozen=True)
class Line:
    """One ``<Error_Code>|<destination>|<message_id>`` of section 1.4 (destination "" for a
    code that answers the whole request, e.g. 1702)."""

    code: str
    destination: str = ""
    message_id: str = ""


def body_text(response: httpx.Response) -> str:
    """The answer's text. The document names no charset: UTF-8, else ISO-8859-1."""
    try:
        return response.content.decode("utf-8").strip()
    except UnicodeDecodeError:
        return response.content.decode("iso-8859-1").strip()


def read_lines(body: str) -> list[Line] | None:
    """Section 1.4's ``<Error_Code>|<destination>|<message_id>`` lines, or None when unreadable.

    The document does not say what separates the lines of several destinations: line breaks
    and commas are both read. A code alone answers the whole request and must stand alone.
    """
    lines = []
    for entry in filter(None, (e.strip() for e in _ENTRY_SEPARATORS.split(body))):
        fields = [field.strip() for field in entry.split("|")]
        if len(fields) > 3 or not _CODE.fullmatch(fields[0]):
            return None
        destination = fields[1] if len(fields) > 1 else ""
        if destination and not _DESTINATION.fullmatch(destination):
            return None
        lines.append(Line(fields[0], destination, fields[2] if len(fields) > 2 else ""))
    if not lines or (len(lines) > 1 and not all(line.destination for line in lines)):
        return None
    return lines


def recipient_result(msisdn: str, line: Line) -> RecipientResult:
    outcome, description = classify(line.code)
    if outcome is not Outcome.ACCEPTED:
        return RecipientResult(msisdn, outcome, line.code, description)
    if not line.message_id or any(c.isspace() for c in line.message_id):
        # Accepted, but its delivery reports could never be matched: reconcile, never re-send.
        unusable = f"{description} (no usable message id)"
        return RecipientResult(msisdn, Outcome.UNKNOWN, line.code, unusable)
    return RecipientResult(msisdn, outcome, line.code, description, line.message_id)


def match_lines(msisdns: Sequence[str], lines: list[Line]) -> tuple[list[RecipientResult], int]:
    """Each destination's line, by number ("+" ignored); a destination the answer does not
    name is unknown. Returns the results and how many lines named no destination of ours."""
    pending: defaultdict[str, deque[Line]] = defaultdict(deque)
    for line in lines:
        pending[line.destination.lstrip("+")].append(line)
    results = []
    for msisdn in msisdns:
        queue = pending.get(msisdn.lstrip("+"))
        if queue:
            results.append(recipient_result(msisdn, queue.popleft()))
        else:
            results.append(RecipientResult(msisdn, Outcome.UNKNOWN, "", "missing from the answer"))
    return results, sum(len(queue) for queue in pending.values())


def summary(recipients: list[RecipientResult], unmatched: int, status: int) -> SendResult:
    """The batch's outcome: the recipients' one outcome when they share it; accepted when
    some were accepted and the rest refused; otherwise unknown, so that a batch part of which
    was (or may have been) taken is never sent again whole."""
    outcomes = {r.outcome for r in recipients}
    if not outcomes:  # an empty batch: nothing to say
        return SendResult(Outcome.UNKNOWN, None, "no destination", http_status=status)
    if len(outcomes) == 1:
        outcome = outcomes.pop()
    elif outcomes <= {Outcome.ACCEPTED, Outcome.PERMANENT}:
        outcome = Outcome.ACCEPTED
    else:
        outcome = Outcome.UNKNOWN
    counts = Counter(r.code or "none" for r in recipients)
    if len(counts) == 1:
        code = recipients[0].code or None
        description = recipients[0].description
    else:
        code = None
        description = ", ".join(f"{n} x {c}" for c, n in counts.most_common())
    if unmatched:
        description += f"; {unmatched} answer line(s) named no destination of the batch"
    return SendResult(outcome, code, description, http_status=status, recipients=recipients)
