"""Campaign options in the adapter tests: parsed by the adapter's own model, as enqueue does.

A test writes options as a caller does (a dict); these helpers turn it into the typed model
an adapter receives, so that ill-typed values are refused where enqueue refuses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.text import Encoding
from dispatcher.errors import CampaignValidationError, Problem
from dispatcher.providers.base import Provider


def parsed(
    adapter: Provider | type[Provider], raw: Mapping[str, Any] | None = None
) -> CampaignOptions:
    """``raw`` parsed by the adapter's ``options_model``; CampaignValidationError if refused."""
    cls = adapter if isinstance(adapter, type) else type(adapter)
    return cls.options_model.parse(raw or {}, provider=cls.name)


def campaign_problems(
    adapter: Provider,
    *,
    text: str,
    sender: str | None,
    options: Mapping[str, Any] | None = None,
    encoding: Encoding | None = None,
) -> list[Problem]:
    """What enqueue reports: the options' own problems when parsing refuses them, else the
    adapter's ``validate`` of the campaign."""
    try:
        typed = parsed(adapter, options)
    except CampaignValidationError as exc:
        return exc.problems
    return adapter.validate(text=text, sender=sender, options=typed, encoding=encoding)


def batch_fields(cls: type[Provider], fields: dict[str, Any]) -> dict[str, Any]:
    """A batch builder's ``fields`` with its ``options`` (a dict, or none) parsed by ``cls``."""
    options = fields.get("options")
    if options is None or isinstance(options, Mapping):
        fields["options"] = parsed(cls, options)
    return fields


def own_keys(cls: type[Provider]) -> set[str]:
    """The options ``cls`` accepts beyond the common ones."""
    return set(cls.options_model.model_fields) - set(CampaignOptions.model_fields)
