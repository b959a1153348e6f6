"""The "Unified Communications" bulk HTTP gateway: GET only, one answer line per destination.

Written from the gateway's document ("Unified Communications API's", bulk HTTP API);
"section N" below is a section of that document. The code tables live in
:mod:`dispatcher.providers.bulkgw_codes`. The password travels in the query string (section
1.2): it is never copied into a result or an exception, and the log filter masks
``password=``.

A GET's URL grows with every destination, so the batch size is also bounded by the
account's ``max_url_length`` (see :meth:`BulkGatewayProvider.batch_size`).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatcher.domain.models import OutboundBatch, Report, SendResult
from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.domain.text import GSM_PART, GSM_SINGLE, UCS2_PART, UCS2_SINGLE, Encoding
from dispatcher.errors import (
    BatchTooLargeError,
    CallbackError,
    ConfigurationError,
    Problem,
    UnsendableBatchError,
)
from dispatcher.providers import bulkgw_codes as codes
from dispatcher.providers.base import Provider
from dispatcher.settings import account_env_var

SEND_PATH = "/bulksms/bulksms"  # section 1.2
# Section 2.1's API line; its examples (2.2) show /bulksms/bulksms with date, time and gmt
# added, copied from 1.3. The line names the scheduler, so the line wins.
SCHEDULE_PATH = "/bulksms/schedulemsg"
# Parameter order of each section's API line; the examples' "&ip=x" (1.3.1) is undocumented.
SEND_ORDER = ("username", "password", "type", "dlr", "destination", "source", "message")
SCHEDULE_ORDER = (
    *("username", "password", "message", "type", "dlr", "source", "destination"),
    *("date", "time", "gmt"),
)

SENDER_ALPHA_MAX, SENDER_NUMERIC_MAX = 11, 18  # section 1.2 "source"
# Section 1.2 "message": flash is "140" where plain text is 160 and Unicode "280" (hex digits:
# 70 UCS-2 characters, as its 268 per part are 67). A flash SMS is shown, not stored, so it
# must fit in one message: 140 GSM characters, 70 Unicode.
FLASH_GSM_MAX, FLASH_UCS2_MAX = 140, 70
MSISDN_MAX = 15  # E.164: the product sends international digits without "+"
# Worst URL-encoded bytes per unit of text: a GSM 03.38 character is at most 2 UTF-8 bytes
# ("Δ", "é"), 6 once percent-encoded ("€", 3 bytes, counts 2 septets); a UCS-2 unit is at most
# 3 UTF-8 bytes (beyond U+FFFF: 4 bytes for 2 units).
GSM_WORST_BYTES, UCS2_WORST_BYTES = 6, 9
SEPARATOR = "%2C"  # section 1.2 "destination": "the comma should be URL encoded"
# The longest values each field validate() lets through, for the worst-case URL.
WORST_FIELDS = {
    "type": codes.TYPE_UNICODE_FLASH,
    "dlr": "1",
    "source": "+" + "9" * (SENDER_NUMERIC_MAX - 1),
    "date": "12/31/2099",
    "time": "12:59 pm",
    "gmt": "+12:00",
}
DATE, GMT_MAX = "%m/%d/%Y", timedelta(hours=12)  # section 2.1 "date" and "gmt"
# How far the gateway's clock may be from ours when its report dates are compared with our
# send times: undocumented, so a minute, as for sMsmode's smsList.do dates.
CLOCK_DRIFT = timedelta(minutes=1)

_MSISDN = re.compile(rf"[0-9]{{1,{MSISDN_MAX}}}")
_NUMERIC_SENDER = re.compile(r"\+?[0-9]+")
_ALPHA_SENDER = re.compile(r"[A-Za-z0-9]+")
_ENCODINGS = {"gsm": Encoding.GSM, "unicode": Encoding.UNICODE}  # the "encoding" option


class BulkGatewayOptions(CampaignOptions):
    """The campaign options the bulk gateway adds to the common ones."""

    flash: bool = Field(
        False, description="true or false (a flash SMS: message types 1 and 6, section 1.2)"
    )


class Options(BaseModel):
    """Bulk gateway account settings: ``DISPATCHER_ACCOUNTS__<NAME>__OPTIONS__<KEY>``.

    ``dlr``: ask for delivery reports (section 1.2 "dlr"). Off by default: the request names no
    report destination, so the gateway's operator must be asked to push reports to this
    account's callback URL, and the ``report_*`` names below set to that push's parameters.
    ``max_url_length``: the longest request URL, in bytes. 8000 fits the 8 KiB request-line
    and header limits of common servers (Tomcat 8192, Apache 8190, nginx 8k) with room for
    the method, version and headers; the document gives none.
    ``max_parts``: SMS parts a text may take. The document sets no maximum (section 1.2
    "message"); 5 as for sMsmode. Fewer parts leave room for more destinations per URL.
    ``report_*``: how a pushed delivery report names its fields; ``report_time_format`` is a
    strptime format read in the account's timezone unless it carries an offset (default:
    an SMPP receipt's "done date", YYMMDDhhmm); ``report_statuses`` maps further status
    values to recipient statuses, over the SMPP defaults (``bulkgw_codes.REPORT_STATUSES``).
    ``report_submit_time``: the push's submit date, read with ``report_time_format`` (an SMPP
    receipt's "submit date"); with it, a report for a message id we never stored (a 1715, a
    lost answer) can place its recipient (services/reconcile_pushed.py); empty: never.
    ``report_horizon_hours``: how long after acceptance a pushed report may still come; past
    it, recipients without a final one are ``expired``. The document gives reports no lifetime
    (section 1.2 "dlr" only asks for one); 48 h covers the latest receipts SMSCs commonly send.
    Without ``dlr`` no report is asked for, and recipients expire at acceptance.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dlr: bool = False
    max_url_length: int = Field(default=8000, ge=512)
    max_parts: int = Field(default=5, ge=1, le=255)
    report_message_id: str = Field(default="msgid", min_length=1)
    report_destination: str = "destination"
    report_status: str = Field(default="status", min_length=1)
    report_error: str = "err"
    report_time: str = "donedate"
    report_time_format: str = "%y%m%d%H%M"
    report_submit_time: str = "submitdate"
    report_statuses: dict[str, RecipientStatus] = Field(default_factory=dict)
    report_horizon_hours: float = Field(default=48, gt=0)

    @field_validator("report_statuses")
    @classmethod
    def _upper(cls, value: dict[str, RecipientStatus]) -> dict[str, RecipientStatus]:
        return {key.strip().upper(): status for key, status in value.items()}

    def statuses(self) -> dict[str, RecipientStatus]:
        return {**codes.REPORT_STATUSES, **self.report_statuses}


