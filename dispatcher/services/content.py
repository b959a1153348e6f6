"""What a campaign's text becomes before any recipient is read: placeholders, transliteration,
the STOP mention of marketing campaigns, the encoding and the send window.

Every decision here is checked against the provider (its GSM set, its own STOP mention, its
part counting) and every problem is collected, so that a campaign is refused whole with all
its problems named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dispatcher.domain.statuses import CampaignKind
from dispatcher.domain.template import Template, TemplateError
from dispatcher.domain.text import Encoding, TextMeasure
from dispatcher.domain.transliterate import transliterate
from dispatcher.domain.window import DEFAULT_MARKETING_WINDOW, SendWindow, WindowError
from dispatcher.errors import Problem
from dispatcher.providers.base import Provider

# Options this module reads; services.enqueue adds them to the ones every provider accepts.
CONTENT_OPTIONS = frozenset({"transliterate", "stop_mention", "allow_without_stop", "window"})


@dataclass
class Content:
    text: str  # the campaign's text (a template when personalised), as it will be sent
    template: Template
    encoding: Encoding | None  # forced by the campaign; None: chosen per text
    options: dict[str, Any]
    window: SendWindow | None
    # (character, replacement) pairs transliteration made, and characters forcing Unicode.
    replaced: tuple[tuple[str, str], ...] = ()
    non_gsm: tuple[str, ...] = ()
    stop: str = "none"  # "native" (the provider adds it), "appended" (in the text) or "none"
    problems: list[Problem] = field(default_factory=list)

    @property
    def personalised(self) -> bool:
        return not self.template.is_static

    def render_text(self, values: Mapping[str, object]) -> str:
        """One recipient's text: the template rendered, then transliterated like the rest."""
        rendered = self.template.render(values)
        if self.options.get("transliterate"):
            return transliterate(rendered).text
        return rendered


def plan_content(
    adapter: Provider, text: str, *, kind: CampaignKind, sender: str | None,
    options: Mapping[str, Any], forced: Encoding | None,
) -> Content:  # fmt: skip
    problems: list[Problem] = []
    opts = dict(options)
    if opts.get("transliterate"):
        done = transliterate(text, basic=adapter.gsm_basic, extended=adapter.gsm_extended)
        text, replaced = done.text, done.replaced
    else:
        replaced = ()
    stop, text = _stop_mention(adapter, text, kind, opts, problems)
    try:
        template = Template.parse(text)
    except TemplateError as exc:
        problems.append(Problem("text", str(exc)))
        template = Template.parse(text.replace("{", "{{").replace("}", "}}"))
    measure = adapter.measure(template.source, force=forced)
    if forced is Encoding.GSM and measure.non_gsm:
        chars = ", ".join(repr(c) for c in measure.non_gsm)
        hint = "" if opts.get("transliterate") else " (option transliterate may replace them)"
        problems.append(
            Problem("text", f"characters outside {adapter.name}'s GSM set: {chars}{hint}")
        )
    window = _window(adapter, kind, opts, problems)
    return Content(template.source, template, forced, opts, window, replaced,
                   measure.non_gsm, stop, problems)  # fmt: skip


def parts_of(adapter: Provider, content: Content, text: str) -> TextMeasure:
    """The encoding and the parts one recipient's text costs with this provider."""
    return adapter.measure(text, force=content.encoding)


def _stop_mention(
    adapter: Provider, text: str, kind: CampaignKind, opts: dict[str, Any], problems: list[Problem]
) -> tuple[str, str]:
    """Marketing campaigns carry a STOP mention: the provider's own where it has one (sMsmode
    stop=2, Envoyer stopsms=1), else the account's ``stop_text`` appended to the text."""
    wanted = opts.pop("stop_mention", "auto")
    if wanted not in ("auto", "none"):
        problems.append(
            Problem("options.stop_mention", "must be 'auto' or 'none'", value=str(wanted))
        )
    if "stop" in opts:
        return "native", text  # the caller chose the provider's own mention explicitly
    if kind is not CampaignKind.MARKETING or wanted == "none":
        return "none", text
    if adapter.native_stop:
        opts["stop"] = 2
        return "native", text
    if adapter.account.stop_text:
        return "appended", f"{text}\n{adapter.account.stop_text}"
    return "none", text


def _window(
    adapter: Provider, kind: CampaignKind, opts: dict[str, Any], problems: list[Problem]
) -> SendWindow | None:
    spec = opts.get("window") or (
        adapter.account.send_window if kind is CampaignKind.MARKETING else None
    )
    if spec is None and kind is not CampaignKind.MARKETING:
        return None
    try:
        window = SendWindow.parse(spec) if spec else DEFAULT_MARKETING_WINDOW
    except WindowError as exc:
        problems.append(Problem("options.window", str(exc), value=str(spec)))
        return None
    opts["window"] = window.describe()
    return window
