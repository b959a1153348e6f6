"""Bulk gateway emulator: the "Unified Communications" bulk HTTP gateway's two GET APIs.

Written from the provider's document only ("Unified Communications API's"): section 1
(``/bulksms/bulksms``), section 2 (``/bulksms/schedulemsg``) and the codes of sections 1.4
and 2.4. Every answer is ``text/plain; charset=utf-8`` with HTTP 200 (the document shows no
other status). The document gives ``<Error_Code>|<destination>|<message_id>`` as the reply
format but not how several destinations are joined nor how a request-level error looks;
the sandbox answers:

- one ``code|destination|message_id`` item per destination, in request order, joined by
  commas (the separator of the ``destination`` list itself), no spaces, no final newline:
  ``1701|33612345678|Ab3dE5gH7jK9-1,1706|12ab|``. Errors have an empty message id.
- a request-level error as its code alone: ``1703``.

Destinations are echoed without '+' when valid (the number the gateway delivers to, also
the ``destination`` of the reports), as received otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from dispatcher.sandbox.bulkgw_config import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    SECTION,
    BulkgwAccount,
    parse_section,
)
from dispatcher.sandbox.bulkgw_dlr import (
    DATE_FORMAT,
    TaggedTimeline,
    message_id,
    report_builder,
    tagged_numbers,
)
from dispatcher.sandbox.bulkgw_params import (
    SCHEDULE_PARAMS,
    SEND_PARAMS,
    Order,
    RequestError,
    all_plain_numbers,
    destination_of,
    parse_order,
    read_query,
    require,
    scheduled_time,
    split_destinations,
    text_of,
)
from dispatcher.sandbox.bulkgw_text import parts
from dispatcher.sandbox.callbacks import Schedule
from dispatcher.sandbox.config import AccountConfig
from dispatcher.sandbox.context import ProviderEmulator, SandboxContext
from dispatcher.sandbox.faults import Fields
from dispatcher.sandbox.injection import disconnection_of, guarded
from dispatcher.sandbox.store import Account, Submission

PROVIDER = "bulkgw"
ACCEPTED = "1701"
#: Codes a fault rule answers alone, for the whole request: they are about the URL, the
#: account, the server or the caller's IP (section 1.4). Every other code (1706, 1709, 1715,
#: 1732, 1028, 1041, 1042, 1033, 69, 8, other SMPP v3.4 codes) is answered once per
#: destination, since the document's reply format carries a code per destination.
REQUEST_LEVEL_CODES = frozenset(
    {"1702", "1703", "1704", "1705", "1707", "1708", "1710", "1725", "16", "18"}
)


def _echo(item: str) -> str:
    """An invalid destination as received, minus the characters that would break the
    answer's format."""
    return item.replace("|", "?").replace("\r", "?").replace("\n", "?")


def _item(code: str, destination: str, msg_id: str = "") -> str:
    return f"{code}|{destination}|{msg_id}"