class BulkGatewayProvider(Provider):
    name = "bulkgw"
    methods = ("GET",)  # sections 1.2 and 2.1 document GET only
    default_method = "GET"
    # No documented limit; the product's 1000 (docs/providers.md), lowered by batch_size()
    # to what fits in max_url_length.
    max_recipients: ClassVar[Mapping[str, int]] = {"GET": 1000}
    # No request-rate limit is documented. One request carries up to hundreds of numbers, and
    # SMPP-backed accounts are usually provisioned for tens to hundreds of SMS a second.
    default_rate_limit = "5/second"
    # Pushed reports can always be read; whether any come is the account's dlr option and the
    # push target arranged with the gateway's operator (see Options).
    accepts_callbacks = True
    can_schedule = True  # section 2, schedulemsg; there is no cancel endpoint
    # Section 1.4: a 1715 line carries no message id, so its recipient's reports can only be
    # told by number and submit date (docs/providers.md, "Bulk gateway: pushed reports").
    matches_pushed_reports = True
    options_model = BulkGatewayOptions  # flash: types 1 and 6

    @cached_property
    def options(self) -> Options:
        return self.account_options(Options)

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
        problems += _option_problems(options)
        if text.strip():
            # The forced encoding too, so that enqueue measures what check_batch will.
            forced = encoding or _ENCODINGS.get(options.encoding)
            flash = self.own_options(options, BulkGatewayOptions).flash
            problems += self._text_problems(text, forced, flash=flash)
        problems += _sender_problems(sender)
        return problems

    def _text_problems(self, text: str, encoding: Encoding | None, *, flash: bool) -> list[Problem]:
        measured = self.measure(text, force=encoding)
        unicode = measured.encoding is Encoding.UNICODE
        if flash:
            limit = FLASH_UCS2_MAX if unicode else FLASH_GSM_MAX
            if measured.units > limit:
                message = f"a flash SMS is one message: at most {limit} {measured.encoding} units"
                return [Problem("text", f"{message}, not {measured.units} (section 1.2)")]
        elif measured.segments > self.options.max_parts:
            message = (
                f"needs {measured.segments} {measured.encoding} SMS parts; this account sends "
                f"at most {self.options.max_parts} (options max_parts)"
            )
            return [Problem("text", message)]
        return []

    # -- limits -----------------------------------------------------------------------------

    def batch_size(self, method: str | None = None) -> int:
        """The product's limit, lowered so that no batch validate() accepts, scheduled, with the
        longest sender and 15-digit numbers, makes a URL over ``max_url_length``."""
        size = super().batch_size(method)
        fixed = self._url_length(SCHEDULE_PATH, {**WORST_FIELDS, "message": "", "destination": ""})
        room = self.options.max_url_length - fixed - self._worst_text_bytes()
        fits = (room + len(SEPARATOR)) // (MSISDN_MAX + len(SEPARATOR))
        if fits < 1:
            raise ConfigurationError(
                f"account {self.account.name!r}: no destination fits in a URL of "
                f"{self.options.max_url_length} bytes; raise "
                f"{account_env_var(self.account.name, 'options__max_url_length')} or lower "
                f"{account_env_var(self.account.name, 'options__max_parts')}"
            )
        if self.account.batch_size is None:
            return min(size, fits)
        if size > fits:
            raise ConfigurationError(
                f"account {self.account.name!r}: batch_size {size} may make URLs longer than "
                f"{self.options.max_url_length} bytes; at most {fits} destinations fit (set "
                f"{account_env_var(self.account.name, 'batch_size')} or raise "
                f"{account_env_var(self.account.name, 'options__max_url_length')})"
            )
        return size

    def _worst_text_bytes(self) -> int:
        parts = self.options.max_parts
        gsm = GSM_SINGLE if parts == 1 else GSM_PART * parts
        ucs2 = UCS2_SINGLE if parts == 1 else UCS2_PART * parts
        return max(gsm * GSM_WORST_BYTES, ucs2 * UCS2_WORST_BYTES)

    def check_batch(self, batch: OutboundBatch) -> None:
        """The base checks, then numbers a comma list can carry, then the URL's real length.

        Refused numbers are counted, never listed: error messages reach logs.
        """
        super().check_batch(batch)
        bad = [i for i, msisdn in enumerate(batch.msisdns) if not _MSISDN.fullmatch(msisdn)]
        if bad:
            message = f"{len(bad)} are not 1 to {MSISDN_MAX} digits (first at position {bad[0]})"
            raise UnsendableBatchError(self.name, batch.batch_id, [Problem("msisdns", message)])
        length = len(str(self.build_send_request(batch).url).encode())
        if length > self.options.max_url_length:
            raise BatchTooLargeError(
                f"batch {batch.batch_id}: its request URL would be {length} bytes; account "
                f"{self.account.name!r} allows {self.options.max_url_length} (max_url_length)"
            )

    # -- sending ----------------------------------------------------------------------------

    def build_send_request(self, batch: OutboundBatch) -> httpx.Request:
        if batch.method != "GET":
            raise ConfigurationError(f"{self.name} does not send by {batch.method}")
        flash = self.own_options(batch.options, BulkGatewayOptions).flash
        fields = {
            "type": codes.message_type(unicode=batch.encoding is Encoding.UNICODE, flash=flash),
            "dlr": "1" if self.options.dlr else "0",
            "destination": ",".join(batch.msisdns),
            "source": batch.sender or "",
            "message": batch.text,
        }
        path = SEND_PATH
        if batch.provider_send_at is not None:
            path = SCHEDULE_PATH
            fields.update(
                zip(("date", "time", "gmt"), self._schedule(batch.provider_send_at), strict=True)
            )
        return httpx.Request("GET", self._url(path, fields))

    def _url(self, path: str, fields: Mapping[str, str]) -> str:
        """Every value percent-encoded as UTF-8 (section 1.2), nothing left bare: "," is %2C
        ("destination"), "+" is %2B ("source") and a space %20, which no server reads as "+".
        """
        fields = {
            "username": self.account.required("username"),
            "password": self.account.secret("password"),
            **fields,
        }
        order = SCHEDULE_ORDER if path == SCHEDULE_PATH else SEND_ORDER
        query = "&".join(f"{key}={urllib.parse.quote(fields[key], safe='')}" for key in order)
        return f"{self.url(path)}?{query}"

    def _url_length(self, path: str, fields: Mapping[str, str]) -> int:
        return len(self._url(path, fields).encode())

    def _schedule(self, when: datetime) -> tuple[str, str, str]:
        """Section 2.1's date, time and gmt for ``when``, rounded up to the minute so that it
        never goes early, on the account's clock.

        The hour is 00 to 12 (section 2.1 "time"): midnight is "00:mm am", which no parser
        reads as noon, and noon "12:mm pm". The offset is "+hh:mm", the plainest documented
        form; when the zone's offset is outside the documented range (hours 0 to 12, minutes
        00 or 30), the same instant is written in UTC.
        """
        local = self.wall_clock(when)
        offset = local.utcoffset() or timedelta(0)
        if abs(offset) > GMT_MAX or abs(offset) % timedelta(minutes=30):
            local, offset = local.astimezone(UTC), timedelta(0)
        hour = local.hour % 12 if local.hour != 12 else 12
        time = f"{hour:02d}:{local.minute:02d} {'pm' if local.hour >= 12 else 'am'}"
        minutes = int(abs(offset).total_seconds()) // 60
        gmt = f"{'-' if offset < timedelta(0) else '+'}{minutes // 60:02d}:{minutes % 60:02d}"
        return local.strftime(DATE), time, gmt

    def parse_send_response(self, response: httpx.Response, batch: OutboundBatch) -> SendResult:
        status = response.status_code
        body = codes.body_text(response)
        outcome = self.http_outcome(status)
        if outcome is not None:
            excerpt = f"HTTP {status}: {self._excerpt(body)}"
            return SendResult(outcome, None, excerpt, http_status=status)
        lines = codes.read_lines(body)
        if lines is None:  # apply nothing from an answer we do not understand
            unreadable = f"unreadable answer: {self._excerpt(body)!r}"
            return SendResult(Outcome.UNKNOWN, None, unreadable, http_status=status)
        if not lines[0].destination:  # one code for the whole request, e.g. 1702 or 1709
            recipients = [codes.recipient_result(msisdn, lines[0]) for msisdn in batch.msisdns]
            unmatched = 0
        else:
            recipients, unmatched = codes.match_lines(batch.msisdns, lines)
        return codes.summary(recipients, unmatched, status)

    def _excerpt(self, body: str) -> str:
        """The start of an answer, for a description: an error page could echo the request
        URL, so the password (as sent and as configured) never stays in it."""
        return self.scrubber.text(body[:1000])[:200]

    # -- tracking ---------------------------------------------------------------------------

    def parse_callback(self, params: Mapping[str, str]) -> list[Report]:
        """A pushed delivery report, read through the account's ``report_*`` names.

        The document defines no report format (dlr=1 only asks for one), so every name is an
        account option with SMPP-receipt defaults. The recipient is found by the gateway's
        message id (section 1.4: it "can then be used later to map the delivery reports").
        """
        options = self.options
        message_id = _required(params, options.report_message_id)
        value = _required(params, options.report_status)
        status = options.statuses().get(value.upper())
        if status is None:
            raise CallbackError(f"{options.report_status} {value!r} is not a known report status")
        destination = _optional(params, options.report_destination) or ""
        error = _optional(params, options.report_error)
        report = Report(
            msisdn=destination.lstrip("+"),
            status=status,
            raw_code=value,
            raw_text=f"err={error}" if error else "",
            occurred_at=self._report_time(params, options.report_time),
            message_id=message_id,
            submitted_at=self._report_time(params, options.report_submit_time, strict=False),
        )
        return [report]

    def pushed_report_horizon(self) -> timedelta | None:
        """Section 1.2 "dlr": no report comes unless the account asks for them; then for
        ``report_horizon_hours`` (see Options)."""
        return timedelta(hours=self.options.report_horizon_hours) if self.options.dlr else None

    def pushed_match_slack(self) -> timedelta | None:
        """The report times' precision (a format without seconds, the SMPP default, gives
        minutes) plus a minute for the gateway's clock against ours, which no document bounds.
        None without ``dlr`` (no report comes) or without ``report_submit_time``."""
        if not self.options.dlr or not self.options.report_submit_time:
            return None
        fmt = self.options.report_time_format
        precision = timedelta(seconds=1) if "%S" in fmt else timedelta(minutes=1)
        return precision + CLOCK_DRIFT

    def _report_time(
        self, params: Mapping[str, str], key: str, *, strict: bool = True
    ) -> datetime | None:
        """``strict=False``: an unreadable date is None, not a refused report (the submit
        date only serves reconciliation; the report itself still applies by message id)."""
        fmt = self.options.report_time_format
        value = _optional(params, key) if key else None
        if value is None:
            return None
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            if not strict:
                return None
            raise CallbackError(f"{key} {value!r} does not match {fmt!r}") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=self.zone)


