"""SMSFactor API v2.2: XML documents POSTed, XML answers.

Written from SMSFactor's document ("API SMSFactor" v2.2, French);
"section N" below is a section of that document. The code tables live in
:mod:`dispatcher.providers.smsfactor_codes`. Every XML document that reaches us (answers, the
inbox push of section 3) is untrusted and read by :func:`parse_untrusted`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import httpx
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator

from dispatcher.domain.models import InboundMessage, OutboundBatch, PollResult, Report, SendResult
from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import Encoding
from dispatcher.errors import CallbackError, ConfigurationError, Problem, UnsendableBatchError
from dispatcher.providers import smsfactor_codes as codes
from dispatcher.providers.base import Provider
from dispatcher.providers.xml import hardened_parser

# Section 1.1 and 2.1 give https://secure.smsfactor.com/API/... and, without TLS,
# http://www.smsfactor.com/... (no /API/). The account's base_url chooses the host only: the
# paths are always the https URLs' ones.
SEND_PATH = "/API/apiV2.php"  # section 1.1
REPORT_PATH = "/API/getDr.php"  # section 2.1
SENDER_MAX = 11  # section 1.2.1.3: "11 caractères alphanumériques"
TEXT_MAX = 1120  # section 1.2.1.4, counted in GSM septets (extension characters count double)
DELAY_FORMAT = "%Y-%m-%dT%H:%M:%S"  # section 1.2.1.8: "yyyy-mm-jjThh:mm:ss"
INBOX_DATE = "%Y-%m-%d %H:%M:%S"  # section 3.1: "2011-06-01 12:02:07"
# The largest document we expect is a getDr answer for a full batch: 1000 <gsm> elements of
# about 100 bytes, some 100 kB. Ten times that leaves room for longer numbers and messages
# while refusing anything big enough to matter for a worker's memory. (httpx has read the
# answer by then; the bound protects the parser and what we keep.)
MAX_XML_BYTES = 1024 * 1024
XML_CONTENT_TYPE = "application/xml; charset=UTF-8"
EXCERPT = 200  # characters of a raw answer kept in a description

_SENDER = re.compile(r"[A-Za-z0-9]+")
_CODE = re.compile(r"-?[0-9]{1,4}")  # every documented status is 1 or -1 to -5
_CREDITS = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")
_NUMBER = re.compile(r"\+?[0-9]{1,20}")
_RECIPIENT_ID = re.compile(r"[0-9]{1,19}")  # a PostgreSQL bigint
_HOSTILE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_:]")  # the root's start tag: a DOCTYPE must come before
_DECLARED_ENCODING = re.compile(rb"\s*<\?xml[^>]*\bencoding\s*=")
_ESCAPED = re.compile(r"\\(.?)", re.DOTALL)


class SmsfactorOptions(CampaignOptions):
    """The campaign options SMSFactor adds to the common ones."""

    # Section 1.2 has no STOP mention, so validate refuses 1 and 2; 0 (none) is read as the
    # first version read it, so that campaigns stored with it still load.
    stop: Annotated[int, Strict(), Field(ge=0, le=2)] | None = Field(
        None, description="0 (SMSFactor v2.2 adds no STOP mention)"
    )
    flash: bool = Field(False, description="true or false, or 1 or 0 (isFlash, section 1.2.1.5)")
    bookmark: str | None = Field(
        None, description="a link without blanks, e.g. www.smsfactor.com (section 1.2.1.7)"
    )

    @field_validator("flash", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        """isFlash is 0 or 1 (section 1.2.1.5): 0 and 1 are read as false and true, as the
        callers of the first version wrote them; any other number is refused."""
        if type(value) is int and value in (0, 1):
            return bool(value)
        return value

    @field_validator("bookmark", mode="before")
    @classmethod
    def _link(cls, value: Any) -> Any:
        """A usable link: printable, without blanks, at most 2048 characters. An explicit
        null is refused as it always was: leave the key out for no bookmark."""
        if not (isinstance(value, str) and _is_token(value, limit=2048)):
            raise ValueError("not a usable link")
        return value


class Options(BaseModel):
    """SMSFactor account settings: ``DISPATCHER_ACCOUNTS__<NAME>__OPTIONS__<KEY>``.

    ``xml_transport``: sections 1.1 and 2.1 only say the XML is sent "via une méthode POST".
    ``form`` (default) sends it URL-encoded as one form field named ``form_field`` (``XML``):
    the name section 3 uses when SMSFactor posts XML to us, and what public third-party
    clients of this API post. ``body`` sends it as the raw request body
    (``application/xml; charset=UTF-8``), the other reading of "envoyer le flux XML". Should
    every send be answered -2 (Erreur XML), try the other one.
    """

    model_config = ConfigDict(extra="forbid")

    xml_transport: Literal["body", "form"] = "form"
    form_field: str = Field(default="XML", pattern=r"^[A-Za-z0-9_]+$")


class SmsfactorProvider(Provider):
    name = "smsfactor"
    # Its answers may repeat the <authentication> we posted, username included (section 1.2.1).
    secret_username = True
    methods = ("POST",)  # sections 1.1 and 2.1: "obligatoirement ... POST"
    default_method = "POST"
    # Section 1.2.1.9: "Limite : aucune"; the product sends at most 1000 (docs/providers.md).
    max_recipients: ClassVar[Mapping[str, int]] = {"POST": 1000}
    # No request-rate limit is documented. Each request carries up to 1000 numbers, so a
    # modest 10 requests per second (sends and polls together) is ample; per account setting.
    default_rate_limit = "10/second"
    can_poll = True  # section 2: getDr.php, "Les AR sont mis à jour toutes les minutes"
    # Not documented. Operators usually give up on a message after 48 hours; a day more covers
    # late reports without polling a batch whose numbers never get one (SENT) for a week.
    report_horizon = timedelta(days=3)
    accepts_callbacks = False  # no delivery-report push is documented
    accepts_inbound = True  # section 3, the inbox push
    can_schedule = True  # section 1.2.1.8, delay
    can_cancel = False  # no endpoint
    options_model = SmsfactorOptions
    gsm_extended = codes.GSM_EXTENDED

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
        # Section 1.2.1.4: other characters "seront convertis dans le caractère le plus proche
        # (exemple : ë => e)": we refuse to let the text be changed.
        non_gsm = self.measure(text).non_gsm
        if non_gsm:
            listed = ", ".join(repr(c) for c in non_gsm)
            message = f"characters SMSFactor would not send as written (GSM 7-bit): {listed}"
            problems.append(Problem("text", message))
        septets = self.measure(text, force=Encoding.GSM).units
        if septets > TEXT_MAX:
            message = f"takes {septets} GSM characters; SMSFactor takes at most {TEXT_MAX}"
            problems.append(Problem("text", message))
        # A Unicode batch of GSM text was forced so (options.encoding): SMSFactor cannot.
        forced = encoding is Encoding.UNICODE and not non_gsm
        if forced or options.encoding == "unicode":
            problems.append(Problem("options.encoding", "SMSFactor sends GSM 7-bit text only"))
        if not sender:
            problems.append(Problem("sender", "is mandatory for SMSFactor (section 1.2.1.3)"))
        else:
            if len(sender) > SENDER_MAX:
                problems.append(Problem("sender", "at most 11 characters", value=sender))
            if not _SENDER.fullmatch(sender):
                message = "ASCII letters and digits only, no blank or accent"
                problems.append(Problem("sender", message, value=sender))
        if options.stop:
            message = "SMSFactor v2.2 has no STOP mention: write it in the text"
            problems.append(Problem("options.stop", message))
        if options.allow_replies:
            message = "SMSFactor takes no reply setting; replies go to a rented number (section 3)"
            problems.append(Problem("options.allow_replies", message))
        return problems

    def check_batch(self, batch: OutboundBatch) -> None:
        super().check_batch(batch)
        if len(batch.recipient_ids) != len(batch.msisdns):  # each gsmsmsid names one number
            problem = Problem("recipients", "recipient ids and numbers do not pair up")
            raise UnsendableBatchError(self.name, batch.batch_id, [problem])

    # -- sending ----------------------------------------------------------------------------

    def build_send_request(self, batch: OutboundBatch) -> httpx.Request:
        """The document of section 1.2, built by lxml so that the text is escaped."""
        root = etree.Element("sms")
        self._authenticate(root)
        message = etree.SubElement(root, "message")
        _add(message, "sender", batch.sender or "")
        _add(message, "text", batch.text)
        options = self.own_options(batch.options, SmsfactorOptions)
        _add(message, "isFlash", "1" if options.flash else "0")  # 1.2.1.5
        bookmark = options.bookmark
        _add(message, "type", "longSMS" if bookmark is None else "bookmark")  # 1.2.1.6
        if bookmark is not None:
            _add(message, "bookmark", bookmark)  # 1.2.1.7
        if batch.provider_send_at is not None:
            _add(message, "delay", self._delay(batch.provider_send_at))  # 1.2.1.8
        recipients = etree.SubElement(root, "recipients")
        # Section 1.2.1.9: gsmsmsid is our recipient id, so each report names its row.
        for recipient_id, msisdn in zip(batch.recipient_ids, batch.msisdns, strict=True):
            _add(recipients, "gsm", msisdn).set("gsmsmsid", str(recipient_id))
        return self._post(SEND_PATH, root)

    def parse_send_response(self, response: httpx.Response, batch: OutboundBatch) -> SendResult:
        status = response.status_code
        outcome = self.http_outcome(status)
        if outcome is not None:
            description = f"HTTP {status}: {self._excerpt(response.content)}"
            return SendResult(outcome, None, description, http_status=status)
        try:  # section 1.3: <response><status/><message/><ticket/><credits/></response>
            root, code = self._answer(response.content)
        except ValueError as exc:
            description = f"unreadable answer ({exc}): {self._excerpt(response.content)}"
            return SendResult(Outcome.UNKNOWN, None, description, http_status=status)
        outcome, known = codes.send_status(code)
        # The credits left (section 1.3.1.4) have no field of their own: they end the
        # description, which is kept as the batch's last message.
        description = self._excerpt(_child(root, "message")) or known
        credits = _child(root, "credits")
        balance = Decimal(credits) if _CREDITS.fullmatch(credits) else None
        if balance is not None:
            description = f"{description}; credits: {credits}"
        if outcome is not Outcome.ACCEPTED:
            return SendResult(outcome, code, description, http_status=status, balance=balance)
        ticket = _child(root, "ticket")
        if not _is_token(ticket):
            # Accepted, but its reports could never be asked for: reconcile, never re-send.
            description = f"{description} (no usable ticket: {self._excerpt(ticket)!r})"
            return SendResult(Outcome.UNKNOWN, code, description, http_status=status)
        return SendResult(
            outcome, code, description, provider_ref=ticket, http_status=status, balance=balance
        )

    # -- tracking ---------------------------------------------------------------------------

    def build_poll_request(self, provider_ref: str) -> httpx.Request:
        """Section 2.2, without gsmsmsid on the ticket: the reports of every number."""
        root = etree.Element("deliveryreport")
        self._authenticate(root)
        message = etree.SubElement(root, "message")
        _add(message, "ticket", provider_ref)
        return self._post(REPORT_PATH, root)

    def parse_poll_response(self, response: httpx.Response, provider_ref: str) -> PollResult:
        status = response.status_code
        outcome = self.http_outcome(status)
        if outcome is not None:
            description = f"HTTP {status}: {self._excerpt(response.content)}"
            return PollResult(outcome, description=description)
        try:
            root, code = self._answer(response.content)
            outcome, known = codes.report_answer(code)
            description = self._excerpt(_child(root, "message")) or known
            if outcome is not Outcome.ACCEPTED:
                return PollResult(outcome, code=code, description=description)
            # Section 2.3.1.2; "Si aucun statut n'est disponible merci de réessayer plus tard":
            # no <gsm> yet is an answer with no report.
            found = (self._report(gsm, provider_ref) for gsm in root.iterchildren("gsm"))
            reports = [report for report in found if report is not None]
        except ValueError as exc:  # apply nothing from an answer we do not understand
            description = f"unreadable reports ({exc}): {self._excerpt(response.content)}"
            return PollResult(Outcome.UNKNOWN, description=description)
        return PollResult(Outcome.ACCEPTED, reports, code=code, description=description)

    def _report(self, gsm: etree._Element, provider_ref: str) -> Report | None:
        """One <gsm number="" gsmsmsid="">STATUS</gsm>, or None when it has no status yet.

        Section 2.3 prints the elements empty and self-closed: the status is read from the
        element's text and, failing that, from a ``status`` attribute.
        """
        number = (gsm.get("number") or "").strip()
        if not _NUMBER.fullmatch(number):
            raise ValueError(f"<gsm> without a usable number: {number[:32]!r}")
        ref = (gsm.get("gsmsmsid") or "").strip()
        if ref and not _RECIPIENT_ID.fullmatch(ref):
            raise ValueError(f"gsmsmsid {ref[:32]!r} is none of our recipient ids")
        code = (gsm.text or "").strip() or (gsm.get("status") or "").strip()
        if not code:
            return None
        status, text = codes.report_status(code)
        return Report(
            msisdn=number,
            status=status,
            raw_code=code[:64],
            raw_text=text,
            provider_ref=provider_ref,
            recipient_id=int(ref) if ref else None,
        )

    def parse_inbound(self, params: Mapping[str, str]) -> list[InboundMessage]:
        """The inbox push of section 3: a form whose variable ``XML`` holds <inbox>.

        The example of section 3.1 has stray backslashes (``from="\\ 0000000000\\"``,
        ``date=\\"...\\"``), as PHP's magic quotes leave them: a document that does not parse
        is read again without them; backslashes and blanks around attribute values are
        dropped, and a date split over two lines is joined.
        """
        raw = params.get("XML", "")
        if not raw.strip():
            raise CallbackError("inbox push without its XML variable")
        try:
            root = _parse_inbox(raw)
        except ValueError as exc:
            raise CallbackError(f"unreadable inbox XML: {exc}") from None
        if root.tag != "inbox":
            raise CallbackError(f"the document is <{root.tag}>, not <inbox>")
        messages = []
        for sms in root:
            if not isinstance(sms.tag, str):
                continue  # a processing instruction
            if sms.tag != "sms":
                raise CallbackError(f"unexpected <{sms.tag}> in <inbox>")
            sender = re.sub(r"[\s\\]", "", sms.get("from") or "")
            if not sender:
                raise CallbackError("<sms> without from")
            to = re.sub(r"[\s\\]", "", sms.get("to") or "")
            date = " ".join((sms.get("date") or "").replace("\\", " ").split())
            messages.append(
                InboundMessage(
                    from_msisdn=sender,
                    text=sms.text or "",
                    received_at=self._received_at(date) if date else None,
                    to=to or None,
                )
            )
        return messages

    # -- helpers ----------------------------------------------------------------------------

    def _delay(self, when: datetime) -> str:
        """``when`` as the provider's wall-clock second (SMSFactor is French: Paris by default)."""
        return self.wall_clock(when, timedelta(seconds=1)).strftime(DELAY_FORMAT)

    def _received_at(self, value: str) -> datetime:
        try:
            naive = datetime.strptime(value, INBOX_DATE)
        except ValueError:
            raise CallbackError(f"date {value[:32]!r} does not match {INBOX_DATE!r}") from None
        return naive.replace(tzinfo=self.zone)  # a repeated hour takes its first occurrence

    def _authenticate(self, root: etree._Element) -> None:
        """Sections 1.2.1.1-2 and 2.2.1.1-2: the account's email and password."""
        auth = etree.SubElement(root, "authentication")
        username, password = self.account.required("username"), self.account.secret("password")
        for field, value in (("username", username), ("password", password)):
            try:
                _add(auth, field, value)
            except ValueError:  # lxml's message never holds the value
                message = f"{field} holds characters an XML document cannot carry"
                raise ConfigurationError(f"account {self.account.name!r}: {message}") from None

    def _post(self, path: str, root: etree._Element) -> httpx.Request:
        document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        options = self.account_options(Options)
        if options.xml_transport == "form":
            form = {options.form_field: document.decode("utf-8")}
            return httpx.Request("POST", self.url(path), data=form)
        headers = {"Content-Type": XML_CONTENT_TYPE}
        return httpx.Request("POST", self.url(path), content=document, headers=headers)

    def _answer(self, content: bytes) -> tuple[etree._Element, str]:
        """The <response> of sections 1.3 and 2.3, and its status."""
        root = parse_untrusted(content)
        if root.tag != "response":
            raise ValueError(f"the document is <{root.tag!s:.32}>, not <response>")
        code = _child(root, "status")
        if not _CODE.fullmatch(code):
            raise ValueError(f"status {code[:32]!r} is no status code")
        return root, code

    def _excerpt(self, raw: bytes | str) -> str:
        """A short, one-line piece of an answer, with the account's credentials masked."""
        text = self.scrubber.text(raw if isinstance(raw, str) else _decode(raw))
        return " ".join(text.split())[:EXCERPT]


