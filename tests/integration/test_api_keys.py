"""Producers' API keys: named, stored as digests, ``Bearer`` required, revoked for good.

The HTTP application runs in process (Starlette's TestClient, no lifespan: the callback
inbox is not needed to refuse a push) on the module's own database; the CLI runs as the real
``dispatcher`` entry point in a subprocess on that same database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from starlette.testclient import TestClient

from dispatcher.api.app import create_app
from dispatcher.errors import ConfigurationError
from dispatcher.local.servers import ServerUrls
from dispatcher.persistence.database import Database
from dispatcher.services.api_keys import create_key, revoke_key
from dispatcher.services.deps import Deps
from schemas.tables import api_keys, campaigns
from tests.integration.helpers import plain_mobiles
from tests.integration.world import make_world

pytestmark = pytest.mark.integration

DEV_TOKEN = "dev-token-from-settings"
CALLBACK_SECRET = "push-secret"
ENTRY_POINT = Path(sys.executable).with_name("dispatcher")


@pytest.fixture
def deps(database: Database) -> Deps:
    world = make_world(database, callback_secret=CALLBACK_SECRET)
    settings = world.deps.settings.model_copy(update={"api_tokens": [SecretStr(DEV_TOKEN)]})
    return replace(world.deps, settings=settings)


@pytest.fixture
def api(deps: Deps) -> TestClient:
    # Not entered: no lifespan, so the callback inbox's writer never starts.
    return TestClient(create_app(lambda: deps), raise_server_exceptions=False)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _campaign(api: TestClient, headers: dict[str, str]) -> int:
    body = {
        "account": "mock",
        "text": "Hi",
        "recipients": plain_mobiles(2),
        "send_at": "2031-01-01T09:00:00+01:00",
    }
    created = api.post("/campaigns", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _created_by(database: Database, campaign_id: int) -> str | None:
    with database.transaction() as conn:
        name: str | None = conn.execute(
            select(campaigns.c.created_by).where(campaigns.c.id == campaign_id)
        ).scalar_one()
    return name


def _cli(servers: ServerUrls, database: Database, tmp_path: Path, *args: str) -> str:
    """``dispatcher api-key ...`` as an operator runs it: stdout, checked for success."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    env |= {"DISPATCHER_DATABASE_URL": database.url, "DISPATCHER_BROKER_URL": servers.redis_url}
    done = subprocess.run(
        [str(ENTRY_POINT), "api-key", *args],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_key_created_by_the_cli_is_shown_once_and_lets_its_producer_in(
    api: TestClient, servers: ServerUrls, database: Database, tmp_path: Path
) -> None:
    key = _cli(servers, database, tmp_path, "create", "shop-front").strip()
    campaign_id = _campaign(api, _bearer(key))
    assert _created_by(database, campaign_id) == "shop-front"


def test_the_database_keeps_a_digest_never_the_key(deps: Deps, database: Database) -> None:
    key = create_key(deps, "digest-only")
    with database.transaction() as conn:
        stored = conn.execute(
            select(api_keys.c.key_hash).where(api_keys.c.name == "digest-only")
        ).scalar_one()
    assert (len(stored), key.encode() in bytes(stored)) == (32, False)


def test_listing_keys_shows_their_names_never_the_keys(
    deps: Deps, servers: ServerUrls, database: Database, tmp_path: Path
) -> None:
    key = create_key(deps, "listed")
    listing = _cli(servers, database, tmp_path, "list")
    assert ("listed\t" in listing, key in listing) == (True, False)


def test_a_revoked_key_is_refused(
    api: TestClient, deps: Deps, servers: ServerUrls, database: Database, tmp_path: Path
) -> None:
    key = create_key(deps, "leaked")
    _campaign(api, _bearer(key))
    _cli(servers, database, tmp_path, "revoke", "leaked")
    assert api.get("/campaigns/1", headers=_bearer(key)).status_code == 401


def test_a_name_is_never_given_to_a_second_key(deps: Deps) -> None:
    create_key(deps, "once")
    revoke_key(deps, "once")
    with pytest.raises(ConfigurationError, match="exists already"):
        create_key(deps, "once")


def test_a_settings_token_still_works_and_is_named_by_its_place(
    api: TestClient, database: Database
) -> None:
    campaign_id = _campaign(api, _bearer(DEV_TOKEN))
    assert _created_by(database, campaign_id) == "settings:1"


def test_a_bare_key_without_the_bearer_scheme_is_refused(api: TestClient) -> None:
    answer = api.get("/campaigns/1", headers={"Authorization": DEV_TOKEN})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        f"Basic {DEV_TOKEN}",
        f"Bearer  {DEV_TOKEN}",  # two spaces
        f"Bearer {DEV_TOKEN} extra",
        "Bearer",
        "Bearer ",
        f"Bearer{DEV_TOKEN}",
    ],
)
def test_a_malformed_authorization_header_is_refused(api: TestClient, header: str) -> None:
    assert api.get("/campaigns/1", headers={"Authorization": header}).status_code == 401


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_scheme_is_read_in_any_case(api: TestClient, scheme: str) -> None:
    answer = api.get("/campaigns/999999", headers={"Authorization": f"{scheme} {DEV_TOKEN}"})
    assert answer.status_code == 404  # let in; no such campaign


@pytest.mark.parametrize(
    "header", ["Bearer clé-privée".encode(), b"Bearer \xff\xfe", "Bearer 密钥".encode()]
)
def test_a_non_ascii_token_is_refused_not_an_error(api: TestClient, header: bytes) -> None:
    """compare_digest raised TypeError on a str with non-ASCII characters: HTTP 500."""
    answer = api.get("/campaigns/1", headers=[(b"authorization", header)])
    assert answer.status_code == 401


@pytest.mark.parametrize("secret", ["%C3%A9", "push-secr%C3%A9t", "%F0%9F%94%91", "%ED%A0%80"])
def test_a_non_ascii_callback_secret_is_forbidden_not_an_error(
    api: TestClient, secret: str
) -> None:
    answer = api.post(f"/callbacks/smsmode/mock/{secret}", data={"x": "1"})
    assert answer.status_code == 403


def test_a_wrong_callback_secret_is_forbidden(api: TestClient) -> None:
    answer = api.post("/callbacks/smsmode/mock/push-secreT", data={"x": "1"})
    assert answer.status_code == 403
