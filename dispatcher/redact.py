"""One scrubber for every provider text we keep: no credential is stored or exported.

Providers echo what they were sent. sMsmode's error pages and the bulk gateway's repeat the
request URL, whose query string carries ``accessToken=`` or ``password=`` (sMsmode document
section 2, bulk gateway document "Request"); Envoyer SMS Pro's ``<error><request>`` repeats
the request ("Messages d'erreur"), which may carry ``login=...&password=...``
("Authentification", solution 3); SMSFactor's answers may repeat the XML we posted, with its
``<authentication><username>/<password>`` (section 1.2.1). Any of that text can become a
batch's ``last_message``, a recipient's ``provider_text`` or a delivery event, and from there
the CSV export.

So the scrubber works on two lines:

- an adapter knows its account's credentials, and masks each of them in every form a
  provider could echo it in (as sent, URL-encoded, form-encoded, XML-escaped, JSON-escaped,
  and Envoyer's HTTP Basic ``login:password`` in base64) in every text it returns
  (:meth:`Provider.execute_send`, :meth:`Provider.fetch_reports`, and errors' ``raw``);
- persistence masks again what it writes (:func:`scrub_stored`), with every credential an
  adapter in this process has been built with and the name patterns below, so a text that
  reached the database by a path the adapters do not cover is still clean.

The name patterns (``accessToken=...``, ``<password>...</password>``, ``"password": "..."``)
need no secret, which is why migration 0019 can apply them to rows stored before this module.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import replace
from xml.sax.saxutils import escape

from dispatcher.domain.models import PollResult, RecipientResult, Report, SendResult
from dispatcher.logs import redact as redact_log_text

MASK = "***"

# A credential shorter than this is not masked by value: masking "ab" would rewrite every
# word holding it, and a two-character password protects nothing anyway. The name patterns
# still mask it wherever it appears as a named parameter.
MIN_SECRET_LENGTH = 4

# Distinct texts a scrubber remembers the masked form of (bounded: a worker's memory stays flat).
SCRUBBED_TEXTS_KEPT = 4096

# Parameter and element names that carry a credential in the four documents and their
# examples (sMsmode accessToken and createSubAccount's newPass, section 2 and "Sub-accounts";
# the bulk gateway's username/password, "Request"; Envoyer's login/password,
# "Authentification"; SMSFactor's <username>/<password>, section 1.2.1), plus the usual
# spellings. Migration 0019 holds the same list, in PostgreSQL's regular expressions.
_NAMES = (
    r"accessToken|access_token|password|passwd|pwd|pass|newPass|api_?key|secret|token"
    r"|login|username"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # key=value in a query string or form body (logs.redact covers fewer names).
    (re.compile(rf"(?i)\b((?:{_NAMES})=)[^&\s'\"<|]+"), r"\1" + MASK),
    # The same URL-encoded inside another parameter (a callback URL we passed as a value).
    (re.compile(rf"(?i)((?:%3F|%26)(?:{_NAMES})%3D)(?:(?!%26)[^&\s'\"<|])+"), r"\1" + MASK),
    # <password>value</password>, XML as SMSFactor's request or any echoed document.
    (
        re.compile(rf"(?is)(<((?:{_NAMES}))(?:\s[^>]*)?>)[^<]+(</\2\s*>)"),
        r"\1" + MASK + r"\3",
    ),
    # "password": "value" in JSON.
    (re.compile(rf'(?i)("(?:{_NAMES})"\s*:\s*")(?:[^"\\]|\\.)+(")'), r"\1" + MASK + r"\2"),
)


def redact_names(text: str) -> str:
    """``text`` with every named credential masked; needs no secret (migration 0019 does the
    same in SQL). Also what logs mask: callback secrets in paths, Authorization headers,
    ``user:password@`` in URLs."""
    text = redact_log_text(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def encodings(secret: str) -> set[str]:
    """Every form a provider could echo ``secret`` in."""
    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret, safe="/"),
        urllib.parse.quote_plus(secret),
        escape(secret),
        escape(secret, {'"': "&quot;", "'": "&apos;"}),
        escape(secret, {'"': "&#34;", "'": "&#39;"}),
        json.dumps(secret)[1:-1],
    }
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def basic_credentials(login: str, password: str) -> str:
    """HTTP Basic's encoding of ``login:password`` (Envoyer SMS Pro's solution 1)."""
    return base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


class Scrubber:
    """Masks one account's credentials, in every encoding, and every named credential."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                forms |= encodings(secret)
        # Longest first, so a secret inside a longer form is not half-masked first.
        self._forms: Sequence[str] = sorted(forms, key=lambda f: (-len(f), f))
        # Report texts repeat ("Received", "Routing error"...): a million reports would run the
        # patterns a million times each, several seconds of a poll worker's time.
        self._done: dict[str, str] = {}

    def text(self, text: str) -> str:
        done = self._done.get(text)
        if done is not None:
            return done
        masked = text
        for form in self._forms:
            if form in masked:
                masked = masked.replace(form, MASK)
        masked = redact_names(masked)
        if len(self._done) >= SCRUBBED_TEXTS_KEPT:
            self._done.clear()
        self._done[text] = masked
        return masked

    def maybe(self, text: str | None) -> str | None:
        return None if text is None else self.text(text)

    def recipient(self, result: RecipientResult) -> RecipientResult:
        return replace(result, description=self.text(result.description))

    def send_result(self, result: SendResult) -> SendResult:
        return replace(
            result,
            description=self.text(result.description),
            recipients=[self.recipient(r) for r in result.recipients],
        )

    def report(self, report: Report) -> Report:
        return replace(report, raw_text=self.text(report.raw_text))

    def reports(self, reports: Iterable[Report]) -> list[Report]:
        return [self.report(r) for r in reports]

    def poll_result(self, result: PollResult) -> PollResult:
        return replace(
            result, description=self.text(result.description), reports=self.reports(result.reports)
        )


# Every credential an adapter in this process was built with: what persistence masks by
# value. Only grows; an account's secrets change with a restart, which empties it.
_known: set[str] = set()
_stored = Scrubber(())


def remember(secrets: Iterable[str]) -> None:
    """Add an account's credentials to those persistence masks (Provider.__init__ calls it)."""
    global _stored
    new = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH} - _known
    if new:
        _known.update(new)
        _stored = Scrubber(_known)


def scrub_stored(text: str | None) -> str | None:
    """The storage boundary's line: ``text`` as persistence may write it (None stays None)."""
    return _stored.maybe(text)


def scrub_all(texts: Iterable[str | None]) -> list[str | None]:
    return [_stored.maybe(t) for t in texts]
