"""Opt-in replacement of the characters that silently make an SMS Unicode.

One typographic apostrophe (’, what phones and word processors type) in an otherwise plain
French text switches the whole message to UCS-2: 70 characters per SMS instead of 160, so the
campaign costs two or three times more. Providers that refuse to switch print "?" or "the
closest character" instead. This module lets the product show those characters before sending
and, if the user agrees, replace them by GSM 03.38 ones that keep the meaning.

Rules, in the order they apply to each character (with the combining marks and joiners that
follow it, a "cluster"):

1. A cluster whose canonical composition (NFC) is sendable is kept in that form: "e" + U+0301
   becomes é, a GSM letter, instead of an e and a Unicode accent.
2. A sendable letter or digit keeps itself and loses the marks GSM cannot carry ("x" + U+0301
   -> "x"), as does a replaced one. A symbol loses only presentation marks (emoji selectors,
   keycap: "©️" -> "(c)", "#️⃣" -> "#"); with another mark ("=" + U+0338, a "≠") it stays.
3. ``_TABLE`` below, for punctuation, spaces, symbols and the Latin letters that have no
   Unicode decomposition (œ, ł, đ, þ...).
4. Otherwise the compatibility decomposition (NFKD), without its marks if it is a letter,
   when it is Latin and every piece of it is sendable or in the table: ê -> e, ç -> c (only
   Ç is GSM), Ê -> E, ş -> s, ™ -> TM, ½ -> 1/2 (a space first after a digit, so 1½ reads
   1 1/2 and not 11/2), ﬁ -> fi, fullwidth and mathematical letters -> plain ones, ² -> 2
   (m² reads m2, as French SMS write it, but 10² reads 102: a known ambiguity).
5. Anything else stays as it is and is listed in ``remaining``: emoji, non-Latin scripts
   (their marks and joiners included, so an emoji sequence or Persian ZWNJ is not broken).

A replacement is used only if every character of it is in the sets passed in, so a provider
with a narrower set (sMsmode's) never gets a character it would mangle.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from dispatcher.domain.text import GSM_BASIC, GSM_EXTENDED

# Judgment calls, each chosen to keep the meaning a French (or other European) reader expects:
# « » become " (the usual plain-text rendering); ´ and ` become ' (they are almost always a
# mistyped apostrophe: "l´offre"); a lone ¨ or ¸ is dropped (it means nothing without a
# letter); • is a list marker, so "-"; · becomes "." (Catalan l·l and French inclusive
# writing "client·e·s" have "." as their usual plain form); ° becomes "o" (N° -> No, 20°C ->
# 20oC; "deg" would turn N° into Ndeg); ‰ becomes "/1000" (5‰ -> 5/1000, exact); a tab
# becomes a space (GSM has none).
_TABLE: dict[str, str] = {
    **dict.fromkeys("\u2019\u2018\u201a\u201b\u2032\u02bc\u2039\u203a\u00b4`", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\u2022\u2023\u25e6", "-"),
    # No-break, narrow no-break (French "; ! ?" spacing), thin, figure, ideographic... spaces.
    **dict.fromkeys("\t\u00a0\u1680\u202f\u205f\u3000", " "),
    **dict.fromkeys("".join(map(chr, range(0x2000, 0x200B))), " "),
    **dict.fromkeys("\u2028\u2029", "\n"),
    # Invisible (zero-width space, soft hyphen, word joiner, byte order mark); lone ¨ and ¸.
    **dict.fromkeys("\u200b\u00ad\u2060\ufeff\u00a8\u00b8", ""),
    "\u00b7": ".",
    "\u2026": "...",
    "\u2044": "/",  # fraction slash, so that NFKD of ½ gives 1/2
    "\u02c6": "^",
    "\u02dc": "~",
    # Latin letters without a Unicode decomposition.
    **dict(zip("łŁđĐðÐħĦıŧŦ", "lLdDdDhHitT", strict=True)),
    **{"œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th", "ẞ": "SS"},
    **{"©": "(c)", "®": "(R)", "°": "o", "‰": "/1000", "×": "x", "÷": "/", "±": "+/-"},
    **{"≤": "<=", "≥": ">=", "→": "->", "←": "<-"},
}

# Characters that belong to the one before them: combining marks (category M) and these
# joiners and direction marks. They go with a replaced or sendable letter and stay with a
# character that remains, where they matter (emoji ZWJ sequences, Persian ZWNJ, Hebrew RLM).
_JOINERS = frozenset("\u200c\u200d\u200e\u200f")
# Marks that only choose how the character before them is drawn (emoji variation selectors,
# the keycap of #️⃣ and 1️⃣): dropping them with a sendable character keeps the meaning.
_PRESENTATION = _JOINERS | frozenset(map(chr, range(0xFE00, 0xFE10))) | {"\u20e3"}
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class Transliteration:
    """What :func:`transliterate` did, so the product can show it before anything is sent."""

    text: str
    # (original, replacement) per distinct original, in order of first appearance. An original
    # is one character, or a letter with the marks that followed it ("e\u0301" -> "é").
    replaced: tuple[tuple[str, str], ...] = ()
    # Characters still outside the sets (emoji, other scripts): why the text is still Unicode.
    remaining: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether ``text`` differs from the input; every difference is listed in ``replaced``."""
        return bool(self.replaced)


