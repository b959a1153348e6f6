"""What a campaign's text becomes before any recipient is read: placeholders, transliteration,
the STOP mention of marketing campaigns, the encoding and the send window.

Every decision here is checked against the provider (its GSM set, its own STOP mention, its
part counting) and every problem is collected, so that a campaign is refused whole with all
its problems named. The decisions that travel with the campaign (the provider's STOP mention,
the window's normalised description) are written into a copy of its options, which is what
enqueue stores: nothing here changes the caller's options in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.statuses import CampaignKind
from dispatcher.domain.template import Template
from dispatcher.domain.text import Encoding
from dispatcher.domain.transliterate import transliterate
from dispatcher.domain.window import DEFAULT_MARKETING_WINDOW, SendWindow
from dispatcher.errors import Problem, TemplateError, WindowError
from dispatcher.providers.base import Provider

# "native": the provider adds it; "appended": the account's stop_text is in the text.
StopPlacement = Literal["native", "appended", "none"]


@dataclass(frozen=True)
class Content:
    text: str  # the campaign's text (a template when personalised), as it will be sent
    template: Template
    # The caller's options with this module's decisions (STOP mention, window) written in.
    options: CampaignOptions
    window: SendWindow | None
    # (character, replacement) pairs transliteration made, and characters forcing Unicode.
    replaced: tuple[tuple[str, str], ...] = ()
    non_gsm: tuple[str, ...] = ()
    stop: StopPlacement = "none"
    problems: tuple[Problem, ...] = ()

    @property
    def personalised(self) -> bool:
        return not self.template.is_static

    @property
    def encoding(self) -> Encoding | None:
        """Forced by the campaign (option ``encoding``); None: chosen per text."""
        return self.options.forced_encoding

    def render_text(self, values: Mapping[str, object]) -> str:
        """One recipient's text: the template rendered, then transliterated like the rest."""
        rendered = self.template.render(values)
        if self.options.transliterate:
            return transliterate(rendered).text
        return rendered


def plan_content(
    adapter: Provider, text: str, *, kind: CampaignKind, options: CampaignOptions
) -> Content:
    problems: list[Problem] = []
    if options.transliterate:
        done = transliterate(text, basic=adapter.gsm_basic, extended=adapter.gsm_extended)
        text, replaced = done.text, done.replaced
    else:
        replaced = ()
    stop, text, options = _stop_mention(adapter, text, kind, options)
    try:
        template = Template.parse(text)
    except TemplateError as exc:
        problems.append(Problem("text", str(exc)))
        template = Template.parse(text.replace("{", "{{").replace("}", "}}"))
    forced = options.forced_encoding
    measure = adapter.measure(template.source, force=forced)
    if forced is Encoding.GSM and measure.non_gsm:
        chars = ", ".join(repr(c) for c in measure.non_gsm)
        hint = "" if options.transliterate else " (option transliterate may replace them)"
        problems.append(
            Problem("text", f"characters outside {adapter.name}'s GSM set: {chars}{hint}")
        )
    window = _window(adapter, kind, options, problems)
    if window is not None:  # stored normalised, so every batch reads the same window
        options = options.model_copy(update={"window": window.describe()})
    return Content(template.source, template, options, window, replaced,
                   measure.non_gsm, stop, tuple(problems))  # fmt: skip


def _stop_mention(
    adapter: Provider, text: str, kind: CampaignKind, options: CampaignOptions
) -> tuple[StopPlacement, str, CampaignOptions]:
    """Marketing campaigns carry a STOP mention: the provider's own where it has one (sMsmode
    stop=2, Envoyer stopsms=1), else the account's ``stop_text`` appended to the text."""
    if options.stop is not None:
        return "native", text, options  # the caller chose the provider's own mention explicitly
    if kind is not CampaignKind.MARKETING or options.stop_mention == "none":
        return "none", text, options
    if adapter.native_stop:
        return "native", text, options.model_copy(update={"stop": 2})
    if adapter.account.stop_text:
        return "appended", f"{text}\n{adapter.account.stop_text}", options
    return "none", text, options


def _window(
    adapter: Provider, kind: CampaignKind, options: CampaignOptions, problems: list[Problem]
) -> SendWindow | None:
    spec = options.window or (
        adapter.account.send_window if kind is CampaignKind.MARKETING else None
    )
    if spec is None and kind is not CampaignKind.MARKETING:
        return None
    try:
        return SendWindow.parse(spec) if spec else DEFAULT_MARKETING_WINDOW
    except WindowError as exc:
        problems.append(Problem("options.window", str(exc), value=str(spec)))
        return None
