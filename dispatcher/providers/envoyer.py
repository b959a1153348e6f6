"""Envoyer SMS Pro REST API 2.10: form requests by GET or POST, XML answers, HTTP statuses.

Written from the provider's document (Envoyer SMS Pro's "API SMS HTTP REST" 2.10, in
French); sections are cited by their titles. The code tables and the character sets live in
:mod:`dispatcher.providers.envoyer_codes`. Every answer is untrusted XML, read by
:func:`read_answer` with a hardened parser. ``find_submission`` (the message id walk that finds
a send whose answer was lost) is inherited from :mod:`dispatcher.providers.envoyer_lookup`.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

import httpx
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dispatcher.domain.models import OutboundBatch, PollResult, Report, SendResult
from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import Encoding
from dispatcher.errors import (
    ConfigurationError,
    Problem,
    ProviderError,
    UnknownOutcomeError,
)
from dispatcher.providers import envoyer_codes as codes
from dispatcher.providers.base import GENERIC_HTTP_OUTCOMES
from dispatcher.providers.envoyer_lookup import EnvoyerLookup
from dispatcher.providers.xml import hardened_parser

SEND_PATH = "/api/message/send"  # "FONCTION NOUVEAU MESSAGE"
STATS_PATH = "/api/message/stats"  # "FONCTION STATISTIQUES DES MESSAGES"
CANCEL_PATH = "/api/message/cancel"  # "FONCTION ANNULATION D'ENVOI DE MESSAGE PROGRAMME"
STATUS_PATH = "/api/account/status"  # "FONCTION SMS RESTANT"
STOP_CHECK_PATH = "/api/stopsms/check"  # "FONCTION CONSULTATION STOP SMS"
STOP_ADD_PATH = "/api/stopsms/activate"  # "FONCTION ACTIVATION STOP SMS"
STOP_REMOVE_PATH = "/api/stopsms/deactivate"  # "FONCTION DESACTIVATION STOP SMS"

# "Détails sur le nombre de caractères" and "Détails sur le long SMS": 160 characters in one
# SMS; longmessageallowed=1 bills 161-306 as 2 and 307-459 as 3. Nothing longer is priced,
# so nothing longer is sent.
SINGLE_SMS, MAX_UNITS = 160, 459
# "Détails sur le STOP SMS": stopsms=1 appends a line break and "STOP SMS au 36111" and
# "leaves 141 characters": 17 characters and a line break that counts 2.
STOP_UNITS = SINGLE_SMS - 141
# sendername ("Appel à la fonction" and the error_id 3 list): at least 3 and at most 11
# characters, "no special characters" (read: ASCII letters and digits), not a number.
_SENDER = re.compile(r"[A-Za-z0-9]{3,11}")
_COUNT = re.compile(r"-?[0-9]{1,12}")
_MSISDN = re.compile(r"[0-9]{1,20}")
_PROVIDER_REF = re.compile(r"[0-9A-Za-z_-]{1,64}")  # the document's message_id is 879
SEND_DATE, SEND_TIME = "%Y%m%d", "%H%M"  # senddate YYYYMMDD, sendtime HHMM
STATS_DATE = "%Y-%m-%d %H:%M:%S"  # delivered_date "2011-02-10 13:32:00"
# "Les limites du nombre de requête": the window is 60 minutes from the window's first
# request, which we cannot see. A quarter of it bounds both the wait past the window's end
# and the refused requests spent finding it (at most 4 an hour).
RATE_LIMIT_RETRY_SECONDS = 900.0
# A stats answer for 1000 recipients (the POST maximum) is about 150 kB; nothing the API
# documents comes near 1 MiB, so a larger answer is refused unparsed.
MAX_ANSWER_BYTES = 1 << 20
# "Messages d'erreur" echoes the request in <request> with its "&" unescaped, which is not
# well-formed XML. Only such bare ampersands are repaired before parsing.
_BARE_AMP = re.compile(rb"&(?!(?:[A-Za-z_][A-Za-z0-9_.-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")


class EnvoyerOptions(CampaignOptions):
    """The campaign options Envoyer SMS Pro adds to the common ones."""

    # "FONCTION NOUVEAU MESSAGE", tag: "Alphanumérique limité à 20 caractères"; an empty tag
    # is refused ("Tag cannot be empty" in the error_id 3 list).
    tag: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,20}$")] | None = Field(
        None, description='1 to 20 letters or digits (tag, "FONCTION NOUVEAU MESSAGE")'
    )


class Options(BaseModel):
    """DISPATCHER_ACCOUNTS__<NAME>__OPTIONS__AUTH: "basic" (section "Authentification",
    solution 1, the default) or "params" (login/password/accountid parameters: solution 2 in a
    POST body, solution 3 in a GET query string)."""

    model_config = ConfigDict(extra="forbid")
    auth: Literal["basic", "params"] = "basic"


@dataclass(frozen=True)
class Answer:
    """``<envoyersmspro>`` with a status of success or fail. A failure's <request> is never
    read: it echoes the query string, credentials included."""

    root: etree._Element
    success: bool
    error_id: str | None = None
    message: str = ""


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    code: str | None
    description: str
    rate_limited: bool = False


def read_answer(content: bytes) -> Answer | None:
    """Parse an untrusted answer, or None when it is hostile, malformed or not the API's."""
    if len(content) > MAX_ANSWER_BYTES or b"<!DOCTYPE" in content.upper():
        return None
    try:
        root = etree.fromstring(_BARE_AMP.sub(b"&amp;", content), hardened_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root.getroottree().docinfo.internalDTD is not None or root.tag != "envoyersmspro":
        return None
    status = _text(root, "status")
    if status == "success":
        return Answer(root, success=True)
    if status != "fail":
        return None
    error_id, message = _text(root, "error/error_id"), _text(root, "error/error_message")
    return Answer(root, False, error_id or None, message)


class EnvoyerProvider(EnvoyerLookup):
    name = "envoyer"
    methods = ("GET", "POST")
    default_method = "POST"  # only POST takes 1000 recipients
    # "Détails sur le nombre de destinataires".
    max_recipients: ClassVar[Mapping[str, int]] = {"GET": 100, "POST": 1000}
    default_rate_limit = "100 per 60 minutes"  # "Les limites du nombre de requête"
    can_poll = True
    # Not documented. Operators keep an SMS 48 h at most in practice, and each poll spends one
    # of the account's 100 requests an hour: polling stops 3 days after the send.
    report_horizon = timedelta(days=3)
    can_schedule = True  # senddate/sendtime
    can_cancel = True  # /api/message/cancel
    has_balance = True  # "FONCTION SMS RESTANT": sms_remaining
    learns_rate_limit = True  # api_request_limit, "FONCTION SMS RESTANT"
    manages_stop_list = True  # /api/stopsms/*
    native_stop = True  # stopsms=1 ("Détails sur le STOP SMS")
    options_model = EnvoyerOptions
    gsm_basic = codes.GSM_BASIC
    gsm_extended = codes.GSM_EXTENDED
    # 400 is decided by its body ("HTTP Status Codes": invalid request or request limit); a
    # 400 we cannot read is unknown.
    http_outcomes: ClassVar[Mapping[int, Outcome]] = {**GENERIC_HTTP_OUTCOMES, 400: Outcome.UNKNOWN}

    # -- validation -------------------------------------------------------------------------

    def validate(
        self,
        *,
        text: str,
        sender: str | None,
        options: CampaignOptions,
        encoding: Encoding | None = None,
    ) -> list[Problem]:
        problems = super().validate(text=text, sender=sender, options=options, encoding=encoding)
        if text.strip():
            measured = self.measure(text)
            if measured.non_gsm:
                chars = ", ".join(repr(c) for c in measured.non_gsm)
                message = f"characters Envoyer SMS Pro does not document (no Unicode): {chars}"
                problems.append(Problem("text", message))
            elif encoding is Encoding.UNICODE or options.encoding == "unicode":
                problems.append(Problem("text", "Envoyer SMS Pro documents no Unicode sending"))
            elif (units := self._units(text, options.stop)) > MAX_UNITS:
                message = f"counts {units} characters; Envoyer SMS Pro sends at most {MAX_UNITS}"
                problems.append(Problem("text", message))
        if not sender:
            problems.append(Problem("sender", "required by Envoyer SMS Pro (sendername)"))
        elif not _SENDER.fullmatch(sender):
            problems.append(Problem("sender", "3 to 11 ASCII letters or digits", value=sender))
        elif sender.isdigit():
            problems.append(Problem("sender", "cannot be a number", value=sender))
        return problems

    def billed_parts(
        self, text: str, options: CampaignOptions, force: Encoding | None = None
    ) -> int:
        """The billing table of "Détails sur le long SMS": 1 to 160 counted characters is 1 SMS,
        to 306 is 2, to 459 is 3; the STOP mention counted when added."""
        units = self._units(text, options.stop)
        return 1 if units <= SINGLE_SMS else 2 if units <= 306 else 3

    def _units(self, text: str, stop: int | None) -> int:
        """The provider's count of the text, with its STOP mention when one is added."""
        units = self.measure(text, force=Encoding.GSM).units
        return units + STOP_UNITS if _mention(units, stop) else units

    # -- sending ----------------------------------------------------------------------------

    def build_send_request(self, batch: OutboundBatch) -> httpx.Request:
        options = self.own_options(batch.options, EnvoyerOptions)
        stop = options.stop
        units = self.measure(batch.text, force=Encoding.GSM).units
        params = [("text", batch.text), ("recipients", ",".join(batch.msisdns))]
        params.append(("sendername", batch.sender or ""))
        if batch.provider_send_at is not None:
            # Both or neither: the error list has "Senddate is missing" and "Sendtime ...".
            params += self._send_at(batch.provider_send_at)
        if self._units(batch.text, stop) > SINGLE_SMS or batch.segments > 1:
            params.append(("longmessageallowed", "1"))
        if _mention(units, stop):
            params.append(("stopsms", "1"))
        if options.tag is not None:
            params.append(("tag", options.tag))
        # Our batches never hold a number twice (duplicates are dropped when a campaign is
        # enqueued); dedupe=1 costs nothing and makes sure a slip never sends one SMS twice.
        params.append(("dedupe", "1"))
        if options.allow_replies:
            params.append(("responsestatusid", "1"))
        # Never allnumberallowed (a malformed number is billed anyway) nor
        # messagetruncationallowed (the text is cut): we want the error instead.
        return self._request(batch.method, SEND_PATH, params)

    def _send_at(self, when: datetime) -> list[tuple[str, str]]:
        """``when`` as the provider's wall-clock minute, rounded up so we never send early."""
        local = self.wall_clock(when)
        return [("senddate", local.strftime(SEND_DATE)), ("sendtime", local.strftime(SEND_TIME))]

    def parse_send_response(self, response: httpx.Response, batch: OutboundBatch) -> SendResult:
        status = response.status_code
        answer, verdict = self._judge(response, codes.SEND_ERRORS)
        if verdict is not None:
            wait = RATE_LIMIT_RETRY_SECONDS if verdict.rate_limited else None
            return SendResult(
                verdict.outcome,
                verdict.code,
                verdict.description,
                http_status=status,
                retry_after=wait,
                rate_limited=verdict.rate_limited,
            )
        assert answer is not None
        # "Retour du serveur": message_id, sms_sent and sms_remaing (sic).
        message_id = _text(answer.root, "message/message_id")
        sent, left = _text(answer.root, "message/sms_sent"), _remaining(answer.root, "message")
        description = f"accepted: {sent or '?'} SMS sent, {left or '?'} left"
        if not _PROVIDER_REF.fullmatch(message_id):
            # Accepted, but its reports could never be fetched: reconcile, never re-send.
            description += f" (no usable message_id: {message_id[:64]!r})"
            return SendResult(Outcome.UNKNOWN, "success", description, http_status=status)
        return SendResult(
            Outcome.ACCEPTED, "success", description, provider_ref=message_id, http_status=status
        )

    # -- tracking ---------------------------------------------------------------------------

    def build_poll_request(self, provider_ref: str) -> httpx.Request:
        return self._request(self._call_method, STATS_PATH, [("messageid", provider_ref)])

    def parse_poll_response(self, response: httpx.Response, provider_ref: str) -> PollResult:
        answer, verdict = self._judge(response, codes.POLL_ERRORS)
        if verdict is not None:
            gone = verdict.code == codes.POLL_GONE and verdict.outcome is Outcome.PERMANENT
            return PollResult(
                verdict.outcome,
                (),
                verdict.code,
                verdict.description,
                gone=gone,
                rate_limited=verdict.rate_limited,
            )
        assert answer is not None
        stats = answer.root.find("stats")
        if stats is None:
            return PollResult(Outcome.UNKNOWN, description="success without <stats>")
        reports, zone = [], self.zone
        for recipient in stats.iterfind("recipient"):
            msisdn, code = _text(recipient, "mobile_number"), _text(recipient, "status_id")
            date = _text(recipient, "delivered_date")
            try:
                # In the account's zone: the document names none. Empty when not delivered.
                occurred = (
                    datetime.strptime(date, STATS_DATE).replace(tzinfo=zone) if date else None
                )
            except ValueError:
                occurred, code = None, ""  # apply nothing from an answer we cannot read
            if not _MSISDN.fullmatch(msisdn) or not code:
                unreadable = f"unreadable recipient in stats: {msisdn[:20]!r} {date[:20]!r}"
                return PollResult(Outcome.UNKNOWN, description=unreadable)
            status, text = codes.report_status(code)
            opted_out = code == codes.OPTED_OUT
            reports.append(
                Report(msisdn, status, code, text, occurred, provider_ref, opted_out=opted_out)
            )
        return PollResult(Outcome.ACCEPTED, reports)

    # -- account ----------------------------------------------------------------------------

    def cancel(self, provider_ref: str) -> None:
        """Cancel a scheduled message. "Already cancelled" (11) is success: it is cancelled."""
        self._call(CANCEL_PATH, [("messageid", provider_ref)], codes.CANCEL_ERRORS)

    def balance(self) -> Decimal:
        """The SMS left on the account ("FONCTION SMS RESTANT": sms_remaining)."""
        answer = self._call(STATUS_PATH, [], codes.ACCOUNT_ERRORS)
        left = _remaining(answer.root, "account")
        if not _COUNT.fullmatch(left):
            raise UnknownOutcomeError(self.name, None, f"unreadable sms_remaining {left[:20]!r}")
        return Decimal(left)

    def discover_rate_limit(self) -> str | None:
        answer = self._call(STATUS_PATH, [], codes.ACCOUNT_ERRORS)
        limit = _text(answer.root, "account/api_request_limit")  # "FONCTION SMS RESTANT"
        if not (_COUNT.fullmatch(limit) and int(limit) > 0):
            return None
        return f"{int(limit)} per 60 minutes"

    def stop_list_contains(self, msisdn: str) -> bool:
        # The table and the example both say "phonenum ber": phonenumber cut by the layout.
        answer = self._stop_call(STOP_CHECK_PATH, [("phonenumber", msisdn)], msisdn)
        status = _text(answer.root, "stopsms/stop_sms_status_id")
        if status not in codes.STOP_SMS_STATUSES:
            raise UnknownOutcomeError(self.name, None, f"unreadable stop_sms_status_id {status!r}")
        return codes.STOP_SMS_STATUSES[status]

    def stop_list_add(self, msisdn: str) -> None:
        # The table and error list say phonenumber, the example phonenum: both are sent.
        self._stop_call(STOP_ADD_PATH, [("phonenumber", msisdn), ("phonenum", msisdn)], msisdn)

    def stop_list_remove(self, msisdn: str) -> None:
        self._stop_call(STOP_REMOVE_PATH, [("phonenumber", msisdn)], msisdn)

    def _stop_call(self, path: str, params: list[tuple[str, str]], msisdn: str) -> Answer:
        answer = self._call(path, params, codes.ACCOUNT_ERRORS)
        number = _text(answer.root, "stopsms/phone_number")
        if number and number != msisdn:
            raise UnknownOutcomeError(self.name, None, f"answer is about another number {number!r}")
        return answer

    # -- helpers ----------------------------------------------------------------------------

    @property
    def _auth(self) -> str:
        return self.account_options(Options).auth

    @property
    def _call_method(self) -> str:
        # Every function takes GET or POST. With Basic auth, GET as the examples; with
        # parameters, POST keeps the password out of the URL ("solution 2" over "3").
        return "GET" if self._auth == "basic" else "POST"

    def _request(self, method: str, path: str, params: Sequence[tuple[str, str]]) -> httpx.Request:
        """GET with a query string or POST with a form body, both UTF-8 and URL-encoded
        (sections "Paramètres" and "Encodage"); commas kept as the examples write them."""
        login = self.account.required("username")
        password = self.account.secret("password")
        headers: dict[str, str] = {}
        if self._auth == "basic":
            # "Solution 1": login:password, or login:password:accountid for several accounts.
            secret = (
                f"{password}:{self.account.account_id}" if self.account.account_id else password
            )
            token = base64.b64encode(f"{login}:{secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        else:
            credentials = [("login", login), ("password", password)]
            if self.account.account_id:
                credentials.append(("accountid", self.account.account_id))
            params = [*credentials, *params]
        encoded = urllib.parse.urlencode(params, safe=",")
        url = self.url(path)
        if method == "GET":
            return httpx.Request("GET", f"{url}?{encoded}" if encoded else url, headers=headers)
        if method != "POST":
            raise ConfigurationError(f"{self.name} does not send by {method}")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return httpx.Request("POST", url, content=encoded.encode("ascii"), headers=headers)

    def _judge(
        self, response: httpx.Response, table: Mapping[str, Outcome]
    ) -> tuple[Answer | None, Verdict | None]:
        """The answer, and its verdict unless it is a success to read further.

        A failure document decides a 2xx or a 400; on another 4xx it can only refine the
        status (404 with "Unknown messageid"), else the status decides.
        """
        status = response.status_code
        answer = read_answer(response.content)
        if answer is not None and not answer.success:
            if 200 <= status < 300 or status == 400:
                return answer, self._error_verdict(status, answer, table)
            if 400 < status < 500 and status not in self.http_outcomes:
                verdict = self._error_verdict(status, answer, table)
                if verdict.outcome is not Outcome.UNKNOWN:
                    return answer, verdict
        outcome = self.http_outcome(status)
        if outcome is not None:
            said = f": {answer.message}" if answer is not None and answer.message else ""
            code = answer.error_id if answer is not None else None
            return answer, Verdict(outcome, code, f"HTTP {status}{said}")
        if answer is None:
            return None, Verdict(Outcome.UNKNOWN, None, f"unreadable answer (HTTP {status})")
        return answer, None

    def _error_verdict(self, status: int, answer: Answer, table: Mapping[str, Outcome]) -> Verdict:
        code = answer.error_id
        outcome, limited = codes.error_outcome(table, status, code, answer.message)
        description = answer.message or codes.ERROR_MESSAGES.get(code or "", "undocumented error")
        return Verdict(
            outcome, code, f"request limit: {description}" if limited else description, limited
        )

    def _call(
        self, path: str, params: list[tuple[str, str]], table: Mapping[str, Outcome]
    ) -> Answer:
        """One account call: its success answer, or the ProviderError its failure proves."""
        exchanged = self._exchange(self._request(self._call_method, path, params))
        if exchanged.response is None:
            assert exchanged.outcome is not None
            error = self.scrubber.text(exchanged.error)
            raise ProviderError.for_outcome(exchanged.outcome, self.name, None, error)
        answer, verdict = self._judge(exchanged.response, table)
        if verdict is not None and verdict.outcome is not Outcome.ACCEPTED:
            description = self.scrubber.text(verdict.description)
            raise ProviderError.for_outcome(verdict.outcome, self.name, verdict.code, description)
        assert answer is not None
        return answer


def _mention(units: int, stop: int | None) -> bool:
    """Whether stopsms=1 is sent. Envoyer always appends the mention, so stop=2 ("always")
    sends it and stop=1 ("only if it fits") only when text and mention fit in one SMS."""
    return stop == 2 or (stop == 1 and units + STOP_UNITS <= SINGLE_SMS)


def _text(element: etree._Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _remaining(root: etree._Element, parent: str) -> str:
    """sms_remaining, spelt sms_remaing in the send and cancel answers of the document."""
    return _text(root, f"{parent}/sms_remaining") or _text(root, f"{parent}/sms_remaing")
