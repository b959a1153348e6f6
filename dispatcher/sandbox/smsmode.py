"""sMsmode emulator: the endpoints of "sMsmode HTTP API 1.6" the product uses.

Written from the provider's document only (English v3.3, checked against the French v3.1);
section numbers below are the English document's. Every answer is ``text/plain`` with HTTP
200, fields separated by `` | `` as in the document's examples. Where the document gives no
answer format for an error, the sandbox uses ``<code> | <description>`` like sendSMS does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from dispatcher.sandbox.callbacks import CallbackRequest, EventBuilder, Schedule
from dispatcher.sandbox.config import DEFAULT_TOKEN, ConfigError
from dispatcher.sandbox.context import AdminError, ProviderEmulator, SandboxContext
from dispatcher.sandbox.faults import Fields
from dispatcher.sandbox.injection import disconnection_of, guarded
from dispatcher.sandbox.smsmode_batchfile import (
    Upload,
    fault_fields,
    read_upload,
    recipient_details,
    submit_batch,
)
from dispatcher.sandbox.smsmode_list import LIST, sms_list
from dispatcher.sandbox.smsmode_params import (
    InvalidParameterError,
    classe_of,
    normalise_number,
    parse_send,
    read_params,
)
from dispatcher.sandbox.smsmode_text import UNICODE_CLASS, decode_param
from dispatcher.sandbox.store import Submission
from dispatcher.sandbox.timeline import State, is_plausible_msisdn, number_hash

PREFIX = "/http/1.6"
PROVIDER = "smsmode"

# Answer descriptions, per endpoint, as the document words them (sections 3, 4, 5, 9, 11).
SEND = {
    "0": "Accepted",
    "31": "Internal error",
    "32": "Authentication error",
    "33": "Insufficient account balance",
    "35": "Missing mandatory parameter",
    "50": "Temporarily unavailable",
}
REPORT = {
    "31": "Internal error",
    "32": "Authentication error",
    "35": "Missing mandatory parameter",
    "61": "SMS not found",
}
STATUS = {
    "0": "Sent",
    "2": "Internal error - not sent",
    "10": "Scheduled",
    "11": "Received",
    "12": "Partially delivered",
    "13": "Delivered",
    "15": "Partially received",
    "31": "Internal error",
    "32": "Authentication error",
    "35": "Invalid parameters",
    "39": "Delivery error",
    "61": "Invalid smsID",
    "3998": "Invalid number",
    "3999": "Recipient blacklisted",
}
DELETE = {
    "0": "SMS message deleted",
    "31": "Internal error",
    "32": "Authentication error",
    "35": "Invalid parameters",
    "61": "SMS message not found",
}
CREDIT = {"31": "Internal error", "32": "Authentication error", "35": "Invalid parameters"}

# Section 4 and the annex: per-recipient status codes of each timeline state.
CODES: dict[State, int] = {
    State.SCHEDULED: 10,
    State.SENT: 0,
    State.GATEWAY: 13,
    State.RECEIVED: 11,
    State.DELIVERY_ERROR: 35,
    State.ROUTING_ERROR: 34,
    State.INVALID_RECIPIENT: 3998,
    State.EXPIRED: 37,
    State.BLACKLISTED: 3999,
    State.REJECTED: 22,
}
_CODE_TEXT = [str(CODES[s]) for s in sorted(CODES)]
# Orange, SFR, Free, Bouygues: a plausible operator code for French mobiles in callbacks.
_FRENCH_MCC_MNC = ("20801", "20810", "20815", "20820")


def answer(code: str, table: Mapping[str, str], *extra: str) -> Response:
    """``code | description [| extra]``; unknown codes get the sendSMS wording or "Error"."""
    description = table.get(code) or SEND.get(code) or "Error"
    return PlainTextResponse(" | ".join((code, description, *extra)))


def campaign_code(states: list[State]) -> str:
    """Section 11: one status for the whole SMS when it has several recipients.

    10 scheduled; 11 when every recipient received it; 13 when every recipient is at least
    gateway-delivered; once no recipient is merely "sent": 15 (partially received) when all
    are final and some received, 12 (partially delivered) when some failed and others are
    delivered or received, and when all failed 3998/3999 if they share that cause, 39
    (delivery error) otherwise; 0 (sent) in every other case.
    """
    counts = Counter(states)
    total = len(states)
    if counts[State.SCHEDULED]:
        return "10"
    received, gateway, sent = counts[State.RECEIVED], counts[State.GATEWAY], counts[State.SENT]
    if received == total:
        return "11"
    if sent:
        return "0"
    if received + gateway == total:
        return "13"
    if received and not gateway:
        return "15"
    if received or gateway:
        return "12"
    if len(counts) == 1 and states[0] in (State.INVALID_RECIPIENT, State.BLACKLISTED):
        return str(CODES[states[0]])
    return "39"


def mcc_mnc(number: str) -> str:
    """Operator code sent in callbacks (section 12); empty outside France."""
    if number.startswith(("336", "337")) and is_plausible_msisdn(number):
        return _FRENCH_MCC_MNC[number_hash(number) % len(_FRENCH_MCC_MNC)]
    return ""


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


class SmsmodeEmulator(ProviderEmulator):
    """sendSMS, sendSMSBatch, compteRendu, smsStatus, credit, deleteSMS, smsList, and the
    callbacks."""

    name = PROVIDER
    endpoints = ("send", "report", "status", "credit", "delete", "batch", "list")
    account_settings: ClassVar[Mapping[str, str]] = {"access_token": DEFAULT_TOKEN}

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self.config = ctx.config.smsmode
        try:
            self.zone = ZoneInfo(self.config.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown timezone {self.config.timezone!r}") from exc

    def routes(self) -> list[BaseRoute]:
        """All under ``/http/1.6/``; GET and POST everywhere (section 3 allows both)."""
        handlers: list[tuple[str, Callable[[Request], Any]]] = [
            ("sendSMS.do", self.send),
            ("compteRendu.do", self.report),
            ("smsStatus.do", self.status),
            ("credit.do", self.credit),
            ("deleteSMS.do", self.delete),
            ("smsList.do", self.sms_list),
        ]
        routes = [Route(f"{PREFIX}/{path}", h, methods=["GET", "POST"]) for path, h in handlers]
        # Section 17 uploads a file: POST only (a GET gets HTTP 405).
        return [*routes, Route(f"{PREFIX}/sendSMSBatch.do", self.batch, methods=["POST"])]

    async def _guard(
        self,
        request: Request,
        endpoint: str,
        table: Mapping[str, str],
        process: Callable[[dict[str, str]], Response],
    ) -> Response:
        params = await read_params(request)
        return await self._run(
            request, endpoint, table, lambda: _fault_fields(params), lambda: process(params)
        )

    async def _run(
        self,
        request: Request,
        endpoint: str,
        table: Mapping[str, str],
        fields: Callable[[], Fields],
        process: Callable[[], Response],
    ) -> Response:
        """Count the request and apply fault rules around ``process``."""

        async def run() -> Response:
            return process()

        return await guarded(
            self.ctx.faults,
            self.ctx.store,
            PROVIDER,
            endpoint,
            fields,
            run,
            lambda code: answer(code, table),
            disconnection_of(request),
        )

    async def send(self, request: Request) -> Response:
        """Section 3 (and 16 for classe_msg=9)."""
        return await self._guard(request, "send", SEND, lambda p: self._send(p, request.method))

    async def batch(self, request: Request) -> Response:
        """Section 17: one submission, one text per recipient (:mod:`smsmode_batchfile`)."""
        upload = await read_upload(request)
        return await self._run(
            request, "batch", SEND, lambda: fault_fields(upload), lambda: self._batch(upload)
        )

    async def report(self, request: Request) -> Response:
        """Section 4: ``msisdn status | msisdn status | ...``."""
        return await self._guard(request, "report", REPORT, self._report)

    async def status(self, request: Request) -> Response:
        """Section 11: ``status | description`` for the whole SMS."""
        return await self._guard(request, "status", STATUS, self._status)

    async def credit(self, request: Request) -> Response:
        """Section 5: the balance alone, e.g. ``212.5``."""
        return await self._guard(request, "credit", CREDIT, self._credit)

    async def delete(self, request: Request) -> Response:
        """Section 9: by smsID, or the latest SMS sent to ``numero``."""
        return await self._guard(request, "delete", DELETE, self._delete)

    async def sms_list(self, request: Request) -> Response:
        """Section 10: the account's last ``offset`` messages (:mod:`smsmode_list`)."""
        return await self._guard(request, "list", LIST, lambda p: sms_list(self.ctx, p, self.zone))

    def _send(self, params: dict[str, str], method: str) -> Response:
        ctx = self.ctx
        token = params.get("accessToken", "").strip()
        if not token:
            return answer("35", SEND)
        account = ctx.store.account(token)
        if account is None:
            return answer("32", SEND)
        now = ctx.clock()
        try:
            order = parse_send(params, method, now, self.zone, self.config)
        except InvalidParameterError:
            return answer("35", SEND)
        cost = order.parts * len(order.numbers)
        if not account.can_pay(cost):
            return answer("33", SEND)
        account.balance -= cost
        sub = Submission(
            provider=PROVIDER,
            id=ctx.store.new_id(),
            token=token,
            method=method,
            accepted_at=now,
            scheduled_for=order.scheduled_for,
            text=order.text,
            sender=order.sender,
            ref_client=order.ref_client,
            notification_url=order.notification_url,
            numbers=",".join(order.numbers),
            count=len(order.numbers),
            parts=order.parts,
            cost=float(cost),
            extra={"classe_msg": order.classe_msg, "notification_url_reponse": order.reply_url},
        )
        ctx.store.add(sub, order.numbers)
        return self._accepted(sub)

    def _batch(self, upload: Upload) -> Response:
        found = submit_batch(self.ctx, PROVIDER, upload, self.zone, self.config)
        return answer(found, SEND) if isinstance(found, str) else self._accepted(found)

    def _accepted(self, sub: Submission) -> Response:
        """Start the delivery-report callbacks of a recorded submission; answer 0."""
        if sub.notification_url:
            builder = self._report_builder(sub, sub.notification_url)
            schedule = Schedule(sub.numbers, sub.base, self.ctx.timeline, builder)
            self.ctx.callbacks.subscribe(sub.id, schedule)
        return answer("0", SEND, sub.id)

    def _visible(self, params: dict[str, str], table: Mapping[str, str]) -> Submission | Response:
        """The caller's submission named by smsID, or the error answer."""
        token, sms_id = params.get("accessToken", "").strip(), params.get("smsID", "").strip()
        if not token or not sms_id:
            return answer("35", table)
        if self.ctx.store.account(token) is None:
            return answer("32", table)
        sub = self.ctx.store.find(PROVIDER, sms_id)
        # Sections 4 and 11: "the search is limited to SMS messages sent within the last
        # 30 days"; a deleted SMS is not found either.
        too_old = sub is not None and (
            self.ctx.clock() - sub.base > self.config.search_limit_days * 86400
        )
        if sub is None or sub.token != token or sub.deleted or too_old:
            return answer("61", table)
        return sub

    def _report(self, params: dict[str, str]) -> Response:
        sub = self._visible(params, REPORT)
        if isinstance(sub, Response):
            return sub
        numbers = sub.number_list()
        states = self.ctx.timeline.states_at(numbers, sub.base, self.ctx.clock())
        text = _CODE_TEXT
        pairs = zip(numbers, states, strict=True)
        return PlainTextResponse(" | ".join([f"{n} {text[s]}" for n, s in pairs]))

    def _status(self, params: dict[str, str]) -> Response:
        sub = self._visible(params, STATUS)
        if isinstance(sub, Response):
            return sub
        states = self.ctx.timeline.states_at(sub.number_list(), sub.base, self.ctx.clock())
        return answer(campaign_code(states), STATUS)

    def _credit(self, params: dict[str, str]) -> Response:
        token = params.get("accessToken", "").strip()
        if not token:
            return answer("35", CREDIT)
        account = self.ctx.store.account(token)
        if account is None:
            return answer("32", CREDIT)
        return PlainTextResponse(format_balance(account.balance))

    def _delete(self, params: dict[str, str]) -> Response:
        ctx = self.ctx
        token = params.get("accessToken", "").strip()
        sms_id = params.get("smsID", "").strip()
        numero = normalise_number(params.get("numero", ""))
        if not token or not (sms_id or numero):
            return answer("35", DELETE)
        account = ctx.store.account(token)
        if account is None:
            return answer("32", DELETE)
        if sms_id:
            found = ctx.store.find(PROVIDER, sms_id)
            sub = found if found is not None and found.token == token else None
        else:
            sub = next(
                (
                    s
                    for s in ctx.store.newest_first(PROVIDER, token)
                    if not s.deleted and s.has_number(numero)
                ),
                None,
            )
        if sub is None or sub.deleted:
            return answer("61", DELETE)
        sub.deleted = True
        ctx.callbacks.cancel(sub.id)
        if ctx.clock() < sub.base:
            # A scheduled SMS deleted before its time is never sent: refund it and stop
            # counting its recipients as possible duplicates.
            sub.cancelled = True
            account.balance += sub.cost
            ctx.store.rebuild_duplicates()
        return answer("0", DELETE)

    def _charset(self, sub: Submission) -> str:
        return "utf-8" if sub.extra.get("classe_msg") == UNICODE_CLASS else "iso8859_15"

    def _local(self, epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, self.zone)

    def _report_builder(self, sub: Submission, url: str) -> EventBuilder:
        """Section 12: one GET per state change with the documented parameters.

        Values are percent-encoded in the charset of the original request (ISO-8859-15,
        or UTF-8 for classe_msg=9); unencodable characters become '?'. A batch's recipients
        carry their own refClient and cost.
        """
        charset = self._charset(sub)
        per_recipient = recipient_details(sub)

        def build(number: str, state: State, when: float) -> CallbackRequest:
            ref_client, cost = (
                (sub.ref_client, sub.parts) if per_recipient is None else per_recipient(number)
            )
            params = [
                ("numero", number),
                ("date_reception", self._local(when).strftime("%Y-%m-%d %H:%M:%S")),
                ("statut", str(CODES[state])),
                ("smsID", sub.id),
            ]
            if ref_client:
                params.append(("refClient", ref_client))
            params += [("mcc_mnc", mcc_mnc(number)), ("cost", str(cost))]
            query = urlencode(params, encoding=charset, errors="replace")
            return CallbackRequest(PROVIDER, _with_query(url, query))

        return build

    def reply(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Section 13: notify ``notification_url_reponse`` that a recipient replied."""
        sms_id, numero = payload.get("sms_id"), payload.get("numero")
        message = payload.get("message", "STOP")
        if not isinstance(sms_id, str) or not isinstance(numero, str):
            raise AdminError(400, '"sms_id" and "numero" (the replying recipient) are required')
        if not isinstance(message, str):
            raise AdminError(400, '"message" must be a string')
        sub = self.ctx.store.find(PROVIDER, sms_id)
        if sub is None:
            raise AdminError(404, f"no smsmode submission {sms_id}")
        url = sub.extra.get("notification_url_reponse")
        if not url:
            raise AdminError(409, "that submission has no notification_url_reponse")
        sender = normalise_number(numero)
        if not sub.has_number(sender):
            raise AdminError(400, f"{sender} is not a recipient of {sms_id}")
        response_id = str(payload.get("response_id") or self.ctx.store.new_id(10))
        params = [
            ("numero", self.config.reply_number),
            ("message", message),
            ("emetteur", sender),
            ("date_reception", self._local(self.ctx.clock()).strftime("%d%m%Y-%H%M%S")),
            ("smsID", sub.id),
        ]
        if sub.ref_client:
            params.append(("refClient", sub.ref_client))
        params.append(("responseID", response_id))
        query = urlencode(params, encoding=self._charset(sub), errors="replace")
        full = _with_query(str(url), query)
        self.ctx.callbacks.enqueue(CallbackRequest(PROVIDER, full))
        return {"queued": True, "response_id": response_id, "url": full}


def format_balance(balance: float) -> str:
    """Section 5 shows ``212.5``: shortest decimal form, no exponent, no trailing zeros."""
    text = f"{balance:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _fault_fields(params: dict[str, str]) -> Fields:
    """What fault rules can match: decoded message (before '?' replacement), raw numero."""
    try:
        classe = classe_of(params)
    except InvalidParameterError:
        classe = 2
    message = params.get("message")
    ref_client = params.get("refClient")
    return {
        "token": params.get("accessToken"),
        "text": None if message is None else decode_param(message, classe),
        "numero": params.get("numero"),
        "ref_client": None if ref_client is None else decode_param(ref_client, classe),
    }
