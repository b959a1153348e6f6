"""Bulk gateway message text: which characters a ``type`` accepts and how many SMS it costs.

Written from the "Unified Communications" bulk gateway document only, section 1.2:

- parameter 3 ``type``: 0 and 1 are GSM 03.38 text, 5 and 7 ISO-8859-1 text, 2 and 6
  Unicode; 1, 6 and 7 are flash. 3 (reserved) and 4 (WAP push) are not text types.
- parameter 7 ``message``: "'long' messages, that is, messages longer than 160 characters
  for plain text, 140 for flash, and 280 for Unicode. For concatenated (long) messages every
  153 characters are counted as one message for plain text and 268 characters for Unicode."

The document's figures are applied as written (see :func:`parts`). Its Unicode figures are
four times the usual 70/67 UCS-2 limits, which suggests the gateway measures Unicode text in
hexadecimal digits of UCS-2; the ``unicode_unit`` setting ("character", the default, or
"hex") chooses which unit those 280/268 figures count.
"""

from __future__ import annotations

#: GSM 03.38 default alphabet (escape excluded: it only introduces an extension character).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each takes two septets (escape + character).
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM_ALL = GSM_BASIC | GSM_EXTENSION

GSM_TYPES = frozenset({0, 1})
LATIN1_TYPES = frozenset({5, 7})
UNICODE_TYPES = frozenset({2, 6})
FLASH_TYPES = frozenset({1, 6, 7})
#: Section 1.2 parameter 3: the types that carry a text message.
TEXT_TYPES = GSM_TYPES | LATIN1_TYPES | UNICODE_TYPES

PLAIN_SINGLE, FLASH_SINGLE, UNICODE_SINGLE = 160, 140, 280
PLAIN_PART, UNICODE_PART = 153, 268
UNICODE_UNITS = ("character", "hex")


def fits_charset(text: str, message_type: int) -> bool:
    """Whether the text can be sent with this ``type``; if not the answer is 1705.

    The document names each type's character encoding but not what happens to a character
    outside it: the sandbox refuses the message (1705 "Invalid message") rather than
    replacing the character, so a client choosing the wrong type is noticed.
    """
    if message_type in GSM_TYPES:
        return GSM_ALL.issuperset(text)
    if message_type in LATIN1_TYPES:
        return all(ord(c) < 0x100 for c in text)
    return True


def units(text: str, message_type: int, unicode_unit: str = "character") -> int:
    """Length in the unit the document's limits count.

    GSM types count septets (an extension character takes two, as in GSM 03.38); ISO-8859-1
    types count characters; Unicode types count characters (code points), or with
    ``unicode_unit="hex"`` four hexadecimal digits per UTF-16 code unit.
    """
    if message_type in GSM_TYPES:
        return len(text) + sum(1 for c in text if c in GSM_EXTENSION)
    if message_type in UNICODE_TYPES and unicode_unit == "hex":
        return 2 * len(text.encode("utf-16-be"))
    return len(text)


def single_limit(message_type: int) -> int:
    """Longest text sent as one SMS: 280 Unicode (types 2 and 6), 140 flash, 160 plain.

    Unicode flash (type 6) uses the Unicode figure: the document's 140 sits between the
    plain text and the Unicode figures and reads as the one for flash GSM/ISO text.
    """
    if message_type in UNICODE_TYPES:
        return UNICODE_SINGLE
    return FLASH_SINGLE if message_type in FLASH_TYPES else PLAIN_SINGLE


def parts(text: str, message_type: int, unicode_unit: str = "character") -> int:
    """SMS counted for one recipient.

    One up to the single-message limit; beyond it, one per started 153 units (plain text and
    flash text) or 268 units (Unicode), and at least two, since a concatenated message is
    never a single SMS (a 150-character flash text is over 140 but under 153).
    """
    length = units(text, message_type, unicode_unit)
    if length <= single_limit(message_type):
        return 1
    per_part = UNICODE_PART if message_type in UNICODE_TYPES else PLAIN_PART
    return max(2, -(-length // per_part))
