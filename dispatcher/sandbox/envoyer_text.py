"""Envoyer SMS Pro message text: character counting, long SMS billing, truncation, STOP SMS.

Written from "FONCTION NOUVEAU MESSAGE" of the document only:

- "Détails sur le nombre de caractères": at most 160 characters; "les caractères spéciaux et
  les retours à la ligne comptent pour 2 caractères". The document does not list the special
  characters. The sandbox reads "special" as "not a plain character of the GSM 03.38 default
  alphabet": the extension table ``^ { } \\ [ ~ ] | €`` (each sent as escape + character) and
  every character outside GSM 03.38 altogether (``ê``, ``œ``, ``ç``, emoji...), which the
  provider cannot send as one GSM character either. A line break is LF, CR, or the CR LF
  pair, each counting 2 (the document sends it as ``%0A``); a literal backslash followed
  by ``n`` is two characters of text, the backslash being special.
- "Détails sur le long SMS" (``longmessageallowed=1``): 1 to 160 characters cost 1 SMS, 161
  to 306 cost 2, 307 to 459 cost 3. Nothing is said above 459: the sandbox answers error 4
  (message too long), as it does above 160 without long SMS.
- ``messagetruncationallowed=1`` "sera alors tronqué automatiquement à 160 caractères": the
  sandbox truncates to the largest allowed length (160, or 459 with long SMS) and never
  splits a character that counts 2.
- "Détails sur le STOP SMS": ``stopsms=1`` appends "STOP SMS au 36111" after a line break,
  which leaves 141 characters (160 - 2 - 17: this confirms that a line break counts 2). The
  mention is never truncated: truncation shortens the customer's text instead.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The GSM 03.38 basic table (escape excluded): one character each, except line breaks.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
STOP_MENTION = "\nSTOP SMS au 36111"
SINGLE_SMS = 160
#: Billing table of "Détails sur le long SMS": the n-th entry is the limit for n+1 SMS.
LONG_SMS_LIMITS = (160, 306, 459)

_SINGLE = frozenset(GSM_BASIC) - {"\n", "\r"}
# str.translate deletes the characters counting 1; what remains counts 2.
_DROP_SINGLE: dict[int, None] = dict.fromkeys(map(ord, _SINGLE))


class MessageTooLongError(ValueError):
    """Error 4: the text does not fit and truncation was not allowed."""


def char_units(char: str) -> int:
    """How many characters the document counts for one character (1 or 2)."""
    return 1 if char in _SINGLE else 2


def units(text: str) -> int:
    """The length as the document counts it; a CR LF pair is one line break (2)."""
    doubled = len(text.translate(_DROP_SINGLE))
    return len(text) + doubled - 2 * text.count("\r\n")


def sms_count(length: int) -> int:
    """SMS billed per recipient for a counted length (0 when it exceeds 459)."""
    for count, limit in enumerate(LONG_SMS_LIMITS, start=1):
        if length <= limit:
            return count
    return 0


def truncate(text: str, max_units: int) -> str:
    """The longest prefix of ``text`` counting at most ``max_units``."""
    if units(text) <= max_units:
        return text
    used = 0
    previous = ""
    for i, char in enumerate(text):
        # LF right after CR completes a line break already paid for.
        cost = 0 if char == "\n" and previous == "\r" else char_units(char)
        if used + cost > max_units:
            return text[:i]
        used += cost
        previous = char
    return text


@dataclass(frozen=True)
class Composed:
    """The text as sent, its counted length, SMS per recipient, and whether it was cut."""

    text: str
    length: int
    sms: int
    truncated: bool


def compose(text: str, *, stop: bool, long_allowed: bool, truncation_allowed: bool) -> Composed:
    """Apply STOP SMS, the length limit and truncation; raises :class:`MessageTooLongError`."""
    limit = LONG_SMS_LIMITS[-1] if long_allowed else SINGLE_SMS
    suffix = STOP_MENTION if stop else ""
    final = text + suffix
    length = units(final)
    truncated = False
    if length > limit:
        if not truncation_allowed:
            raise MessageTooLongError(length)
        final = truncate(text, limit - units(suffix)) + suffix
        length = units(final)
        truncated = True
    return Composed(final, length, sms_count(length), truncated)
