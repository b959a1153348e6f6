"""Which encoding a text needs and how many SMS parts it costs.

GSM 03.38: 160 septets in one SMS, 153 per part once concatenated; the extension characters
(``^{}\\[~]|€`` and form feed) take two septets and an escape pair is never split across parts.
UCS-2: 70 units in one SMS, 67 per part; a character beyond U+FFFF takes two units (a surrogate
pair, which sMsmode's document 16 also counts double) and is never split either.

A provider may accept only part of the GSM set (sMsmode's table is the GSM characters that
exist in ISO-8859-15): adapters pass their own sets to :func:`measure`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Encoding(StrEnum):
    GSM = "gsm"
    UNICODE = "unicode"


GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class TextMeasure:
    encoding: Encoding
    units: int  # septets for GSM, UTF-16 code units for UCS-2
    segments: int
    # Characters outside the GSM set, in order of first appearance (why the text is Unicode).
    non_gsm: tuple[str, ...] = ()


def measure(
    text: str,
    *,
    basic: frozenset[str] = GSM_BASIC,
    extended: frozenset[str] = GSM_EXTENDED,
    force: Encoding | None = None,
) -> TextMeasure:
    """Choose GSM when every character is in ``basic | extended``, else UCS-2, and count parts."""
    non_gsm = tuple(dict.fromkeys(c for c in text if c not in basic and c not in extended))
    if force is Encoding.UNICODE or (force is None and non_gsm):
        costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
        return TextMeasure(
            Encoding.UNICODE, sum(costs), _parts(costs, UCS2_SINGLE, UCS2_PART), non_gsm
        )
    costs = [2 if c in extended else 1 for c in text]
    return TextMeasure(Encoding.GSM, sum(costs), _parts(costs, GSM_SINGLE, GSM_PART), non_gsm)


def _parts(costs: Iterable[int], single: int, part: int) -> int:
    """Greedy packing: a two-unit character that does not fit in a part starts the next one."""
    costs = list(costs)
    if sum(costs) <= single:
        return 1
    parts, room = 1, part
    for cost in costs:
        if cost > room:
            parts, room = parts + 1, part
        room -= cost
    return parts