def transliterate(
    text: str,
    *,
    basic: frozenset[str] = GSM_BASIC,
    extended: frozenset[str] = GSM_EXTENDED,
) -> Transliteration:
    """Replace what is outside ``basic | extended`` by sendable text of the same meaning.

    Sendable characters are never touched, the result never gains a character outside the
    sets, and applying it again changes nothing.
    """
    sendable = basic | extended
    pieces: list[str] = []
    replaced: dict[str, str] = {}
    last = ""
    for cluster in _clusters(text):
        new = _convert(cluster, sendable)
        if new != cluster:
            replaced.setdefault(cluster, new)
            if last in _DIGITS and new[:1] in _DIGITS and "\u2044" in _nfkd(cluster):
                new = " " + new if " " in sendable else new  # 1½ -> 1 1/2, not 11/2
        pieces.append(new)
        last = new[-1:] or last
    result = "".join(pieces)
    remaining = tuple(dict.fromkeys(c for c in result if c not in sendable))
    return Transliteration(result, tuple(replaced.items()), remaining)


def _clusters(text: str) -> Iterator[str]:
    """Cut the text before each character that does not belong to the one before it."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not _belongs(text[i]):
            yield text[start:i]
            start = i


def _belongs(char: str) -> bool:
    return char in _JOINERS or unicodedata.category(char).startswith("M")


def _convert(cluster: str, sendable: frozenset[str]) -> str:
    """The cluster's sendable form, or the cluster unchanged when there is none."""
    composed = unicodedata.normalize("NFC", cluster)
    if all(c in sendable for c in composed):
        return composed
    head, followers = composed[0], composed[1:]
    new = head if head in sendable else _replace(head, sendable)
    # Marks are accents on a letter or digit, and stray once their character is removed, but
    # on a symbol they can negate it ("=" + U+0338 is ≠): keep those unless mere presentation.
    if new is None or not (new == "" or _is_letter(head) or set(followers) <= _PRESENTATION):
        return cluster
    return new


def _replace(char: str, sendable: frozenset[str]) -> str | None:
    """Table first, then NFKD; None when neither is fully sendable.

    NFKD loses marks from letters only (a slash on a symbol negates it, a spacing accent is no
    letter) and gives Latin letters only (Greek Ώ does not become GSM's Ω: other scripts stay).
    """
    new = _TABLE.get(char)
    if new is None:
        decomposed = _nfkd(char)
        base = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
        if len(base) < len(decomposed) and not (_is_letter(char) and base.strip()):
            return None
        if any(c.isalpha() and "LATIN" not in unicodedata.name(c, "") for c in base):
            return None
        parts = [c if c in sendable else _TABLE.get(c) for c in base]
        if not parts or None in parts:
            return None
        new = "".join(p for p in parts if p is not None)
    return new if all(c in sendable for c in new) else None


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def _nfkd(text: str) -> str:
    return unicodedata.normalize("NFKD", text)
