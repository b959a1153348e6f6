"""Each adapter's own campaign options: declared as a model, parsed once, read by attribute."""

from __future__ import annotations

import pytest

from dispatcher.domain.options import CampaignOptions
from dispatcher.errors import CampaignValidationError
from dispatcher.providers.bulkgw import BulkGatewayOptions
from dispatcher.providers.envoyer import EnvoyerOptions
from dispatcher.providers.smsfactor import SmsfactorOptions
from dispatcher.providers.smsmode import SmsmodeProvider

from . import _envoyer, _smsmode
from ._options import parsed


def test_an_option_of_another_provider_is_refused_naming_the_key() -> None:
    with pytest.raises(CampaignValidationError) as raised:
        parsed(SmsmodeProvider, {"tag": "Soldes"})
    (problem,) = raised.value.problems
    assert problem.field == "options"
    assert "['tag']" in problem.message
    assert "smsmode" in problem.message


def test_an_adapter_parses_its_own_options() -> None:
    options = _envoyer.provider().options_model.parse({"tag": "Soldes"}, provider="envoyer")
    assert isinstance(options, EnvoyerOptions)
    assert options.tag == "Soldes"


def test_own_options_returns_the_adapters_model_as_it_is() -> None:
    options = EnvoyerOptions(tag="Soldes", stop=1)
    assert _envoyer.provider().own_options(options, EnvoyerOptions) is options


def test_a_plain_campaign_options_is_read_with_the_own_fields_defaults() -> None:
    options = _envoyer.provider().own_options(CampaignOptions(stop=2), EnvoyerOptions)
    assert (options.stop, options.tag) == (2, None)


def test_an_adapter_sends_a_plain_campaign_options() -> None:
    request = _envoyer.provider().build_send_request(
        _envoyer.batch(options=CampaignOptions(allow_replies=True))
    )
    sent = _envoyer.form(request)
    assert sent["responsestatusid"] == "1"
    assert "tag" not in sent


def test_smsmode_has_no_options_of_its_own() -> None:
    assert _smsmode.provider().options_model is CampaignOptions


def test_own_options_survive_storage() -> None:
    options = EnvoyerOptions(tag="Soldes2024", stop=1)
    assert options.to_stored() == {"tag": "Soldes2024", "stop": 1}
    assert EnvoyerOptions.from_stored(options.to_stored()) == options


def test_smsfactor_flags_stored_as_numbers_still_load() -> None:
    # The first version stored what callers passed: isFlash's 0 and 1, and a stop of 0.
    options = SmsfactorOptions.from_stored({"flash": 1, "stop": 0})
    assert (options.flash, options.stop) == (True, 0)
    assert SmsfactorOptions.from_stored({"flash": 0}).flash is False


def test_the_bulk_gateways_flash_is_a_strict_bool() -> None:
    with pytest.raises(CampaignValidationError) as raised:
        BulkGatewayOptions.parse({"flash": 1}, provider="bulkgw")
    assert [p.field for p in raised.value.problems] == ["options.flash"]
    assert "types 1 and 6" in raised.value.problems[0].message
