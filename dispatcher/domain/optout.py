"""Is an SMS we received a request to stop receiving SMS?

French operators and the CNIL expect "STOP" to work; people also write "Stop.", "STOP SMS",
"arrêt" or "désabonner". The first word decides, accents and case aside. A message that
merely starts with "stop" in another sense is read as a STOP too: an unwanted SMS costs more
than a missed one.
"""

from __future__ import annotations

import re
import unicodedata

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "ARRET", "ARRETER", "UNSUBSCRIBE", "DESABONNER", "DESINSCRIRE", "END"}
)
_WORD = re.compile(r"[A-Z]+")


def is_stop_request(text: str) -> bool:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    first = _WORD.search(plain)
    return first is not None and first.group() in STOP_WORDS
