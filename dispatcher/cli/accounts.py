"""Provider accounts and producers' API keys."""

from __future__ import annotations

import click

from dispatcher.cli.app import cli
from dispatcher.settings import get_settings


@cli.command()
@click.argument("account")
def balance(account: str) -> None:
    """The provider's credit balance for an account."""
    from dispatcher.providers.registry import adapter_for

    # Without a balance endpoint (has_balance), CapabilityError says so and main() prints it.
    click.echo(adapter_for(get_settings().account(account)).balance())


@cli.group(name="api-key")
def api_key() -> None:
    """Producers' keys for the HTTP service: named, stored only as a digest."""


@api_key.command(name="create")
@click.argument("name")
def api_key_create(name: str) -> None:
    """Make a key named NAME and print it: this is the only time it is shown."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.api_keys import create_key

    key = create_key(default_deps(), name)
    click.echo(key)
    click.echo(f"API key {name!r} created: send it as 'Authorization: Bearer <key>'. It is "
               "stored only as a digest and cannot be shown again.", err=True)  # fmt: skip


@api_key.command(name="list")
def api_key_list() -> None:
    """Every key's name, creation and revocation (never the key)."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.api_keys import list_keys

    for key in list_keys(default_deps()):
        revoked = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "live"
        click.echo(f"{key.name}\tcreated {key.created_at.isoformat()}\t{revoked}")


@api_key.command(name="revoke")
@click.argument("name")
def api_key_revoke(name: str) -> None:
    """Refuse the key named NAME from now on (its name is never given to another key)."""
    from dispatcher.runtime import default_deps
    from dispatcher.services.api_keys import revoke_key

    revoke_key(default_deps(), name)
    click.echo(f"API key {name!r} revoked")