class BulkgwEmulator(ProviderEmulator):
    """``GET /bulksms/bulksms`` and ``GET /bulksms/schedulemsg``, plus pushed reports."""

    name = PROVIDER
    endpoints = ("send", "schedule")
    account_settings: ClassVar[Mapping[str, str]] = {
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
    }
    # The adapter reads the pushes of bulkgw_dlr.py: asked for with dlr=1, dates in UTC.
    pushed_account_settings: ClassVar[Mapping[str, str]] = {
        "options__dlr": "true",
        "options__report_time_format": DATE_FORMAT,
        "timezone": "UTC",
    }

    @classmethod
    def push_config(cls, callback_url: str, inbound_url: str) -> Mapping[str, Any]:
        """Reports go to the section's ``dlr_url``: the document names no way to set it."""
        return {SECTION: {"dlr_url": callback_url}}

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self.config = parse_section(ctx.config.providers.get(SECTION))
        self.accounts: dict[str, BulkgwAccount] = {}
        for account in self.config.accounts:
            self.accounts[account.username] = account
            ctx.store.declare_account(
                AccountConfig(_store_key(account.username), account.balance, account.postpaid)
            )
        self.timeline = TaggedTimeline(ctx.timeline.config, self.config.intermediate_reports)

    def routes(self) -> list[BaseRoute]:
        """Both APIs are GET only (sections 1.2 and 2.1); other methods get HTTP 405."""
        return [
            Route("/bulksms/bulksms", self.send, methods=["GET"]),
            Route("/bulksms/schedulemsg", self.schedule, methods=["GET"]),
        ]

    async def send(self, request: Request) -> Response:
        """Section 1.2. ``date``/``time``/``gmt`` are not parameters of this API and are
        ignored (the section 2.2 examples reuse this URL with them, but section 2.1 names
        ``/bulksms/schedulemsg``): the message goes at once."""
        return await self._guard(request, "send", SEND_PARAMS)

    async def schedule(self, request: Request) -> Response:
        """Section 2.1: the same parameters plus ``date``, ``time`` and ``gmt``."""
        return await self._guard(request, "schedule", SCHEDULE_PARAMS)

    async def _guard(self, request: Request, endpoint: str, names: tuple[str, ...]) -> Response:
        params = read_query(request.scope.get("query_string", b""))

        async def run() -> Response:
            return self._submit(params, endpoint, names)

        return await guarded(
            self.ctx.faults,
            self.ctx.store,
            PROVIDER,
            endpoint,
            lambda: _fault_fields(params),
            run,
            lambda code: _fault_answer(code, params),
            disconnection_of(request),
        )

    def _authenticate(self, params: dict[str, str]) -> tuple[Account, str | None]:
        """The account and its report URL; 1703 for unknown credentials.

        A configured username needs its password even with ``accept_any_token``; any other
        username/password pair is accepted only with ``accept_any_token``.
        """
        username, password = text_of(params["username"]), text_of(params["password"])
        declared = self.accounts.get(username)
        if declared is not None and declared.password != password:
            raise RequestError("1703")
        account = self.ctx.store.account(_store_key(username))
        if account is None:
            raise RequestError("1703")
        own_url = declared.dlr_url if declared is not None else None
        return account, own_url or self.config.dlr_url

    def _submit(self, params: dict[str, str], endpoint: str, names: tuple[str, ...]) -> Response:
        now = self.ctx.clock()
        try:
            require(params, names)
            account, dlr_url = self._authenticate(params)
            order = parse_order(params)
            scheduled_for = None
            if endpoint == "schedule":
                when = scheduled_time(params["date"], params["time"], params["gmt"])
                # A time already past is sent at once, as a late scheduler would do.
                scheduled_for = when if when > now else None
        except RequestError as error:
            return PlainTextResponse(error.code)
        codes, numbers = self._classify(order.destinations)
        accepted = [n for c, n in zip(codes, numbers, strict=True) if c == ACCEPTED]
        count = parts(order.text, order.message_type, self.config.unicode_unit)
        cost = float(count * len(accepted))
        if accepted and not account.can_pay(cost):
            return PlainTextResponse("1725")  # nothing is sent when the whole cost is not
        sub_id = ""
        if accepted:
            account.balance -= cost
            sub = self._submission(params, endpoint, order, accepted, now, scheduled_for)
            sub.parts, sub.cost, sub.extra["rejected"] = count, cost, len(codes) - len(accepted)
            self._record(sub, accepted, dlr_url if order.dlr else None)
            sub_id = sub.id
        items: list[str] = []
        index = 0
        for code, number in zip(codes, numbers, strict=True):
            if code == ACCEPTED:
                items.append(_item(code, number, message_id(sub_id, index)))
                index += 1
            else:
                items.append(_item(code, number))
        return PlainTextResponse(",".join(items))

    def _classify(self, destinations: list[str]) -> tuple[list[str], list[str]]:
        """Per destination: its code (1701, 1706 invalid, 1732 DND, 1042 explicit DND) and
        the number echoed in the answer."""
        dnd, explicit = self.config.dnd, self.config.explicit_dnd
        if not dnd and not explicit and all_plain_numbers(destinations):
            return [ACCEPTED] * len(destinations), destinations  # the usual case, at C speed
        codes: list[str] = []
        numbers: list[str] = []
        for item in destinations:
            number = destination_of(item)
            if number is None:
                codes.append("1706")
                numbers.append(_echo(item))
                continue
            numbers.append(number)
            if number in dnd:
                codes.append("1732")
            elif number in explicit:
                codes.append("1042")
            else:
                codes.append(ACCEPTED)
        return codes, numbers

    def _submission(
        self,
        params: dict[str, str],
        endpoint: str,
        order: Order,
        accepted: list[str],
        now: float,
        scheduled_for: float | None,
    ) -> Submission:
        """The submission of the accepted destinations (cost and parts set by the caller)."""
        username = text_of(params["username"])
        return Submission(
            provider=PROVIDER,
            id=self.ctx.store.new_id(),
            token=_store_key(username),
            method="GET",
            accepted_at=now,
            scheduled_for=scheduled_for,
            text=order.text,
            sender=order.source,
            ref_client=None,
            notification_url=None,
            numbers=",".join(accepted),
            count=len(accepted),
            parts=0,
            cost=0.0,
            extra={
                "api": "schedulemsg" if endpoint == "schedule" else "bulksms",
                "username": username,
                "type": order.message_type,
                "dlr": int(order.dlr),
            },
        )

    def _record(self, sub: Submission, accepted: list[str], dlr_url: str | None) -> None:
        """Store the submission and, when reports were asked for and have a URL to go to,
        subscribe them; ``notification_url`` shows that URL in the admin API."""
        sub.notification_url = dlr_url
        self.ctx.store.add(sub, accepted)
        if dlr_url is not None:
            build = report_builder(PROVIDER, sub, dlr_url)
            schedule = Schedule(tagged_numbers(accepted), sub.base, self.timeline, build)
            self.ctx.callbacks.subscribe(sub.id, schedule)


def _store_key(username: str) -> str:
    """Store accounts are shared by all providers: the prefix keeps usernames apart."""
    return f"{PROVIDER}:{username}"


def _fault_answer(code: str, params: dict[str, str]) -> Response:
    """A fault's code: alone for request-level codes (or when there is no destination),
    otherwise once per destination, with nothing accepted."""
    destinations = split_destinations(params.get("destination", ""))
    if code in REQUEST_LEVEL_CODES or not destinations:
        return PlainTextResponse(code)
    echoed = [destination_of(d) or _echo(d) for d in destinations]
    return PlainTextResponse(",".join(_item(code, d) for d in echoed))


def _fault_fields(params: dict[str, str]) -> Fields:
    """What fault rules match: ``token`` is the username, ``text`` the UTF-8 message,
    ``numero`` the destination list."""

    def value(name: str) -> str | None:
        raw = params.get(name)
        return None if raw is None else text_of(raw)

    return {
        "token": value("username"),
        "text": value("message"),
        "numero": value("destination"),
        "ref_client": None,
    }