# -- validation helpers ---------------------------------------------------------------------


def _option_problems(options: CampaignOptions) -> list[Problem]:
    """The common options the gateway cannot honour."""
    problems = []
    if options.stop is not None:
        message = "the gateway has no STOP mention (section 1.2): write it in the text"
        problems.append(Problem("options.stop", message, value=str(options.stop)))
    if options.allow_replies:
        message = "the gateway documents no replies (no inbound API)"
        problems.append(Problem("options.allow_replies", message))
    if options.method not in (None, "GET"):
        message = "the gateway takes GET only (sections 1.2 and 2.1)"
        problems.append(Problem("options.method", message, value=str(options.method)))
    return problems


def _sender_problems(sender: str | None) -> list[Problem]:
    """Section 1.2 "source": at most 18 if numeric ("+" included, URL-encoded), at most 11 if
    alphanumeric; and required: a blank parameter is answered 1702 (section 1.4)."""
    if not sender:
        return [Problem("sender", "is required: a blank source is refused (1702, section 1.4)")]
    if _NUMERIC_SENDER.fullmatch(sender):
        if len(sender) > SENDER_NUMERIC_MAX:
            return [Problem("sender", "at most 18 characters when numeric", value=sender)]
    elif not _ALPHA_SENDER.fullmatch(sender):
        message = "ASCII letters and digits only (or digits after a +), no blank or accent"
        return [Problem("sender", message, value=sender)]
    elif len(sender) > SENDER_ALPHA_MAX:
        return [Problem("sender", "at most 11 characters when alphanumeric", value=sender)]
    return []


def _optional(params: Mapping[str, str], key: str) -> str | None:
    return params.get(key, "").strip() or None


def _required(params: Mapping[str, str], key: str) -> str:
    value = _optional(params, key)
    if value is None:
        raise CallbackError(f"callback without {key}")
    return value
