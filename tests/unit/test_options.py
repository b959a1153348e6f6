"""Campaign options: refused by key at enqueue, stored under the callers' key names, and
documented in docs/options.md field for field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.text import Encoding
from dispatcher.errors import CampaignValidationError
from dispatcher.providers.registry import REGISTRY, options_model

DOC = Path(__file__).parents[2] / "docs" / "options.md"


def _refused(raw: dict[str, Any], model: type[CampaignOptions] = CampaignOptions) -> list[str]:
    with pytest.raises(CampaignValidationError) as raised:
        model.parse(raw, provider="smsmode")
    return [str(p) for p in raised.value.problems]


def test_an_unknown_key_is_refused_naming_it() -> None:
    (problem,) = _refused({"colour": "red"})
    assert "colour" in problem
    assert problem.startswith("options:")


def test_a_string_is_not_a_boolean() -> None:
    (problem,) = _refused({"allow_replies": "false"})
    assert problem.startswith("options.allow_replies: must be true or false")


@pytest.mark.parametrize("value", [True, "1", 3])
def test_stop_must_be_the_number_1_or_2(value: object) -> None:
    (problem,) = _refused({"stop": value})
    assert problem.startswith("options.stop: must be 1 or 2")


def test_every_refused_key_is_named_at_once() -> None:
    problems = _refused({"stop": 3, "encoding": "utf8", "colour": "red"})
    assert [p.split(":")[0] for p in problems] == ["options", "options.stop", "options.encoding"]


def test_personalised_is_refused_from_callers() -> None:
    (problem,) = _refused({"personalised": "file"})
    assert "personalised is set by the dispatcher" in problem


def test_checked_keeps_the_accepted_keys_so_the_rest_can_still_be_checked() -> None:
    options, problems = CampaignOptions.checked(
        {"stop": 3, "transliterate": True, "colour": "red"}, provider="smsmode"
    )
    assert options == CampaignOptions(transliterate=True)
    assert len(problems) == 2


def test_another_providers_option_is_unknown() -> None:
    (problem,) = _refused({"tag": "promo"}, options_model("smsmode"))
    assert "['tag']" in problem


def test_the_stored_form_keeps_the_callers_key_names_and_only_what_is_set() -> None:
    raw = {"stop": 2, "window": "Mon-Fri 09:00-18:00 Europe/Paris", "allow_replies": True}
    options = CampaignOptions.parse({**raw, "transliterate": False}, provider="smsmode")
    assert options.to_stored() == raw
    assert CampaignOptions.from_stored(options.to_stored()) == options


def test_an_old_stored_row_parses() -> None:
    stored = {"stop": 2, "window": "Mon-Sat 08:00-20:00 Europe/Paris holidays=FR",
              "personalised": "file"}  # fmt: skip
    options = CampaignOptions.from_stored(stored)
    assert (options.stop, options.personalised) == (2, "file")
    assert CampaignOptions.from_stored(None) == CampaignOptions()


def test_the_options_are_frozen() -> None:
    options = CampaignOptions()
    with pytest.raises(ValueError, match="frozen"):
        options.stop = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("encoding", "forced"), [("auto", None), ("gsm", Encoding.GSM), ("unicode", Encoding.UNICODE)]
)
def test_forced_encoding(encoding: str, forced: Encoding | None) -> None:
    options = CampaignOptions.parse({"encoding": encoding}, provider="smsmode")
    assert options.forced_encoding is forced


# -- docs/options.md cannot drift --------------------------------------------------------------


def _documented() -> dict[str, set[str]]:
    """Keys of each section's table: "common" for "Every provider", else the provider name
    in the heading's backticks."""
    sections: dict[str, set[str]] = {}
    current: str | None = None
    for line in DOC.read_text().splitlines():
        if line.startswith("#"):
            named = re.search(r"\(`([a-z0-9_]+)`\)", line)
            current = "common" if line == "## Every provider" else named and named.group(1)
            if current is not None:
                sections[current] = set()
        elif current is not None and (key := re.match(r"\| `([a-z_]+)` \|", line)):
            sections[current].add(key.group(1))
    return sections


def test_the_doc_lists_every_common_option() -> None:
    assert _documented()["common"] == set(CampaignOptions.model_fields)


@pytest.mark.parametrize("provider", sorted(REGISTRY))
def test_the_doc_lists_each_adapters_own_options(provider: str) -> None:
    own = set(options_model(provider).model_fields) - set(CampaignOptions.model_fields)
    assert _documented().get(provider) == own


def test_the_doc_has_no_section_for_an_unregistered_provider() -> None:
    assert set(_documented()) - {"common"} <= set(REGISTRY)
