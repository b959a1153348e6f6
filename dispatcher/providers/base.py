"""The sequence every provider follows, written once; adapters fill in the provider's words.

Sending is split in two so that the caller can commit "being sent" in between:

    request = adapter.prepare_send(batch)    # check limits, build the httpx.Request
    ...  take a rate-limit token, commit the batch as ``sending`` ...
    result = adapter.execute_send(request, batch)   # send inside the error mapping, parse

Polling, callbacks and account calls have the same shape: build, exchange, parse. An adapter
never raises for a send: every answer becomes a :class:`SendResult` with an :class:`Outcome`.
Codes are classified by tables copied from each provider's document; a code missing from a
table is ``UNKNOWN``, never ``TRANSIENT``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import BaseModel, ValidationError

from dispatcher.domain.models import InboundMessage, OutboundBatch, PollResult, Report, SendResult
from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.placement import Placement, SubmissionProbe
from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import GSM_BASIC, GSM_EXTENDED, Encoding, TextMeasure, measure
from dispatcher.errors import (
    BatchTooLargeError,
    CapabilityError,
    ConfigurationError,
    Problem,
    UnsendableBatchError,
)
from dispatcher.metrics import record
from dispatcher.providers.http import Exchange, exchange
from dispatcher.redact import Scrubber, basic_credentials, remember
from dispatcher.settings import AccountSettings, account_env_var

OptionsT = TypeVar("OptionsT", bound=BaseModel)
CampaignOptionsT = TypeVar("CampaignOptionsT", bound=CampaignOptions)

# What an HTTP status proves when a provider's document says nothing more specific.
GENERIC_HTTP_OUTCOMES: Mapping[int, Outcome] = {
    408: Outcome.TRANSIENT,  # the server gave up before reading the request
    429: Outcome.TRANSIENT,
    500: Outcome.UNKNOWN,  # the request may have been processed
    502: Outcome.TRANSIENT,
    503: Outcome.TRANSIENT,
    504: Outcome.UNKNOWN,  # a gateway timed out waiting: the backend may have acted
}


# Each capability flag of Provider and the methods an adapter overrides when (and only when)
# the flag is True. The capability is used through these methods; the flag says it exists.
CAPABILITY_METHODS: Mapping[str, tuple[str, ...]] = {
    "can_poll": ("build_poll_request", "parse_poll_response"),
    "accepts_callbacks": ("parse_callback",),
    "accepts_inbound": ("parse_inbound",),
    "has_balance": ("balance",),
    "can_cancel": ("cancel",),
    "learns_rate_limit": ("discover_rate_limit",),
    "manages_stop_list": ("stop_list_contains", "stop_list_add", "stop_list_remove"),
    "can_find_submissions": ("find_submission",),
    "matches_pushed_reports": ("pushed_match_slack",),
}


class Provider(ABC):
    """Base class of the adapters. Capabilities are class attributes."""

    name: ClassVar[str]
    methods: ClassVar[tuple[str, ...]] = ("POST",)
    default_method: ClassVar[str] = "POST"
    # Documented or product maximum recipients per request, by HTTP method.
    max_recipients: ClassVar[Mapping[str, int]]
    default_rate_limit: ClassVar[str] = "50/second"
    # The campaign options this provider accepts: CampaignOptions, or a subclass of it adding
    # the provider's own (Envoyer SMS Pro's tag...). Parsed once at enqueue.
    options_model: ClassVar[type[CampaignOptions]] = CampaignOptions
    # Capabilities, in one form: a flag per endpoint a provider may lack. A flag is True
    # exactly when the adapter overrides the methods CAPABILITY_METHODS lists for it (the
    # contract test holds every registered adapter to that, so a flag cannot lie); callers
    # check the flag before calling, and the base methods raise CapabilityError.
    can_poll: ClassVar[bool] = False  # delivery reports by polling (fetch_reports)
    report_horizon: ClassVar[timedelta] = timedelta(days=2)
    accepts_callbacks: ClassVar[bool] = False  # delivery reports pushed to us (parse_callback)
    accepts_inbound: ClassVar[bool] = False  # SMS sent to us, pushed to us (parse_inbound)
    has_balance: ClassVar[bool] = False  # the account's credit can be asked (balance)
    can_cancel: ClassVar[bool] = False  # a send held for later can be deleted there (cancel)
    # The provider tells the account's own request limit (discover_rate_limit).
    learns_rate_limit: ClassVar[bool] = False
    # The provider keeps its own STOP list that we can read and write (stop_list_*).
    manages_stop_list: ClassVar[bool] = False
    # The provider's own records tell whether a send whose answer never came reached it
    # (find_submission; services/reconcile.py, docs/providers.md "Reconciliation").
    can_find_submissions: ClassVar[bool] = False
    # Pushed reports name their recipient by number and submit date, so one for a message id
    # we never stored can place an unknown recipient (pushed_match_slack;
    # services/reconcile_pushed.py, docs/providers.md "Reconciliation").
    matches_pushed_reports: ClassVar[bool] = False
    # Features of the send request itself, with no method of their own. The provider holds a
    # send until a time we give (campaign option provider_scheduling):
    can_schedule: ClassVar[bool] = False
    # The provider adds the STOP mention itself when asked (campaign option "stop"):
    native_stop: ClassVar[bool] = False
    # One request can carry a different text per recipient (sMsmode's batch file):
    per_recipient_texts: ClassVar[bool] = False
    gsm_basic: ClassVar[frozenset[str]] = GSM_BASIC
    gsm_extended: ClassVar[frozenset[str]] = GSM_EXTENDED
    http_outcomes: ClassVar[Mapping[int, Outcome]] = GENERIC_HTTP_OUTCOMES
    # The account's username is a credential too (SMSFactor's, which its answers may repeat
    # in <authentication>): masked in every provider text like the password (dispatcher/redact).
    secret_username: ClassVar[bool] = False

    def __init__(
        self, account: AccountSettings, client: httpx.Client, *, retry_seconds: float = 3.0
    ) -> None:
        self.account = account
        self.client = client
        self.retry_seconds = retry_seconds
        self.timeout = httpx.Timeout(
            account.read_timeout, connect=account.connect_timeout, pool=account.connect_timeout
        )
        # Every provider text this adapter returns goes through it (execute_send,
        # fetch_reports, errors' raw); persistence masks the same values again on writing.
        self.scrubber = Scrubber(self.credentials())
        remember(self.credentials())

    def credentials(self) -> list[str]:
        """The account's secrets as configured, and as HTTP Basic sends login and password."""
        account = self.account
        values = [
            field.get_secret_value()
            for field in (account.access_token, account.password, account.callback_secret)
            if field is not None
        ]
        if account.password is not None and account.username:
            values.append(basic_credentials(account.username, account.password.get_secret_value()))
        if self.secret_username and account.username:
            values.append(account.username)
        return [value for value in values if value]

    # -- limits and text ---------------------------------------------------------------------

    @property
    def method(self) -> str:
        method = self.account.method or self.default_method
        if method not in self.methods:
            raise ConfigurationError(f"{self.name} does not send by {method}")
        return method

    def batch_size(self, method: str | None = None) -> int:
        method = method or self.method
        limit = self.max_recipients[method]
        size = self.account.batch_size or limit
        if size > limit:
            raise ConfigurationError(
                f"account {self.account.name!r}: batch_size {size} exceeds {self.name}'s "
                f"limit of {limit} recipients per {method} request"
            )
        return size

    def measure(self, text: str, force: Encoding | None = None) -> TextMeasure:
        return measure(text, basic=self.gsm_basic, extended=self.gsm_extended, force=force)

    def billed_parts(
        self, text: str, options: CampaignOptions, force: Encoding | None = None
    ) -> int:
        """SMS parts the provider bills each recipient of ``text``, its own STOP mention
        included when ``options`` ask for one (for estimates; see services.estimate)."""
        return self.measure(text, force=force).segments

    def own_options(
        self, options: CampaignOptions, model: type[CampaignOptionsT]
    ) -> CampaignOptionsT:
        """``options`` as the adapter's own model (``options_model``), to read its own fields.

        Enqueue parses options with the adapter's model, so this is the same object; a plain
        CampaignOptions (a test's, an estimate's) is read again with the model's defaults.
        """
        if isinstance(options, model):
            return options
        return model.from_stored(options.to_stored())

    def validate_texts(
        self,
        *,
        texts: Sequence[str],
        sender: str | None,
        options: CampaignOptions,
        encoding: Encoding | None = None,
    ) -> list[Problem]:
        """``validate`` for a personalised campaign: each distinct text once, problems named
        with the first row (1-based) that has it."""
        problems: list[Problem] = []
        seen: set[str] = set()
        for row, text in enumerate(texts, start=1):
            if text in seen:
                continue
            seen.add(text)
            for problem in self.validate(
                text=text, sender=sender, options=options, encoding=encoding
            ):
                problems.append(replace(problem, row=row) if problem.field == "text" else problem)
        return list(dict.fromkeys(problems))

    def validate(
        self,
        *,
        text: str,
        sender: str | None,
        options: CampaignOptions,
        encoding: Encoding | None = None,
    ) -> list[Problem]:
        """Problems this provider sees in a campaign (``encoding``: the batch's, once decided).

        Adapters extend this list with their own rules (sender, length, options).
        """
        if not text.strip():
            return [Problem("text", "is empty")]
        # Half of a UTF-16 pair (from bytes decoded with surrogateescape, say) has no encoding
        # in any SMS alphabet: sending it would fail in the worker, not here.
        lone = next((i for i, c in enumerate(text, 1) if "\ud800" <= c <= "\udfff"), None)
        if lone is not None:
            where = f"character {lone} is a lone surrogate (U+{ord(text[lone - 1]):04X})"
            return [Problem("text", f"{where}, not a character an SMS can carry")]
        return []

    def check_batch(self, batch: OutboundBatch) -> None:
        limit = self.max_recipients.get(batch.method)
        if limit is None:
            raise ConfigurationError(f"{self.name} does not send by {batch.method}")
        if len(batch.msisdns) > limit or len(batch.msisdns) > self.batch_size(batch.method):
            raise BatchTooLargeError(
                f"batch {batch.batch_id} has {len(batch.msisdns)} recipients; {self.name} takes "
                f"at most {min(limit, self.batch_size(batch.method))} per {batch.method} request"
            )
        problems = self.validate(
            text=batch.text, sender=batch.sender, options=batch.options, encoding=batch.encoding
        )
        if problems:
            raise UnsendableBatchError(self.name, batch.batch_id, problems)

    # -- sending ----------------------------------------------------------------------------

    def prepare_send(self, batch: OutboundBatch) -> httpx.Request:
        self.check_batch(batch)
        return self.build_send_request(batch)

    def execute_send(self, request: httpx.Request, batch: OutboundBatch) -> SendResult:
        answer = self._exchange(request)
        if answer.response is None:
            assert answer.outcome is not None
            error = self.scrubber.text(answer.error)
            result = SendResult(answer.outcome, None, error, answered=answer.answered)
        else:
            result = self.scrubber.send_result(self.parse_send_response(answer.response, batch))
        record.provider_send(self, result)
        return result

    @abstractmethod
    def build_send_request(self, batch: OutboundBatch) -> httpx.Request: ...

    @abstractmethod
    def parse_send_response(self, response: httpx.Response, batch: OutboundBatch) -> SendResult: ...

    # -- tracking ---------------------------------------------------------------------------

    def fetch_reports(self, provider_ref: str) -> PollResult:
        """Ask for a submission's delivery reports (only when ``can_poll``)."""
        answer = self._exchange(self.build_poll_request(provider_ref))
        if answer.response is None:
            assert answer.outcome is not None
            error = self.scrubber.text(answer.error)
            polled = PollResult(answer.outcome, description=error, answered=answer.answered)
        else:
            parsed = self.parse_poll_response(answer.response, provider_ref)
            polled = self.scrubber.poll_result(parsed)
        record.provider_poll(self, polled, answer.response)
        return polled

    def build_poll_request(self, provider_ref: str) -> httpx.Request:
        raise self._lacks("can_poll", "has no delivery-report endpoint")

    def parse_poll_response(self, response: httpx.Response, provider_ref: str) -> PollResult:
        raise self._lacks("can_poll", "has no delivery-report endpoint")

    def parse_callback(self, params: Mapping[str, str]) -> list[Report]:
        """Delivery reports pushed to ``/callbacks/<provider>/<account>/<secret>``."""
        raise self._lacks("accepts_callbacks", "sends no delivery-report callbacks")

    def pushed_report_horizon(self) -> timedelta | None:
        """How long after acceptance a pushed report may still come for a submission that
        cannot be polled; None when this account is sent none. Past it, recipients without a
        final report expire (services/pacing.py::report_horizon)."""
        return self.report_horizon if self.accepts_callbacks else None

    def parse_inbound(self, params: Mapping[str, str]) -> list[InboundMessage]:
        """SMS sent to us, pushed to ``/inbound/<provider>/<account>/<secret>``."""
        raise self._lacks("accepts_inbound", "forwards no inbound SMS")

    # -- account ----------------------------------------------------------------------------

    def balance(self) -> Decimal:
        raise self._lacks("has_balance", "has no balance endpoint")

    def cancel(self, provider_ref: str) -> None:
        raise self._lacks("can_cancel", "cannot cancel a scheduled send")

    def discover_rate_limit(self) -> str | None:
        """The account's real request-rate limit, asked of the provider ("500 per 60 minutes"),
        or None when its answer does not say. Called rarely: the answer is cached."""
        raise self._lacks("learns_rate_limit", "does not tell an account's request limit")

    def stop_list_contains(self, msisdn: str) -> bool:
        raise self._lacks("manages_stop_list", "keeps no STOP list")

    def stop_list_add(self, msisdn: str) -> None:
        raise self._lacks("manages_stop_list", "keeps no STOP list")

    def stop_list_remove(self, msisdn: str) -> None:
        raise self._lacks("manages_stop_list", "keeps no STOP list")

    def find_submission(self, probe: SubmissionProbe) -> Placement:
        """Look for ``probe``'s request in the provider's own records (never raises for the
        provider's answer: an error is ``Undecided``)."""
        raise self._lacks("can_find_submissions", "keeps no record we can search for a send")

    def pushed_match_slack(self) -> timedelta | None:
        """How far outside a send's window a pushed report's submit date may lie and still be
        that send's (the report times' precision, the two clocks' drift); None when this
        account's reports can place nothing (none asked for, or no submit date in them)."""
        raise self._lacks("matches_pushed_reports", "pushes no report that names its send")

    def _lacks(self, capability: str, what: str) -> CapabilityError:
        return CapabilityError(self.name, capability, what)

    # -- shared helpers ---------------------------------------------------------------------

    def account_options(self, model: type[OptionsT]) -> OptionsT:
        """The account's ``options`` validated by ``model``; errors name the variable to set."""
        try:
            return model.model_validate(self.account.options)
        except ValidationError as exc:
            lines = [
                f"{account_env_var(self.account.name, 'options__' + '__'.join(map(str, e['loc'])))}"
                f": {e['msg']}"
                for e in exc.errors()
            ]
            raise ConfigurationError(
                f"account {self.account.name!r} ({self.name}) options:\n  " + "\n  ".join(lines)
            ) from None

    @property
    def zone(self) -> ZoneInfo:
        """The account's timezone: the one the provider's local dates are written in."""
        try:
            return ZoneInfo(self.account.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"account {self.account.name!r}: unknown timezone {self.account.timezone!r}"
            ) from None

    def wall_clock(self, when: datetime, resolution: timedelta = timedelta(minutes=1)) -> datetime:
        """``when`` on the account's clock, rounded up to ``resolution`` so nothing leaves early.

        The documents give no time zone for scheduled sends; the account's ``timezone``
        (Europe/Paris by default) says which zone the provider's clock reads.
        """
        if when.tzinfo is None:
            raise ValueError("provider_send_at must be timezone-aware")
        utc = when.astimezone(UTC)
        late = (utc - datetime(1970, 1, 1, tzinfo=UTC)) % resolution
        return (utc + (resolution - late if late else timedelta(0))).astimezone(self.zone)

    def url(self, path: str) -> str:
        return f"{self.account.base_url}/{path.lstrip('/')}"

    def http_outcome(self, status: int) -> Outcome | None:
        """The outcome an HTTP status proves on its own, or None when the body decides."""
        if status in self.http_outcomes:
            return self.http_outcomes[status]
        if 200 <= status < 300:
            return None
        if 400 <= status < 500:
            return Outcome.PERMANENT  # the provider refused this request as written
        return Outcome.UNKNOWN

    def _exchange(self, request: httpx.Request) -> Exchange:
        request.extensions["timeout"] = self.timeout.as_dict()
        started = time.monotonic()
        answer = exchange(self.client, request, retry_seconds=self.retry_seconds)
        record.provider_exchange(self, answer, time.monotonic() - started)
        return answer
