"""A campaign's options: one typed model, parsed once at enqueue, read by attribute everywhere.

The options are stored as JSON in ``campaigns.options`` under the key names callers use, so
the stored form and the input form are the same (``to_stored`` / ``from_stored``). Every
provider accepts :class:`CampaignOptions`; an adapter with options of its own declares a
subclass of it (``Provider.options_model``), e.g. Envoyer SMS Pro's ``tag``.

An unknown or ill-typed option refuses the campaign at enqueue, naming the key: values are
checked strictly (``"false"`` is not a boolean, ``True`` is not a STOP mention), because a
lenient reading of a string flag has sent campaigns the caller did not mean.

Each field's ``description`` says what it must be; ``problems_in`` turns it into the message
a caller reads ("options.stop: must be 1 or 2"), and the table in docs/options.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from dispatcher.domain.text import Encoding
from dispatcher.errors import CampaignValidationError, Problem

StopMention = Annotated[int, Strict(), Field(ge=1, le=2)]
PersonalisedMode = Literal["file", "grouped"]

# Options the dispatcher sets itself; a caller passing one is refused like an unknown key.
DECIDED_BY_ENQUEUE = frozenset({"personalised"})


class CampaignOptions(BaseModel):
    """The options every provider accepts (``enqueue_campaign(options=...)``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    stop: StopMention | None = Field(
        None, description="1 or 2 (the provider's own STOP mention, where it has one)"
    )
    stop_mention: Literal["auto", "none"] = Field(
        "auto", description="'auto' or 'none' (the STOP mention of marketing campaigns)"
    )
    allow_without_stop: bool = Field(
        False, description="true or false (send marketing to French numbers without STOP)"
    )
    allow_replies: bool = Field(False, description="true or false (recipients may reply)")
    transliterate: bool = Field(
        False, description="true or false (replace ’ « » – … œ ê by GSM characters)"
    )
    encoding: Literal["auto", "gsm", "unicode"] = Field(
        "auto", description="'auto', 'gsm' or 'unicode'"
    )
    method: Literal["GET", "POST"] | None = Field(None, description="'GET' or 'POST'")
    window: str | None = Field(
        None, description="a send window such as 'Mon-Fri 09:00-18:00 Europe/Paris holidays=FR'"
    )
    provider_scheduling: bool = Field(
        False, description="true or false (the provider holds the messages until send_at)"
    )
    ignore_balance: bool = Field(
        False, description="true or false (send although the balance looks too low)"
    )
    personalised: PersonalisedMode | None = Field(
        None, description="set by enqueue: how personalised texts travel ('file' or 'grouped')"
    )

    @property
    def forced_encoding(self) -> Encoding | None:
        """The encoding the caller forced, or None when it is chosen per text."""
        return None if self.encoding == "auto" else Encoding(self.encoding)

    @classmethod
    def known_keys(cls) -> list[str]:
        """The keys a caller may pass, for messages and documentation."""
        return sorted(set(cls.model_fields) - DECIDED_BY_ENQUEUE)

    @classmethod
    def parse(cls, raw: Mapping[str, Any], *, provider: str) -> Self:
        """The caller's options; CampaignValidationError names each refused key."""
        options, problems = cls.checked(raw, provider=provider)
        if problems:
            raise CampaignValidationError(problems)
        return options

    @classmethod
    def checked(cls, raw: Mapping[str, Any], *, provider: str) -> tuple[Self, list[Problem]]:
        """The caller's options without the refused keys, and one problem per refused key.

        Enqueue goes on checking the campaign with what was accepted, so that a campaign is
        refused once with every problem named (its text, its sender and its options).
        """
        given = dict(raw)
        problems: list[Problem] = []
        decided = sorted(DECIDED_BY_ENQUEUE & set(given))
        if decided:
            message = f"{', '.join(decided)} is set by the dispatcher, not passed"
            problems.append(Problem("options", message))
            given = {k: v for k, v in given.items() if k not in DECIDED_BY_ENQUEUE}
        try:
            return cls.model_validate(given), problems
        except ValidationError as exc:
            problems += problems_in(exc, cls, provider=provider)
            refused = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        kept = {k: v for k, v in given.items() if k not in refused}
        try:
            return cls.model_validate(kept), problems
        except ValidationError:  # a rule across keys (an adapter's): check with the defaults
            return cls(), problems

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> Self:
        """Options read back from ``campaigns.options`` (written by ``to_stored``)."""
        return cls.model_validate(dict(stored or {}))

    def to_stored(self) -> dict[str, Any]:
        """The JSON stored in ``campaigns.options``: only what differs from the defaults."""
        return self.model_dump(mode="json", exclude_defaults=True)


def problems_in(
    exc: ValidationError, model: type[CampaignOptions], *, provider: str
) -> list[Problem]:
    """One problem per refused key, worded from the field's ``description``."""
    problems: list[Problem] = []
    unknown: list[str] = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            unknown.append(key)
            continue
        field = model.model_fields.get(key)
        expected = field.description if field is not None and field.description else None
        message = f"must be {expected}" if expected else str(error["msg"])
        problem = Problem(f"options.{key}", message, value=_shown(error.get("input")))
        if problem not in problems:
            problems.append(problem)
    if unknown:
        problems.insert(0, Problem(
            "options", f"unknown option(s) {sorted(unknown)} for {provider}; "
            f"known: {model.known_keys()}",
        ))  # fmt: skip
    return problems


def _shown(value: object) -> str | None:
    return None if value is None else str(value)[:80]
