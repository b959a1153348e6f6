"""How long a batch's reports may still come (services/pacing.py::report_horizon), from the
provider, the account and the settings, without a database."""

from __future__ import annotations

from datetime import timedelta

from dispatcher.providers.smsmode import SmsmodeProvider
from dispatcher.services.pacing import report_horizon
from dispatcher.settings import AccountSettings, Timings
from tests.unit.providers import _bulkgw
from tests.unit.providers._http import mock_client, no_network


def test_a_polled_batch_has_its_providers_horizon() -> None:
    account = AccountSettings(
        name="s", provider="smsmode", base_url="https://s.test", access_token="t"
    )
    adapter = SmsmodeProvider(account, mock_client(no_network))
    assert report_horizon(adapter, Timings(), polls=True) == timedelta(days=30)


def test_a_push_only_batch_has_the_accounts_pushed_report_horizon() -> None:
    adapter = _bulkgw.provider(options={"dlr": True, "report_horizon_hours": 6})
    assert report_horizon(adapter, Timings(), polls=False) == timedelta(hours=6)


def test_the_bulk_gateways_pushed_reports_have_48_hours_by_default() -> None:
    adapter = _bulkgw.provider(options={"dlr": True})
    assert report_horizon(adapter, Timings(), polls=False) == timedelta(hours=48)


def test_an_account_that_asks_for_no_report_has_no_horizon() -> None:
    adapter = _bulkgw.provider(options={"dlr": False, "report_horizon_hours": 6})
    assert report_horizon(adapter, Timings(), polls=False) is None


def test_poll_horizon_hours_overrides_every_horizon() -> None:
    adapter = _bulkgw.provider(options={"dlr": True})
    assert report_horizon(adapter, Timings(poll_horizon_hours=0.01), polls=False) == timedelta(
        hours=0.01
    )
