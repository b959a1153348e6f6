"""SMSFactor emulator: "SMSFactor API v2.2" (French), sending, delivery reports, inbox.

Written from the provider's document only; section numbers below are that document's.
Both endpoints take an XML document by POST (sections 1.1, 2.1) under the https path
(``/API/...``) and the plain-http path (``/...``) the document gives, and answer an XML
``<response>`` with HTTP 200 whatever its status (the document mentions no HTTP status).

Send checks, in order: readable and well-formed XML in the documented shape (-2, see
:mod:`smsfactor_xml`), credentials (-1), the ``delay`` date (-4), the recipients (-5), then
the balance (-3). Error answers carry ``<status>`` and ``<message>`` only; ``<ticket>`` and
``<credits>`` come with an accepted message (status 1).
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dispatcher.sandbox.config import AccountConfig, ConfigError
from dispatcher.sandbox.context import AdminError, ProviderEmulator, SandboxContext
from dispatcher.sandbox.faults import Fields
from dispatcher.sandbox.injection import disconnection_of, guarded
from dispatcher.sandbox.smsfactor_config import (
    DEFAULT_ACCOUNT,
    SECTION,
    SmsfactorAccount,
    parse_section,
)
from dispatcher.sandbox.smsfactor_inbox import inbox_push
from dispatcher.sandbox.smsfactor_text import parts_for, to_gsm
from dispatcher.sandbox.smsfactor_wire import (
    MESSAGES,
    STATUS_TEXT,
    XmlError,
    answer,
    code_answer,
    format_credits,
    read_document,
    report_answer,
    status_answer,
    xml_error,
)
from dispatcher.sandbox.smsfactor_xml import (
    ReportRequest,
    SendRequest,
    join_ids,
    parse_delay,
    parse_report,
    parse_send,
    recipients_ok,
    split_ids,
)
from dispatcher.sandbox.store import Account, Submission

PROVIDER = "smsfactor"


def account_key(username: str) -> str:
    """The store's token for an SMSFactor login (tokens are shared by all emulators)."""
    return f"{PROVIDER}:{username}"


