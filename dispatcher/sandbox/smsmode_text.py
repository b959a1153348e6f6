"""sMsmode message text: character decoding, '?' replacement, part counting, truncation, STOP.

Written from "sMsmode HTTP API 1.6" only:

- section 3 "Character encoding": for ``classe_msg`` 2 and 4 the percent-encoded bytes are
  ISO-8859-15; only the characters of the document's table are accepted, any other becomes
  '?'; the starred characters ``{ | } ~ [ \\ ] ^ €`` count double. The table is read by its
  byte codes, which are unambiguous where the printed glyphs are not: %A1 is '¡' (printed
  "i"), %27 is the apostrophe (printed "`"), %FC is 'ü' (printed "Û"). %A4 and %80 both
  give '€' (the table lists both; %80 is the Windows-1252 position).
- section 3 "nbr_msg": 160 characters in one SMS, 153 per part beyond (306, 459, ...);
  the text is truncated to ``nbr_msg`` parts (default 5).
- section 16 "Unicode SMS": ``classe_msg=9`` text is UTF-8; 70 characters in one SMS, 67
  per part (134, 201, 268, 335), at most 5 parts; characters beyond U+FFFF count double.
- section 3 "Stop SMS parameter": ``stop=1`` adds the STOP mention only when the original
  text is at most 149 characters (so that it still fits one SMS), ``stop=2`` always adds it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

GSM_SINGLE, GSM_MULTI = 160, 153
UCS_SINGLE, UCS_MULTI = 70, 67
UCS_MAX_PARTS = 5
UNICODE_CLASS = 9

# Section 3 table, by ISO-8859-15 byte value.
_ACCEPTED_BYTES = (
    b"\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_"
    b"abcdefghijklmnopqrstuvwxyz{|}~"
    b"\x80\xa1\xa3\xa4\xa5\xa7\xbf\xc4\xc5\xc6\xc7\xc8\xc9\xd1\xd6\xd8\xdc\xdf"
    b"\xe0\xe4\xe5\xe6\xe8\xe9\xec\xf1\xf2\xf6\xf8\xf9\xfc"
)
DOUBLE_CHARS = "{|}~[\\]^€"


def _byte_char(byte: int) -> str:
    return "€" if byte == 0x80 else bytes([byte]).decode("iso8859_15")


# Maps a raw byte (as a latin-1 code point) to the character the phone shows.
_GSM_TABLE = {b: (_byte_char(b) if b in _ACCEPTED_BYTES else "?") for b in range(256)}
# Other text parameters keep every ISO-8859-15 character (no '?' replacement).
_ISO_TABLE = {b: _byte_char(b) for b in range(256)}

_QUESTION = "sandbox.smsmode.question"


def _question(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: an undecodable byte sequence becomes one '?' (section 3)."""
    if isinstance(exc, UnicodeDecodeError):
        return "?", exc.end
    raise exc


codecs.register_error(_QUESTION, _question)


def decode_message(raw: str, classe_msg: int) -> str:
    """The message as the phone shows it; ``raw`` holds one latin-1 char per received byte."""
    if classe_msg == UNICODE_CLASS:
        return raw.encode("latin-1").decode("utf-8", _QUESTION)
    return raw.translate(_GSM_TABLE)


def decode_param(raw: str, classe_msg: int) -> str:
    """Another text parameter (refClient, emetteur, URLs) in the request's charset."""
    if classe_msg == UNICODE_CLASS:
        return raw.encode("latin-1").decode("utf-8", _QUESTION)
    return raw.translate(_ISO_TABLE)


def units(text: str, unicode: bool) -> int:
    """Length as the document counts it (double characters count 2)."""
    if unicode:
        return len(text.encode("utf-16-le")) // 2  # beyond U+FFFF: a surrogate pair, 2 units
    return len(text) + sum(text.count(c) for c in DOUBLE_CHARS)


def parts_for(length: int, unicode: bool) -> int:
    """SMS parts needed for ``length`` units."""
    single, multi = (UCS_SINGLE, UCS_MULTI) if unicode else (GSM_SINGLE, GSM_MULTI)
    return 1 if length <= single else -(-length // multi)


def capacity(parts: int, unicode: bool) -> int:
    """Units that fit in ``parts`` parts (160, 306, 459 / 70, 134, 201)."""
    single, multi = (UCS_SINGLE, UCS_MULTI) if unicode else (GSM_SINGLE, GSM_MULTI)
    return single if parts <= 1 else multi * parts


def truncate(text: str, max_units: int, unicode: bool) -> str:
    """The longest prefix of ``text`` within ``max_units`` (a double char is never split)."""
    if units(text, unicode) <= max_units:
        return text
    used = 0
    for i, char in enumerate(text):
        cost = 1 + (ord(char) > 0xFFFF if unicode else char in DOUBLE_CHARS)
        if used + cost > max_units:
            return text[:i]
        used += cost
    return text


@dataclass(frozen=True)
class Composed:
    """The final text and its part count per recipient."""

    text: str
    parts: int


def compose(text: str, classe_msg: int, nbr_msg: int, stop: int, mention: str) -> Composed:
    """Apply STOP and ``nbr_msg`` truncation to a decoded text.

    The mention is appended after one space: with the default "STOP 36304" that makes 11
    characters, which is why the document's ``stop=1`` threshold is 149 (149 + 11 = 160).
    The same rule ("only if it still fits one SMS") gives 59 for Unicode. The mention is never
    cut: with ``stop=2`` the original text is truncated to leave room for it within
    ``nbr_msg`` parts.
    """
    unicode = classe_msg == UNICODE_CLASS
    limit = min(nbr_msg, UCS_MAX_PARTS) if unicode else nbr_msg
    room = capacity(limit, unicode)
    suffix = " " + mention
    suffix_units = units(suffix, unicode)
    single = capacity(1, unicode)
    if stop == 2 or (stop == 1 and units(text, unicode) + suffix_units <= single):
        final = truncate(text, max(0, room - suffix_units), unicode) + suffix
    else:
        final = truncate(text, room, unicode)
    return Composed(final, parts_for(units(final, unicode), unicode))
