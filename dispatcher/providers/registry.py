"""The explicit list of providers. Adding one is an import and a line here."""

from __future__ import annotations

import httpx

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


def adapter_for(
    account: AccountSettings, *, client: httpx.Client | None = None, retry_seconds: float = 3.0
) -> Provider:
    """The adapter of ``account``'s provider, on this process's HTTP client by default."""
    cls = REGISTRY.get(account.provider)
    if cls is None:
        raise KeyError(f"no adapter for provider {account.provider!r}")
    return cls(account, client or process_client(), retry_seconds=retry_seconds)