class SmsfactorSubmission(Submission):
    """A submission whose gsmsmsid references (stored joined) the admin API shows as a list."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        joined = self.extra.get("gsmsmsids")
        data["gsmsmsids"] = None if joined is None else split_ids(joined, self.count)
        return data


def _send_fields(order: SendRequest | XmlError) -> Fields:
    """What fault rules match: the login as ``token``, the text as received, the numbers
    comma-joined as ``numero``, the gsmsmsid references comma-joined as ``ref_client``."""
    if isinstance(order, XmlError):
        return {}
    return {
        "token": order.username,
        "text": order.text,
        "numero": ",".join(order.numbers),
        "ref_client": ",".join(order.gsmsmsids),
    }


def _report_fields(query: ReportRequest | XmlError) -> Fields:
    if isinstance(query, XmlError):
        return {}
    return {"token": query.username, "ref_client": query.gsmsmsid}


class SmsfactorEmulator(ProviderEmulator):
    """apiV2.php (section 1), getDr.php (section 2) and the inbox push (section 3)."""

    name = PROVIDER
    endpoints = ("send", "report")
    account_settings: ClassVar[Mapping[str, str]] = {
        "username": DEFAULT_ACCOUNT.username,
        "password": DEFAULT_ACCOUNT.password,
    }

    @classmethod
    def push_config(cls, callback_url: str, inbound_url: str) -> Mapping[str, Any]:
        """Section 3: inbound SMS go to a page set per account (no delivery-report push)."""
        account = {
            "username": DEFAULT_ACCOUNT.username,
            "password": DEFAULT_ACCOUNT.password,
            "inbox_url": inbound_url,
        }
        return {SECTION: {"accounts": [account]}}

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self.config = parse_section(ctx.config.providers.get(SECTION))
        try:
            self.zone = ZoneInfo(self.config.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown smsfactor timezone {self.config.timezone!r}") from exc
        self.accounts: dict[str, SmsfactorAccount] = {}
        for account in self.config.accounts:
            self.accounts[account.username] = account
            ctx.store.declare_account(
                AccountConfig(account_key(account.username), account.balance, account.postpaid)
            )
        self._covered = frozenset(self.config.covered_prefixes)
        self._prefix_lengths = tuple(sorted({len(p) for p in self._covered}))
        self._rng = random.Random()

    def routes(self) -> list[BaseRoute]:
        """The https paths of sections 1.1 and 2.1, and their plain-http twins; POST only
        ("obligatoirement [...] une méthode POST"), so other methods get HTTP 405."""
        table: list[tuple[str, Callable[[Request], Any]]] = [
            ("/API/apiV2.php", self.send),
            ("/apiV2.php", self.send),
            ("/API/getDr.php", self.report),
            ("/getDr.php", self.report),
        ]
        return [Route(path, handler, methods=["POST"]) for path, handler in table]

    async def send(self, request: Request) -> Response:
        """Section 1: accept an ``<sms>`` document."""
        order: SendRequest | XmlError
        transport = "body"
        try:
            data, transport = await read_document(request, self.config.max_body_bytes)
            order = parse_send(data)
        except XmlError as exc:
            order = exc

        async def run() -> Response:
            return self._send(order, transport)

        return await self._guarded(request, "send", lambda: _send_fields(order), run)

    async def report(self, request: Request) -> Response:
        """Section 2: the delivery reports of a ticket."""
        query: ReportRequest | XmlError
        try:
            data, _ = await read_document(request, self.config.max_body_bytes)
            query = parse_report(data)
        except XmlError as exc:
            query = exc

        async def run() -> Response:
            return self._report(query)

        return await self._guarded(request, "report", lambda: _report_fields(query), run)

    async def _guarded(
        self,
        request: Request,
        endpoint: str,
        fields: Callable[[], Fields],
        run: Callable[[], Awaitable[Response]],
    ) -> Response:
        ctx = self.ctx
        return await guarded(
            ctx.faults,
            ctx.store,
            PROVIDER,
            endpoint,
            fields,
            run,
            code_answer,
            disconnection_of(request),
        )

    def _authenticate(self, username: str, password: str) -> Account | None:
        """Section 1.2.1.1-2: a configured login needs its password; with
        ``accept_any_token`` any other non-empty login is accepted with any password."""
        if not username:
            return None
        declared = self.accounts.get(username)
        if declared is not None:
            ok = password == declared.password
            return self.ctx.store.account(account_key(username)) if ok else None
        if self.ctx.config.accept_any_token:
            return self.ctx.store.account(account_key(username))
        return None

    def _send(self, order: SendRequest | XmlError, transport: str) -> Response:
        if isinstance(order, XmlError):
            return xml_error(order)
        ctx = self.ctx
        account = self._authenticate(order.username, order.password)
        if account is None:
            return answer("-1")
        now = ctx.clock()
        try:
            scheduled_for = parse_delay(order.delay, self.zone, now)
        except ValueError:
            return answer("-4")
        if not recipients_ok(order.numbers, self._prefix_lengths, self._covered):
            return answer("-5")
        text = to_gsm(order.text)
        parts = parts_for(text)
        cost = float(parts * len(order.numbers))
        if not account.can_pay(cost):
            return answer("-3")
        account.balance -= cost
        sub = SmsfactorSubmission(
            provider=PROVIDER,
            id=self._new_ticket(),
            token=account.token,
            method="POST",
            accepted_at=now,
            scheduled_for=scheduled_for,
            text=text,
            sender=order.sender,
            ref_client=None,
            notification_url=None,
            numbers=",".join(order.numbers),
            count=len(order.numbers),
            parts=parts,
            cost=cost,
            extra={
                "username": order.username,
                "is_flash": order.is_flash,
                "type": order.type,
                "bookmark": order.bookmark,
                "transport": transport,
                "gsmsmsids": join_ids(order.gsmsmsids),
            },
        )
        ctx.store.add(sub, order.numbers)
        credits = format_credits(account.balance)
        return status_answer("1", MESSAGES["1"], ticket=sub.id, credits=credits)

    def _new_ticket(self) -> str:
        """Section 1.3.1.3 speaks of a ticket "numéro": a 9-digit number, unused so far."""
        while True:
            candidate = str(self._rng.randrange(100_000_000, 1_000_000_000))
            if candidate not in self.ctx.store.submissions:
                return candidate

    def _seen_at(self, sub: Submission, now: float) -> float | None:
        """When the reports were last refreshed for ``sub`` (section 2.3: "mis à jour toutes
        les minutes"), None before the first refresh ("Si aucun statut n'est disponible
        merci de réessayer plus tard")."""
        period = self.config.refresh_period
        if period <= 0:
            return now
        refreshes = math.floor((now - sub.accepted_at) / period + 1e-9)
        return None if refreshes < 1 else sub.accepted_at + refreshes * period

    def _report(self, query: ReportRequest | XmlError) -> Response:
        if isinstance(query, XmlError):
            return xml_error(query)
        ctx = self.ctx
        account = self._authenticate(query.username, query.password)
        if account is None:
            return answer("-1")
        sub = ctx.store.find(PROVIDER, query.ticket)
        if sub is None or sub.token != account.token:
            # The document gives no answer for an unknown ticket: the sandbox calls it an
            # XML error (a wrong value in the document), with its own message.
            return answer("-2", f"{MESSAGES['-2']} : ticket inconnu")
        seen_at = self._seen_at(sub, ctx.clock())
        if seen_at is None:
            return report_answer(MESSAGES["1"], [])
        numbers = sub.number_list()
        ids = split_ids(sub.extra.get("gsmsmsids"), len(numbers))
        if query.gsmsmsid is not None:
            picked = [i for i, ref in enumerate(ids) if ref == query.gsmsmsid]
            numbers, ids = [numbers[i] for i in picked], [ids[i] for i in picked]
        states = ctx.timeline.states_at(numbers, sub.base, seen_at)
        text = STATUS_TEXT
        rows = [(n, ref, text[s]) for n, ref, s in zip(numbers, ids, states, strict=True)]
        return report_answer(MESSAGES["1"], rows)

    def reply(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Section 3: push an inbound SMS to an account's inbox page (admin API).

        ``username`` picks the account (default: the first configured one).
        """
        username = payload.get("username", self.config.accounts[0].username)
        account = self.accounts.get(username) if isinstance(username, str) else None
        if account is None:
            raise AdminError(404, f"no smsfactor account {username!r}")
        request, document = inbox_push(PROVIDER, account, payload, self.zone, self.ctx.clock())
        self.ctx.callbacks.enqueue(request)
        return {"queued": True, "url": request.url, "xml": document}
