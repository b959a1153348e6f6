"""The only list of providers: an import and a line here register an adapter.

Everything else that names providers derives from :data:`REGISTRY`: the settings' check of an
account's ``provider``, the CLI's choices, the local stack and demo (which take what a sandbox
account needs from the sandbox's emulators), and the contract test that runs over every
adapter. The whole checklist of a new provider is docs/adding-a-provider.md.
"""

from __future__ import annotations

import httpx

from dispatcher.domain.options import CampaignOptions
from dispatcher.providers.base import Provider
from dispatcher.providers.bulkgw import BulkGatewayProvider
from dispatcher.providers.envoyer import EnvoyerProvider
from dispatcher.providers.http import process_client
from dispatcher.providers.smsfactor import SmsfactorProvider
from dispatcher.providers.smsmode import SmsmodeProvider
from dispatcher.settings import AccountSettings

REGISTRY: dict[str, type[Provider]] = {
    SmsmodeProvider.name: SmsmodeProvider,
    EnvoyerProvider.name: EnvoyerProvider,
    SmsfactorProvider.name: SmsfactorProvider,
    BulkGatewayProvider.name: BulkGatewayProvider,
}
# The provider the demo and local sandbox accounts use when none is named.
DEFAULT_PROVIDER = SmsmodeProvider.name


def options_model(provider: str) -> type[CampaignOptions]:
    """The campaign options ``provider`` accepts (read back from a stored campaign)."""
    cls = REGISTRY.get(provider)
    if cls is None:
        raise KeyError(f"no adapter for provider {provider!r}")
    return cls.options_model


def adapter_for(
    account: AccountSettings, *, client: httpx.Client | None = None, retry_seconds: float = 3.0
) -> Provider:
    """The adapter of ``account``'s provider, on this process's HTTP client by default."""
    cls = REGISTRY.get(account.provider)
    if cls is None:
        raise KeyError(f"no adapter for provider {account.provider!r}")
    return cls(account, client or process_client(), retry_seconds=retry_seconds)