def parse_untrusted(data: bytes, *, encoding: str | None = None) -> etree._Element:
    """The root of an untrusted XML document; ValueError for anything hostile or malformed.

    No DTD at all (so no entity, internal or external), no network, no huge tree, a size
    bound. The document names no charset: an answer is read as its XML declaration says,
    else as UTF-8, else as ISO-8859-1 (a French service may answer "crédits" in Latin-1).
    """
    if len(data) > MAX_XML_BYTES:
        raise ValueError(f"document of {len(data)} bytes, over {MAX_XML_BYTES}")
    # Only the prolog is searched, so that an SMS saying "<!DOCTYPE" in its CDATA is no threat.
    root_start = _ROOT_START.search(data)
    if _HOSTILE.search(data[: root_start.start() if root_start else len(data)]):
        raise ValueError("document with a DOCTYPE or an entity declaration")
    if encoding is None and not _DECLARED_ENCODING.match(data) and not _is_utf8(data):
        encoding = "iso-8859-1"
    try:
        root: etree._Element = etree.fromstring(data, hardened_parser(encoding))
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed XML: {exc}") from None
    # A DOCTYPE the search missed (UTF-16, or "<x" in a comment before it): parsed without
    # resolving entities, and refused now. lxml-stubs lacks DocInfo.doctype.
    if root.getroottree().docinfo.doctype:  # type: ignore[attr-defined]
        raise ValueError("document with a DOCTYPE")
    return root


def _parse_inbox(raw: str) -> etree._Element:
    """The form decoded ``XML`` already; it is read as the text it is, whatever it declares."""
    try:
        return parse_untrusted(raw.encode("utf-8"), encoding="utf-8")
    except ValueError:
        if "\\" not in raw:
            raise
    # Section 3.1's example, as PHP's stripslashes would read it (\x -> x).
    unescaped = _ESCAPED.sub(lambda found: found[1], raw)
    return parse_untrusted(unescaped.encode("utf-8"), encoding="utf-8")


def _decode(data: bytes) -> str:
    return data.decode("utf-8") if _is_utf8(data) else data.decode("iso-8859-1")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _add(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _child(root: etree._Element, tag: str) -> str:
    """The stripped text of ``root``'s first ``tag`` child; "" when there is none."""
    return (root.findtext(tag) or "").strip()


def _is_token(value: str, limit: int = 128) -> bool:
    """Printable, without blanks, and at most ``limit`` characters (a ticket, a link)."""
    return 0 < len(value) <= limit and value.isprintable() and not any(c.isspace() for c in value)
