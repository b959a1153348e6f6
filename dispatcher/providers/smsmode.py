"""sMsmode HTTP API 1.6: form requests authenticated by ``accessToken``, plain-text answers.

Written from sMsmode's document ("HTTP API 1.6", v3.3 in English, with the French v3.1
beside it); "section N" below is a section of that document. The code tables live in
:mod:`dispatcher.providers.smsmode_codes`. The batch file of personalised campaigns (section
17) is the adapter's too: its methods are inherited from ``SmsmodeBatchFile``
(:mod:`dispatcher.providers.smsmode_batchfile`), and ``find_submission`` from the list of
sent messages (section 10) from ``SmsmodeSentList`` (:mod:`dispatcher.providers.smsmode_list`).
Callbacks (sections 12 and 13) are GETs the provider makes to us, parsed here from their
query parameters.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar, NoReturn

import httpx

from dispatcher.domain.models import (
    InboundMessage,
    OutboundBatch,
    PollResult,
    Report,
    SendResult,
)
from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.domain.text import Encoding
from dispatcher.errors import (
    CallbackError,
    ConfigurationError,
    Problem,
    ProviderError,
    UnknownOutcomeError,
)
from dispatcher.providers import smsmode_codes as codes
from dispatcher.providers.smsmode_batchfile import SmsmodeBatchFile
from dispatcher.providers.smsmode_list import SmsmodeSentList, answer_text

SEND_PATH = "/http/1.6/sendSMS.do"  # section 3 (and 16 for Unicode)
REPORT_PATH = "/http/1.6/compteRendu.do"  # section 4
CREDIT_PATH = "/http/1.6/credit.do"  # section 5
DELETE_PATH = "/http/1.6/deleteSMS.do"  # section 9
STATUS_PATH = "/http/1.6/smsStatus.do"  # section 11

# classe_msg (section 3): 2 "SMS Pro" is the default, 4 allows replies (France only, no
# custom sender: section 13), 9 is Unicode (section 16).
CLASS_PRO, CLASS_REPLY, CLASS_UNICODE = "2", "4", "9"
SENDER_MAX = 11  # section 3 "emetteur": 11 characters, no blank, no accent, no MSISDN
UNICODE_MAX_PARTS = 5  # section 16: "a maximum of 5 messages can be concatenated"
# Section 3 "Stop SMS parameter": stop=1 adds the mention only up to 149 characters so that
# the text stays within 160: the mention takes up to 11 characters. We reserve that much
# whenever stop is set, so that nbr_msg never truncates the text or its mention.
STOP_RESERVE = " STOP 36304"
DATE_ENVOI = "%d%m%Y-%H:%M"  # section 3 "ddMMyyyy-HH:mm"
CALLBACK_DATE = "%Y-%m-%d %H:%M:%S"  # section 12 "yyyy-MM-dd HH:mm:ss"
REPLY_DATE = "%d%m%Y-%H%M%S"  # section 13 says "ddMMyyyy-HHmss"; its example is 01012013-122233

_CODE = re.compile(r"[0-9]{1,4}")  # every documented answer code has at most 4 digits
_REPORT = re.compile(r"(\+?[0-9]+)\s+([0-9]+)")  # section 4: "recipient_msisdn status"
_POLL_ERROR = re.compile(r"([0-9]{1,4})(?:(?:\s*\|\s*|\s+)(\D.*)?)?", re.DOTALL)
_BALANCE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # section 5: "212.5", negative when post-paid
_SENDER = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class SubmissionStatus:
    """smsStatus.do's answer (section 11): the campaign's status when it had many recipients.

    ``status`` is None when the code is in none of the document's status tables.
    """

    code: str
    description: str
    status: RecipientStatus | None


class SmsmodeProvider(SmsmodeBatchFile, SmsmodeSentList):
    name = "smsmode"
    methods = ("GET", "POST")
    default_method = "POST"  # section 3: only POST takes more than 300 recipients
    max_recipients: ClassVar[Mapping[str, int]] = {"GET": 300, "POST": 1000}  # docs/providers.md
    # Nothing documented; a modest default, configurable per account (rate_limit).
    default_rate_limit = "20/second"
    can_poll = True
    report_horizon = timedelta(days=30)  # sections 4 and 11: the last 30 days are searched
    accepts_callbacks = True
    accepts_inbound = True  # replies, section 13
    has_balance = True  # credit, section 5
    can_schedule = True  # date_envoi, section 3
    can_cancel = True  # deleteSMS.do, section 9
    native_stop = True  # stop=1|2, section 3 "Stop SMS parameter" (not in batch mode)
    gsm_basic = codes.GSM_BASIC
    gsm_extended = codes.GSM_EXTENDED
    # Section 3 documents no maximum for nbr_msg, only its default of 5: past that the text
    # could be truncated without an error, so GSM texts are held to the same 5 parts
    # (765 characters) that section 16 documents for Unicode.
    max_gsm_parts: ClassVar[int] = 5
    # Section 17: a batch with ``texts`` (one per recipient) goes as one file, up to 1000 rows.
    per_recipient_texts: ClassVar[bool] = True

    # -- validation -------------------------------------------------------------------------

    def validate(
        self,
        *,
        text: str,
        sender: str | None,
        options: CampaignOptions,
        encoding: Encoding | None = None,  # the batch's, when already decided
    ) -> list[Problem]:
        problems = super().validate(text=text, sender=sender, options=options, encoding=encoding)
        replies = options.allow_replies
        if text.strip():
            encoding = encoding or self.measure(text).encoding
            parts = self._parts(text, encoding, options.stop)
            limit = UNICODE_MAX_PARTS if encoding is Encoding.UNICODE else self.max_gsm_parts
            if parts > limit:
                message = f"needs {parts} {encoding} SMS parts; sMsmode sends at most {limit}"
                problems.append(Problem("text", message))
            if replies and encoding is Encoding.UNICODE:
                message = "replies (classe_msg=4) cannot carry a Unicode text (classe_msg=9)"
                problems.append(Problem("options.allow_replies", message))
        if sender:
            if len(sender) > SENDER_MAX:
                problems.append(Problem("sender", "at most 11 characters", value=sender))
            if not _SENDER.fullmatch(sender):
                message = "ASCII letters and digits only, no blank or accent"
                problems.append(Problem("sender", message, value=sender))
            elif sender.isdigit():
                problems.append(Problem("sender", "a phone number is not allowed", value=sender))
            if replies:
                message = "not allowed with allow_replies: sMsmode's number is the sender"
                problems.append(Problem("sender", message, value=sender))
        return problems

    def check_batch(self, batch: OutboundBatch) -> None:
        """A personalised batch goes by batch file (section 17), checked by its own rules
        (``validate_texts``: GSM only, no ``stop``, a text's problems carry its row)."""
        if batch.texts is None:
            super().check_batch(batch)
        else:
            self.check_batch_file(batch)

    def billed_parts(
        self, text: str, options: CampaignOptions, force: Encoding | None = None
    ) -> int:
        """Parts with room for the STOP mention when ``stop`` is set (section 3)."""
        encoding = self.measure(text, force=force).encoding
        return self._parts(text, encoding, options.stop)

    def _parts(self, text: str, encoding: Encoding, stop: int | None) -> int:
        if stop is not None:
            text += STOP_RESERVE
        return self.measure(text, force=encoding).segments

    # -- sending ----------------------------------------------------------------------------

    def build_send_request(self, batch: OutboundBatch) -> httpx.Request:
        if batch.texts is not None:  # personalised: one text per recipient, in a file
            params = self._common_params(batch, self.batch_file_nbr_msg(batch.texts))
            return self.batch_file_request(batch, params)
        unicode = batch.encoding is Encoding.UNICODE
        # Section 3: regular texts are ISO-8859-15 (an unencodable character becomes "?", as
        # sMsmode would make it); section 16: Unicode texts are UTF-8. httpx's own form
        # encoding is always UTF-8, hence urlencode.
        charset = "utf-8" if unicode else "iso-8859-15"
        params = self._send_params(batch)
        encoded = urllib.parse.urlencode(params, encoding=charset, errors="replace")
        url = self.url(SEND_PATH)
        if batch.method == "GET":
            return httpx.Request("GET", f"{url}?{encoded}")
        if batch.method != "POST":
            raise ConfigurationError(f"{self.name} does not send by {batch.method}")
        # No charset parameter: the document never mentions one and its examples are GET
        # query strings, decoded by classe_msg. The body is that same string, so the server
        # reads it as it reads a GET (a charset could make it decode UTF-8 twice).
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return httpx.Request("POST", url, content=encoded.encode("ascii"), headers=headers)

    def _send_params(self, batch: OutboundBatch) -> list[tuple[str, str]]:
        stop = batch.options.stop
        # nbr_msg caps the parts and truncates past it (default 5, section 3): ask for what
        # the text needs, its STOP mention included.
        nbr_msg = max(batch.segments, self._parts(batch.text, batch.encoding, stop))
        params = self._common_params(batch, nbr_msg)
        params += [("message", batch.text), ("numero", ",".join(batch.msisdns))]
        if stop is not None:
            params.append(("stop", str(stop)))
        return params

    def _common_params(self, batch: OutboundBatch, nbr_msg: int) -> list[tuple[str, str]]:
        """The parameters sendSMS.do (section 3) and sendSMSBatch.do (section 17) share."""
        replies = batch.options.allow_replies
        if batch.encoding is Encoding.UNICODE and batch.texts is None:  # no class 9 in a file
            classe = CLASS_UNICODE
        else:
            classe = CLASS_REPLY if replies else CLASS_PRO
        params = [
            ("accessToken", self.account.secret("access_token")),
            ("classe_msg", classe),
            ("nbr_msg", str(nbr_msg)),
        ]
        if batch.sender and not replies:  # no emetteur with classe_msg=4 (sections 3 and 17)
            params.append(("emetteur", batch.sender))
        if batch.provider_send_at is not None:
            params.append(("date_envoi", self._date_envoi(batch.provider_send_at)))
        if batch.client_ref:
            params.append(("refClient", batch.client_ref))
        if batch.callback_url:
            params.append(("notification_url", batch.callback_url))
        return params

    def _date_envoi(self, when: datetime) -> str:
        """``when`` as the provider's wall-clock minute (sMsmode is French: Paris by default)."""
        return self.wall_clock(when).strftime(DATE_ENVOI)

    def parse_send_response(self, response: httpx.Response, batch: OutboundBatch) -> SendResult:
        status = response.status_code
        body = _body(response)
        outcome = self.http_outcome(status)
        if outcome is not None:
            return SendResult(outcome, None, f"HTTP {status}: {body[:200]}", http_status=status)
        # Section 3: "status_code | description | smsID (only if status_code = 0)".
        fields = _fields(body)
        code = fields[0]
        if not _CODE.fullmatch(code):
            return SendResult(
                Outcome.UNKNOWN, None, f"unreadable answer: {body[:200]!r}", http_status=status
            )
        outcome, known = codes.SEND_CODES.get(code, (Outcome.UNKNOWN, "undocumented code"))
        description = _at(fields, 1) or known
        sms_id = _at(fields, 2)
        if outcome is not Outcome.ACCEPTED:
            return SendResult(outcome, code, description, http_status=status)
        if not sms_id or any(c.isspace() for c in sms_id):
            # Accepted, but we could never match its reports: reconcile, never re-send.
            description = f"{description} (no usable smsID: {body[:200]!r})"
            return SendResult(Outcome.UNKNOWN, code, description, http_status=status)
        return SendResult(outcome, code, description, provider_ref=sms_id, http_status=status)

    # -- tracking ---------------------------------------------------------------------------

    def build_poll_request(self, provider_ref: str) -> httpx.Request:
        return self._get(REPORT_PATH, {"smsID": provider_ref})

    def parse_poll_response(self, response: httpx.Response, provider_ref: str) -> PollResult:
        status = response.status_code
        body = _body(response)
        outcome = self.http_outcome(status)
        if outcome is not None:
            return PollResult(outcome, description=f"HTTP {status}: {body[:200]}")
        if not body:
            return PollResult(Outcome.ACCEPTED)  # no report yet
        # Section 4 shows the error codes (31, 35, 61) but not the exact text of an error
        # answer: "61", "61 | SMS not found" and "61 SMS not found" are all read as one. A
        # report is always "msisdn status", two numbers, the first far longer than 4 digits.
        error = _POLL_ERROR.fullmatch(body)
        if error is not None:
            code = error[1]
            outcome, known = codes.REPORT_ERRORS.get(code, (Outcome.UNKNOWN, "undocumented code"))
            gone = code == codes.REPORT_GONE
            return PollResult(outcome, code=code, description=error[2] or known, gone=gone)
        reports = []
        for field in _fields(body):
            if not field:
                continue  # a trailing "|", as section 10's answers have
            found = _REPORT.fullmatch(field)
            if found is None:  # apply nothing from an answer we do not understand
                unreadable = f"unreadable reports: {body[:200]!r}"
                return PollResult(Outcome.UNKNOWN, description=unreadable)
            reports.append(self._report(found[1], found[2], provider_ref))
        return PollResult(Outcome.ACCEPTED, reports)

    def parse_callback(self, params: Mapping[str, str]) -> list[Report]:
        """The delivery-report GET of section 12 (numero, date_reception, statut, smsID, ...).

        ``cost`` and ``mcc_mnc`` are not kept: a Report has no place for them.
        """
        msisdn, code, sms_id = (_required(params, key) for key in ("numero", "statut", "smsID"))
        if not re.fullmatch(r"[0-9]+", code):
            raise CallbackError(f"statut {code!r} is not a status code")
        occurred = self._local_time(params, "date_reception", CALLBACK_DATE)
        client_ref = _optional(params, "refClient")
        return [self._report(msisdn, code, sms_id, occurred_at=occurred, client_ref=client_ref)]

    def parse_inbound(self, params: Mapping[str, str]) -> list[InboundMessage]:
        """The reply notification of section 13, sent to the URL set in the account settings.

        ``numero`` there is sMsmode's short number and ``emetteur`` the person who replied.
        """
        if "message" not in params:
            raise CallbackError("reply callback without message")
        reply = InboundMessage(
            from_msisdn=_required(params, "emetteur"),
            text=params["message"],
            received_at=self._local_time(params, "date_reception", REPLY_DATE),
            to=_optional(params, "numero"),
            provider_ref=_optional(params, "smsID"),
            client_ref=_optional(params, "refClient"),
            message_id=_required(params, "responseID"),
        )
        return [reply]

    def submission_status(self, provider_ref: str) -> SubmissionStatus:
        """The status of a whole submission (section 11), e.g. ``0 | Sent``."""
        fields = _fields(self._call(STATUS_PATH, {"smsID": provider_ref}))
        code = fields[0]
        if not _CODE.fullmatch(code) or code in codes.STATUS_ERRORS:
            self._raise_for(fields, codes.STATUS_ERRORS)
        known = codes.REPORT_STATUSES.get(code)
        status, text = known if known else (None, "undocumented status")
        return SubmissionStatus(code, _at(fields, 1) or text, status)

    def _report(
        self,
        msisdn: str,
        code: str,
        provider_ref: str,
        *,
        occurred_at: datetime | None = None,
        client_ref: str | None = None,
    ) -> Report:
        status, text = codes.report_status(code)
        return Report(msisdn, status, code, text, occurred_at, provider_ref, client_ref)

    # -- account ----------------------------------------------------------------------------

    def balance(self) -> Decimal:
        """Credits left (section 5): "212.5", negative for a post-paid account.

        A bare number is always a balance, even "32"; an error needs its "| description".
        """
        body = self._call(CREDIT_PATH, {})
        if not _BALANCE.fullmatch(body):
            self._raise_for(_fields(body), codes.SEND_CODES)
        return Decimal(body)

    def cancel(self, provider_ref: str) -> None:
        """Delete a scheduled (or not yet sent) SMS (section 9); 61 if it is not found."""
        fields = _fields(self._call(DELETE_PATH, {"smsID": provider_ref}))
        if fields[0] != "0":
            self._raise_for(fields, codes.DELETE_CODES)

    # -- helpers ----------------------------------------------------------------------------

    def _local_time(self, params: Mapping[str, str], key: str, fmt: str) -> datetime | None:
        value = _optional(params, key)
        if value is None:
            return None
        try:
            naive = datetime.strptime(value, fmt)
        except ValueError:
            raise CallbackError(f"{key} {value!r} does not match {fmt!r}") from None
        # Read in the account's zone; a time repeated when clocks go back takes its first
        # occurrence (fold=0).
        return naive.replace(tzinfo=self.zone)

    def _get(self, path: str, params: Mapping[str, str]) -> httpx.Request:
        token = self.account.secret("access_token")
        return httpx.Request("GET", self.url(path), params={"accessToken": token, **params})

    def _call(self, path: str, params: Mapping[str, str]) -> str:
        """One account call: the answer's text, or the ProviderError its failure proves."""
        answer = self._exchange(self._get(path, params))
        if answer.response is None:
            assert answer.outcome is not None
            error = self.scrubber.text(answer.error)
            raise ProviderError.for_outcome(answer.outcome, self.name, None, error)
        status, body = answer.response.status_code, _body(answer.response)
        outcome = self.http_outcome(status)
        if outcome is not None:
            # An error page may echo the request URL, accessToken and all (dispatcher/redact).
            raw = self.scrubber.text(body)
            raise ProviderError.for_outcome(outcome, self.name, None, f"HTTP {status}", raw)
        return body

    def _raise_for(self, fields: list[str], table: Mapping[str, tuple[Outcome, str]]) -> NoReturn:
        raw = self.scrubber.text(" | ".join(fields))
        fields = [self.scrubber.text(field) for field in fields]
        code = fields[0]
        if not _CODE.fullmatch(code):
            raise UnknownOutcomeError(self.name, None, f"unreadable answer: {raw[:200]!r}", raw)
        outcome, known = table.get(code, (Outcome.UNKNOWN, "undocumented code"))
        raise ProviderError.for_outcome(outcome, self.name, code, _at(fields, 1) or known, raw)


def _optional(params: Mapping[str, str], key: str) -> str | None:
    return params.get(key, "").strip() or None


def _required(params: Mapping[str, str], key: str) -> str:
    value = _optional(params, key)
    if value is None:
        raise CallbackError(f"callback without {key}")
    return value


def _body(response: httpx.Response) -> str:
    """The answer's text (UTF-8, else ISO-8859-15: ``answer_text``), without its blanks."""
    return answer_text(response).strip()


def _fields(body: str) -> list[str]:
    return [field.strip() for field in body.split("|")]


def _at(fields: list[str], index: int) -> str:
    return fields[index] if index < len(fields) else ""
