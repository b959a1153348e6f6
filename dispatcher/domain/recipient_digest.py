"""The recipients' digest: what a repeated idempotency key's list must match (issue 11).

A campaign's fingerprint covers its parameters (services/intake.py ``_campaign_row``); the
list is hashed apart, as its rows are read, so that a second call with the same key and
another list is refused with an error that says the recipients differ, instead of returning
the first campaign and silently dropping the new list. The hash is fed row by row: like the
copy itself it holds one row at a time (docs/design-rules.md 2.1), whether the list has ten
rows or ten million.

What is hashed is each row as the producer gave it: its number as written and its
personalisation fields (their order in a row does not count, the rows' order does), before
normalisation, so the same rows in the same order are the same list, whatever came of them,
and invalid rows count like the others. Row numbers are left out: a CSV file with a blank
line more holds the same rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring_ascii

from dispatcher.domain.audience import RawRecipient, RecipientSource, read_recipients


class RecipientDigest:
    """A SHA-256 over rows fed one at a time; one JSON line per row, so rows cannot run into
    each other (``["a", null]`` then ``["b", null]`` is not ``["ab", null]``)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, raw: RawRecipient) -> None:
        """Never raises: a row the validation refuses must reach it, so a value JSON cannot
        sort or hold (mixed key types, a cycle) is hashed by its repr instead."""
        try:
            if raw.fields is None and isinstance(raw.number, str):  # most rows: json.dumps's
                # own output for [number, null], without its per-call set-up
                line = f"[{encode_basestring_ascii(raw.number)}, null]"
            else:
                # ensure_ascii (the default) escapes a lone surrogate instead of failing on it.
                line = json.dumps([raw.number, raw.fields], sort_keys=True, default=str)
        except (TypeError, ValueError, RecursionError):
            line = repr((raw.number, raw.fields))
        self._hash.update(line.encode("utf-8", "backslashreplace") + b"\n")

    def over(self, rows: Iterable[RawRecipient]) -> Iterator[RawRecipient]:
        """``rows`` unchanged, each hashed as it passes."""
        for raw in rows:
            self.add(raw)
            yield raw

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digest_of(source: RecipientSource) -> str:
    """The digest of a whole list, read once and kept nowhere (AudienceFormatError as the
    reader raises it)."""
    digest = RecipientDigest()
    for raw in read_recipients(source):
        digest.add(raw)
    return digest.hexdigest()
