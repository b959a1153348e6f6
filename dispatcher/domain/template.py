"""Personalised texts: ``"Bonjour {first_name}, votre commande {order} est prête."``.

Not ``str.format``, which reaches attributes (``{0.__class__}``): a placeholder names a column.

- ``{name}``: a letter (any script: headers say ``prénom``) or ``_``, then letters, digits,
  ``_``, ``-`` or ``.`` (``order-id``; a dot is part of the name, never attribute access).
  ``{{`` and ``}}`` are literal braces. Anything else with a brace is refused, naming line and
  column: unclosed ``{``, stray ``}``, ``{}``, ``{0}``, ``{a:b}``, ``{a!r}``, ``{ name }`` (not
  trimmed: a template is checked once before a million sends; a strict rule costs one edit).
- A row's value is looked up by the exact name; if that key is absent, by the row's keys with
  surrounding spaces stripped, case folded and NFC-normalised (``" First_Name"`` fills
  ``{first_name}``). An exact key always wins, even with a ``None`` value. Several keys matching
  with no exact one is refused: picking one would send some recipients the wrong value.
- A value is present when it is a string, even empty (a blank cell is a fact about the row).
  It is missing when absent, ``None``, or a float NaN (what pandas puts in blank cells, which
  would otherwise go out as "nan"). Other values go in as ``str(value)``, unescaped: an SMS
  has no markup, and a value containing braces is never read as a placeholder.

Parsed once into a ``%``-format string: rendering a million rows is a lookup per field and a ``%``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from dispatcher.errors import MissingFieldsError, TemplateError

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\{|\}")
_NAME = re.compile(r"[^\W\d][\w.-]*")  # \w: str.isalnum() or "_"; \d: decimal digits


@dataclass(frozen=True)
class Template:
    """A parsed text; ``Template(text)`` and ``Template.parse(text)`` both validate it."""

    source: str
    fields: tuple[str, ...] = field(init=False)  # distinct, in order of first appearance
    _format: str = field(init=False, repr=False, compare=False)
    _slots: tuple[str, ...] = field(init=False, repr=False, compare=False)  # name per "%s"

    @classmethod
    def parse(cls, text: str) -> Template:
        return cls(text)

    def __post_init__(self) -> None:
        text, end, slots, out = self.source, 0, list[str](), list[str]()
        for match in _TOKEN.finditer(text):
            out.append(text[end : match.start()].replace("%", "%%"))
            end, token, name = match.end(), match.group(), match.group(1)
            if token in ("{{", "}}"):
                out.append(token[0])
                continue
            if problem := _problem(token, name):
                raise TemplateError(text, match.start(), problem)
            slots.append(name)
            out.append("%s")
        out.append(text[end:].replace("%", "%%"))
        object.__setattr__(self, "fields", tuple(dict.fromkeys(slots)))
        object.__setattr__(self, "_format", "".join(out))
        object.__setattr__(self, "_slots", tuple(slots))

    @property
    def is_static(self) -> bool:
        """No placeholder: one rendering, ``render({})``, serves every recipient."""
        return not self.fields

    def render(self, values: Mapping[str, object]) -> str:
        """The text for one row; raises MissingFieldsError listing every unfillable field."""
        found = tuple([values.get(name) for name in self._slots])
        for value in found:
            if type(value) is not str:  # the slow path: case, None, NaN, numbers, dates
                return self._format % _resolve(self._slots, values)
        return self._format % found


def _resolve(names: tuple[str, ...], values: Mapping[str, object]) -> tuple[str, ...]:
    """Every rule of the module docstring, for rows the fast path in ``render`` cannot fill."""
    found, missing, ambiguous = list[str](), list[str](), list[str]()
    for name in names:
        value = values.get(name)
        if value is None and name not in values:
            key = _normal(name)
            candidates = [k for k in values if _normal(str(k)) == key]
            if len(candidates) > 1:
                ambiguous.append(name)
                continue
            value = values[candidates[0]] if candidates else None
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing.append(name)
        else:
            found.append(value if type(value) is str else str(value))
    if missing or ambiguous:
        raise MissingFieldsError(tuple(dict.fromkeys(missing)), tuple(dict.fromkeys(ambiguous)))
    return tuple(found)


@lru_cache(maxsize=4096)  # a campaign's rows share their headers: normalise each once
def _normal(key: str) -> str:
    return unicodedata.normalize("NFC", key.strip()).casefold()


def _problem(brace: str, name: str | None) -> str | None:
    """Why a brace is not a placeholder, saying what the author most likely meant."""
    if name is None:
        lone = "'{' is never closed" if brace == "{" else "'}' closes nothing"
        return f"{lone} (write {brace * 2} for a literal brace)"
    if _NAME.fullmatch(name):
        return None
    shown = "{" + (name if len(name) <= 30 else name[:29] + "…") + "}"
    if _NAME.fullmatch(name.strip()):
        return f"{shown}: no spaces inside the braces, write {{{name.strip()}}}"
    if name.isdigit() or not name:  # str.format's "{}" is positional too
        return f"{shown}: positional placeholders are not supported, name a column"
    if ":" in name or "!" in name:
        return f"{shown}: format specs and conversions are not supported"
    return f"{shown}: a name is a letter or '_', then letters, digits, '_', '-' or '.'"
