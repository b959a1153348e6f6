"""Envoyer SMS Pro emulator: the "API SMS HTTP REST" 2.10 functions the product uses.

Written from the provider's document only (French, revision 2.10.0); the quotes and section
names below are the document's. Every function answers GET and POST under ``/api/`` with
an XML document (:mod:`dispatcher.sandbox.envoyer_xml`); any other path under ``/api/`` is
a 404 ("Soit votre URL est mal formée, soit la ressource demandée n'existe pas"), including
the documented functions the sandbox does not emulate (account create/delete/transfer,
response/get). Each call authenticates (error 1, HTTP 401), then counts against the
account's request limit (HTTP 400), then runs. Fault endpoints: ``send``, ``stats``,
``cancel``, ``status`` (account/status and account/getallaccounts) and ``stopsms``.

Helpers: ``envoyer_config`` (the config section), ``envoyer_params`` (raw parameters and
credentials), ``envoyer_accounts`` (authentication, rate limit, STOP lists),
``envoyer_send`` and ``envoyer_text`` (send validation, counting), ``envoyer_messages``
(stats, cancel), ``envoyer_account_api`` (account status and list, STOP functions),
``envoyer_xml`` (answers and HTTP statuses).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dispatcher.sandbox import envoyer_account_api as account_api
from dispatcher.sandbox.context import ProviderEmulator, SandboxContext
from dispatcher.sandbox.envoyer_accounts import Accounts, Session
from dispatcher.sandbox.envoyer_config import DEFAULT_ACCOUNT, parse_section
from dispatcher.sandbox.envoyer_messages import cancel, message_of, stats
from dispatcher.sandbox.envoyer_params import (
    BodyTooLargeError,
    Call,
    credentials,
    echo,
    read_params,
)
from dispatcher.sandbox.envoyer_send import parse_send
from dispatcher.sandbox.envoyer_xml import ApiError, error_response, success
from dispatcher.sandbox.faults import Fields
from dispatcher.sandbox.injection import disconnection_of, guarded
from dispatcher.sandbox.store import Submission

PREFIX = "/api"
PROVIDER = "envoyer"
#: Message ids are integers (the document's example shows 879).
FIRST_MESSAGE_ID = 1000

Process = Callable[[Call, Session], Response]
Handler = Callable[[Request], Awaitable[Response]]


async def not_found(request: Request) -> Response:
    """Unknown path under ``/api/``: HTTP 404; the document gives it no body."""
    return Response(status_code=404)


class EnvoyerEmulator(ProviderEmulator):
    """message/send, stats, cancel; account/status, getallaccounts; stopsms/*."""

    name = PROVIDER
    endpoints = ("send", "stats", "cancel", "status", "stopsms")
    account_settings: ClassVar[Mapping[str, str]] = {
        "username": DEFAULT_ACCOUNT.login,
        "password": DEFAULT_ACCOUNT.password,
    }
    # The documented 100 requests an hour would stall a demo: its account gets 3600, which
    # the dispatcher learns from /api/account/status like a real account's.
    rehearsal_config: ClassVar[Mapping[str, Any]] = {
        PROVIDER: {
            "accounts": [
                {
                    "login": DEFAULT_ACCOUNT.login,
                    "password": DEFAULT_ACCOUNT.password,
                    "account_id": int(DEFAULT_ACCOUNT.account_id),
                    "api_request_limit": 3600,
                }
            ]
        }
    }

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self.config = parse_section(ctx.config.providers.get(PROVIDER))
        self.zone = self.config.zone
        self.accounts = Accounts(self.config, ctx.config, ctx.store)
        self._next_id = FIRST_MESSAGE_ID

    def routes(self) -> list[BaseRoute]:
        """The emulated functions, then a catch-all 404 for the rest of ``/api/``."""
        table: list[tuple[str, str, Process]] = [
            ("/message/send", "send", self._send),
            ("/message/stats", "stats", self._stats),
            ("/message/cancel", "cancel", self._cancel),
            ("/account/status", "status", lambda call, session: account_api.status(session)),
            ("/account/getallaccounts", "status", self._all_accounts),
            ("/stopsms/check", "stopsms", account_api.stop_check),
            ("/stopsms/activate", "stopsms", self._stop_activate),
            ("/stopsms/deactivate", "stopsms", account_api.stop_deactivate),
        ]
        routes: list[BaseRoute] = [
            Route(PREFIX + path, self._endpoint(endpoint, process), methods=["GET", "POST"])
            for path, endpoint, process in table
        ]
        every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        routes.append(Route(PREFIX + "/{rest:path}", not_found, methods=every))
        return routes

    def _endpoint(self, endpoint: str, process: Process) -> Handler:
        """Read the request once, then authenticate, count and process under ``guarded``
        (so fault rules and request counters apply). A request a fault answers instead of
        processing does not count against the rate limit."""

        async def handler(request: Request) -> Response:
            request_echo = echo(request.scope["path"], request.scope.get("query_string", b""))
            try:
                params = await read_params(request)
            except BodyTooLargeError:
                return error_response(request_echo, ApiError(3))
            auth = request.headers.get("authorization")
            call = Call(request.method, params, request_echo, credentials(auth, params))

            async def run() -> Response:
                try:
                    session = self.accounts.authenticate(call.creds)
                    self.accounts.admit(session, self.ctx.clock())
                    return process(call, session)
                except ApiError as exc:
                    return error_response(call.echo, exc)

            return await guarded(
                self.ctx.faults,
                self.ctx.store,
                PROVIDER,
                endpoint,
                lambda: self._fields(call),
                run,
                lambda code: error_response(call.echo, ApiError.from_code(code)),
                disconnection_of(request),
            )

        return handler

    def _fields(self, call: Call) -> Fields:
        """Fault matching: ``token`` is the account's store key (``envoyer:LOGIN:ID``),
        ``text`` the text, ``numero`` the recipients (or the STOP functions' number) and
        ``ref_client`` the tag."""
        p = call.params
        return {
            "token": self.accounts.key_of(call.creds),
            "text": p.get("text"),
            "numero": p.get("recipients", p.get("phonenumber", p.get("phonenum"))),
            "ref_client": p.get("tag"),
        }

    def _new_id(self) -> str:
        """The next integer id not taken by any provider's submission."""
        while str(self._next_id) in self.ctx.store.submissions:
            self._next_id += 1
        self._next_id += 1
        return str(self._next_id - 1)

    def _send(self, call: Call, session: Session) -> Response:
        """Section "FONCTION NOUVEAU MESSAGE". Numbers on the account's STOP list are kept in the
        message (stats show them with status 5) but never sent nor billed. ``sms_sent`` is
        the number of SMS billed: SMS per recipient times billed recipients (the example's
        two one-SMS recipients give 2). Nothing is accepted without enough SMS (error 5)."""
        ctx = self.ctx
        now = ctx.clock()
        order = parse_send(call.params, call.method, now, self.zone)
        stop = session.stop_list
        stopped = [n for n in order.numbers if n in stop] if stop else []
        cost = order.sms * (len(order.numbers) - len(stopped))
        if not session.account.can_pay(cost):
            raise ApiError(5)
        session.account.balance -= cost
        sub = Submission(
            provider=PROVIDER,
            id=self._new_id(),
            token=session.key,
            method=call.method,
            accepted_at=now,
            scheduled_for=order.scheduled_for,
            text=order.text,
            sender=order.sender,
            ref_client=order.tag,
            notification_url=None,
            numbers=",".join(order.numbers),
            count=len(order.numbers),
            parts=order.sms,
            cost=float(cost),
            extra={
                "account_id": session.profile.account_id,
                "length": order.length,
                "truncated": order.truncated,
                "stopsms": order.stop,
                "long_message": order.long_allowed,
                "dedupe": order.dedupe,
                "all_numbers_allowed": order.all_numbers_allowed,
                "wrong_numbers": order.wrong_numbers,
                "responses_allowed": order.responses_allowed,
                "stop_listed": stopped,
                "cancelled": False,
            },
        )
        ctx.store.add(sub, order.numbers)
        return success(
            "message",
            [("message_id", sub.id), ("sms_sent", cost), ("sms_remaing", session.remaining)],
        )

    def _stats(self, call: Call, session: Session) -> Response:
        """Delegates to :func:`envoyer_messages.stats` (errors 7, 8, 11 or the report)."""
        sub = message_of(self.ctx.store, call, session)
        return stats(self.ctx.timeline, self.zone, sub, self.ctx.clock())

    def _cancel(self, call: Call, session: Session) -> Response:
        """Delegates to :func:`envoyer_messages.cancel` (refund, or errors 7, 9, 10, 11)."""
        sub = message_of(self.ctx.store, call, session)
        return cancel(self.ctx.store, self.ctx.timeline, sub, session, self.ctx.clock())

    def _all_accounts(self, call: Call, session: Session) -> Response:
        """The login's accounts need the account table, hence a method."""
        return account_api.all_accounts(self.accounts, session)

    def _stop_activate(self, call: Call, session: Session) -> Response:
        """Activation needs the store (has the account sent to that number?)."""
        return account_api.stop_activate(self.ctx.store, call, session)
