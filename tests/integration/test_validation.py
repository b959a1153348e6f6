"""Bad input at every entry point ends in CampaignValidationError (HTTP 422/413), on a real
database, with nothing written (issue 11, §1).

Before this, a NUL byte reached PostgreSQL (``psycopg.DataError``, HTTP 500), a nested body
raised RecursionError (HTTP 500) and a wrong Python type a bare TypeError. The property tests
throw arbitrary requests and bodies at ``enqueue_campaign`` and at the HTTP service and count
the rows before and after: success, or a refusal that left the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import text
from starlette.testclient import TestClient

from dispatcher import enqueue_campaign
from dispatcher.api import campaigns as campaign_routes
from dispatcher.api.app import create_app
from dispatcher.errors import CampaignValidationError, IdempotencyConflictError
from dispatcher.services.deps import Deps
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World

pytestmark = pytest.mark.integration

LATER = datetime.now(UTC) + timedelta(days=30)
TOKEN = "validation-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROPERTY = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _rows(deps: Deps) -> tuple[int, int]:
    with deps.db.transaction() as conn:
        found = conn.execute(
            text("SELECT (SELECT count(*) FROM campaigns), (SELECT count(*) FROM recipients)")
        ).one()
    return int(found[0]), int(found[1])


def _enqueue(world: World, **given: Any) -> int:
    base: dict[str, Any] = {"account": "mock", "text": "Hi", "send_at": LATER,
                            "recipients": plain_mobiles(2)}  # fmt: skip
    return enqueue_campaign(**{**base, **given}, deps=world.deps)


def _refused(world: World, **given: Any) -> list[str]:
    before = _rows(world.deps)
    with pytest.raises(CampaignValidationError) as refused:
        _enqueue(world, **given)
    assert _rows(world.deps) == before
    return [str(p) for p in refused.value.problems]


@pytest.fixture
def api(world: World) -> Iterator[TestClient]:
    settings = world.deps.settings.model_copy(update={"api_tokens": [SecretStr(TOKEN)]})
    deps = replace(world.deps, settings=settings)
    with TestClient(create_app(lambda: deps), raise_server_exceptions=False) as client:
        yield client


def test_a_nul_byte_in_the_text_is_refused_naming_the_field(world: World) -> None:
    assert _refused(world, text="Hi\x00") == ["text: character 3 is a control character (U+0000)"]


def test_a_nul_byte_in_a_personalisation_field_is_refused_naming_its_row(world: World) -> None:
    numbers = plain_mobiles(2)
    rows = [{"msisdn": numbers[0], "name": "Ana"}, {"msisdn": numbers[1], "name": "B\x00"}]
    assert _refused(world, text="Hi {name}", recipients=rows) == [
        "row 2: recipients.fields.name: character 2 is a control character (U+0000)"
    ]


def test_a_nul_byte_in_the_idempotency_key_is_refused(world: World) -> None:
    assert _refused(world, idempotency_key="key\x00") == [
        "idempotency_key: character 4 is a control character (U+0000)"
    ]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"recipients": 42}, "recipients"),
        ({"text": None}, "text"),
        ({"send_at": "tomorrow"}, "send_at"),
        ({"kind": "promo"}, "kind"),
        ({"options": ["stop"]}, "options"),
        ({"sender": 12}, "sender"),
    ],
)
def test_a_wrong_python_type_is_a_validation_error_naming_the_field(
    world: World, given: dict[str, Any], field: str
) -> None:
    (problem,) = _refused(world, **given)
    assert problem.startswith(f"{field}: ")


def test_a_json_lines_file_is_enqueued_like_a_csv(world: World, tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text("\n".join(json.dumps({"msisdn": n}) for n in plain_mobiles(3)))
    before = _rows(world.deps)
    _enqueue(world, recipients=path)
    assert _rows(world.deps) == (before[0] + 1, before[1] + 3)


def test_a_nul_byte_over_http_is_a_422_listing_the_problem(api: TestClient) -> None:
    body = {"account": "mock", "text": "Hi\x00", "recipients": plain_mobiles(1)}
    answer = api.post("/campaigns", json=body, headers=AUTH)
    assert (answer.status_code, answer.json()["problems"]) == (
        422, ["text: character 3 is a control character (U+0000)"]
    )  # fmt: skip


def test_a_deeply_nested_body_is_a_422_not_a_recursion_error(api: TestClient) -> None:
    answer = api.post("/campaigns", content=b"[" * 100_000 + b"]" * 100_000, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["problems"] == ["body: the body nests deeper than 16"]


def test_a_body_over_the_limit_is_a_413(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(campaign_routes, "MAX_BODY_BYTES", 1000)
    body = {"account": "mock", "text": "x" * 2000, "recipients": plain_mobiles(1)}
    assert api.post("/campaigns", json=body, headers=AUTH).status_code == 413


def test_a_wrongly_typed_recipient_over_http_names_its_row(api: TestClient) -> None:
    body = {"account": "mock", "text": "Hi", "recipients": [plain_mobiles(1)[0], 42]}
    answer = api.post("/campaigns", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["problems"][0].startswith("row 2: recipients: ")


def test_bad_numbers_over_http_are_grouped_by_reason_with_counts(api: TestClient) -> None:
    body = {"account": "mock", "text": "Hi", "recipients": [*plain_mobiles(2), "120", "121"]}
    answer = api.post("/campaigns", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["groups"] == [
        {"field": "recipients", "message": "not a valid number for FR (too short)", "count": 2,
         "rows": [3, 4], "values": ["120", "121"]}
    ]  # fmt: skip
    assert len(answer.json()["problems"]) == 2  # the full list stays


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_MOBILES = st.sampled_from(plain_mobiles(5))
_NUMBERS = _MOBILES | st.text(max_size=14)
_ROWS = _NUMBERS | st.fixed_dictionaries(
    {"msisdn": _MOBILES}, optional={"name": st.text(max_size=8) | _SCALARS, "x": _SCALARS}
)
_OPTIONS = st.dictionaries(
    st.sampled_from(["stop", "transliterate", "method", "encoding", "window", "x"]),
    _SCALARS | st.lists(_SCALARS, max_size=2),
    max_size=2,
)
_TEXTS = st.text(max_size=40) | st.sampled_from(["Hi {name}", "Hi\x00", "ok"])
# A valid campaign with one or two fields replaced by anything: most examples get past the
# first check and reach the rows, the options and PostgreSQL.
_VALID = {"account": "mock", "text": "Hi", "recipients": plain_mobiles(2), "send_at": LATER}
_HOSTILE: dict[str, st.SearchStrategy[Any]] = {
    "text": _TEXTS | st.none() | st.integers(),
    "recipients": st.lists(_ROWS, max_size=4) | _SCALARS,
    "sender": st.none() | st.sampled_from(["SHOP"]) | st.text(max_size=12) | st.integers(),
    "idempotency_key": st.none() | st.text(max_size=6),
    "send_at": st.none() | st.datetimes(timezones=st.none() | st.just(UTC)) | st.text(max_size=3),
    "kind": st.sampled_from(["notification", "marketing", "other"]),
    "options": _OPTIONS | st.integers(),
}
_CHANGES = st.lists(
    st.one_of([st.tuples(st.just(k), v) for k, v in _HOSTILE.items()]), min_size=1, max_size=2
)


@PROPERTY
@given(changes=_CHANGES)
def test_any_request_is_enqueued_or_refused_whole(
    world: World, changes: list[tuple[str, Any]]
) -> None:
    before = _rows(world.deps)
    try:
        enqueue_campaign(**{**_VALID, **dict(changes)}, deps=world.deps)
    except (CampaignValidationError, IdempotencyConflictError) as exc:
        event(type(exc).__name__)
        assert _rows(world.deps) == before
    else:
        event("enqueued")


_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
    max_leaves=12,
)  # fmt: skip
_AS_JSON = {
    "send_at": st.datetimes(timezones=st.none() | st.just(UTC)).map(datetime.isoformat)
    | st.text(max_size=3),
    "invalid": st.sampled_from(["reject", "drop"]) | _SCALARS,
    "default_region": st.sampled_from(["FR", "BE"]) | _SCALARS,
    "unknown": _JSON,
}
_BODY_CHANGES = st.lists(
    st.one_of(
        [st.tuples(st.just(k), v) for k, v in {**_HOSTILE, **_AS_JSON}.items()
         if k != "send_at"]
        + [st.tuples(st.just("send_at"), _AS_JSON["send_at"])]
    ),
    min_size=1, max_size=2,
).map(dict)  # fmt: skip
_VALID_BODY = {**_VALID, "send_at": LATER.isoformat()}


@PROPERTY
@given(body=st.one_of(_JSON, *[_BODY_CHANGES.map(lambda changes: {**_VALID_BODY, **changes})] * 3))
def test_any_json_body_is_answered_2xx_or_4xx_never_5xx(api: TestClient, body: Any) -> None:
    deps = api.app.state.deps_factory()  # type: ignore[attr-defined]
    before = _rows(deps)
    answer = api.post("/campaigns", content=json.dumps(body).encode(), headers=AUTH)
    assert answer.status_code < 500, answer.text
    event(str(answer.status_code))
    if answer.status_code >= 400:
        assert _rows(deps) == before
