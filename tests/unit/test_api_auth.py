"""The producer API's header parsing and the settings tokens' digests, without a server."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from dispatcher.api.auth import bearer_token
from dispatcher.services.api_keys import NAME_PATTERN, digest, identify, settings_keys
from dispatcher.settings import Settings


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", b"abc"),
        ("bearer abc", b"abc"),
        ("BEARER abc", b"abc"),
        ("Bearer clé", "clé".encode()),
        ("abc", None),  # a bare key: the scheme is required
        ("Basic abc", None),
        ("Bearer  abc", None),  # one space only
        ("Bearer abc def", None),
        ("Bearer abc ", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
    ],
)
def test_only_a_bearer_header_with_one_key_gives_a_token(header: str, token: bytes | None) -> None:
    assert bearer_token(header) == token


def test_a_lone_surrogate_in_a_header_is_a_token_not_an_error() -> None:
    assert bearer_token("Bearer \ud800") == b"\xed\xa0\x80"


def test_settings_tokens_are_kept_as_digests_named_by_their_place() -> None:
    settings = Settings(api_tokens=[SecretStr("one"), SecretStr("two")])
    assert settings_keys(settings) == (
        ("settings:1", digest(b"one")),
        ("settings:2", digest(b"two")),
    )


def test_a_settings_token_is_identified_without_the_database() -> None:
    known = settings_keys(Settings(api_tokens=[SecretStr("one"), SecretStr("two")]))
    assert identify(None, known, b"two") == "settings:2"  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["settings:1", "", "a b", "ünï", "-dash", "x" * 65])
def test_a_key_name_that_could_be_mistaken_or_misprinted_is_refused(name: str) -> None:
    assert NAME_PATTERN.fullmatch(name) is None


def test_a_key_checked_while_the_database_is_unreachable_is_a_503_not_a_500() -> None:
    from starlette.testclient import TestClient

    from dispatcher.api.app import create_app
    from dispatcher.runtime import build_deps

    # Port 9 on 127.0.0.1 (discard) has no PostgreSQL: the connection is refused at once.
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:9/none", broker_url="redis://127.0.0.1:9/0"
    )
    deps = build_deps(settings)
    with TestClient(create_app(lambda: deps), raise_server_exceptions=False) as client:
        answer = client.get("/campaigns/1", headers={"Authorization": "Bearer not-a-settings-key"})
    assert answer.status_code == 503
