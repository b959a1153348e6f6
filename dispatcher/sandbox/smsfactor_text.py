"""SMSFactor message text: conversion to the GSM 7-bit alphabet and part counting.

Written from "SMSFactor API v2.2" only:

- section 1.2.1.4: "Les caractères autorisés sont les caractères de la norme SMS GSM7 [...]
  Tous les caractères qui ne sont pas dans cette norme seront convertis dans le caractère le
  plus proche (exemple : ë => e)". The sandbox records the converted text, as the phone
  would show it. "Closest" is the sandbox's reading: the explicit table below (typography,
  ligatures), else the Unicode compatibility decomposition without its accents (ë => e,
  ê => e, ﬁ => fi, … => ...), else '?' when nothing close exists (emoji, most non-Latin
  scripts). ``ç`` becomes ``Ç``, the GSM 03.38 character at the position first meant for it.
- section 1.2.1.4 "Limite : 1120 caractères" is checked on the text as received, in
  characters (code points), before any conversion (see :mod:`smsfactor_xml`).
- section 1.2.1.6: "Si votre SMS dépasse 160 caractères alors notre système coupe les SMS par
  tranche de 153 caractères", each part billed as one SMS. Lengths are counted in GSM
  septets: the extension characters ``^ { } \\ [ ~ ] | €`` take two (an escape and the
  character), which is what the 160/153 arithmetic of the norm the document cites means.
"""

from __future__ import annotations

import unicodedata

SINGLE, MULTI = 160, 153

#: GSM 03.38 default alphabet (ESC excluded: it only introduces an extension character).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table characters phones display (form feed left out).
GSM_EXTENSION = "^{}\\[~]|€"
_GSM = frozenset(GSM_BASIC + GSM_EXTENSION)

# Closest GSM text of characters the decomposition does not handle well.
_EXPLICIT = {
    "ç": "Ç",
    "œ": "oe",
    "Œ": "OE",
    "\t": " ",
    "\u00a0": " ",
    "\u202f": " ",
    "`": "'",
    "´": "'",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "•": ".",
    "·": ".",
    "¢": "c",
    "©": "(c)",
    "®": "(R)",
    "°": "o",
}

# Converted characters kept in the cache at most (distinct code points are unbounded).
_CACHE_LIMIT = 20_000


def _closest(char: str) -> str:
    """The GSM text standing for one character outside the alphabet."""
    if char in _EXPLICIT:
        return _EXPLICIT[char]
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and all(c in _GSM for c in base):
        return base
    if not base and decomposed:
        return ""  # a lone combining mark: nothing visible to convert
    return "?"


class _Table(dict[int, str]):
    """``str.translate`` table filled on demand: GSM characters map to themselves."""

    def __missing__(self, code: int) -> str:
        value = _closest(chr(code))
        if len(self) < _CACHE_LIMIT:
            self[code] = value
        return value


_TABLE = _Table({ord(c): c for c in _GSM})


def to_gsm(text: str) -> str:
    """``text`` as converted by SMSFactor (section 1.2.1.4)."""
    return text.translate(_TABLE)


def septets(gsm_text: str) -> int:
    """Length in GSM septets of an already converted text."""
    return len(gsm_text) + sum(gsm_text.count(c) for c in GSM_EXTENSION)


def parts_for(gsm_text: str) -> int:
    """SMS billed per recipient: 1 up to 160 septets, then one per 153 (section 1.2.1.6)."""
    length = septets(gsm_text)
    return 1 if length <= SINGLE else -(-length // MULTI)
