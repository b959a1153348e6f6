"""enqueue on real PostgreSQL: validation before any write, idempotency, audience clean-up.

Campaigns here are scheduled far ahead so that the running workers leave them alone.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from dispatcher.errors import CampaignValidationError, ConfigurationError, IdempotencyConflictError
from dispatcher.services.campaigns import campaign_status, export_recipients
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import plain_mobiles, recipient_rows

pytestmark = pytest.mark.integration

LATER = datetime.now(UTC) + timedelta(days=30)


class RecordingPublisher:
    def __init__(self) -> None:
        self.planned: list[int] = []

    def plan(self, campaign_id: int) -> None:
        self.planned.append(campaign_id)

    def submit(self, batch_ids: object) -> None: ...

    def poll(self, batch_ids: object) -> None: ...


def _request(marker: str, recipients: object, **kw: object) -> CampaignRequest:
    base = {"account": "sandbox-smsmode", "text": f"Hi {marker}", "send_at": LATER}
    return CampaignRequest(recipients=recipients, **{**base, **kw})  # type: ignore[arg-type]


def _campaigns_with(deps: Deps, marker: str) -> int:
    with deps.db.transaction() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM campaigns WHERE text LIKE :m"), {"m": f"%{marker}%"}
            ).scalar_one()
        )


def test_the_same_idempotency_key_returns_the_same_campaign(deps: Deps, marker: str) -> None:
    numbers = plain_mobiles(10)
    first = enqueue(deps, _request(marker, numbers, idempotency_key=marker))
    second = enqueue(deps, _request(marker, iter(numbers), idempotency_key=marker))
    assert first == second
    assert _campaigns_with(deps, marker) == 1


def test_a_reused_key_with_another_list_is_a_conflict_naming_the_recipients(
    deps: Deps, marker: str
) -> None:
    enqueue(deps, _request(marker, plain_mobiles(3), idempotency_key=marker))
    with pytest.raises(IdempotencyConflictError, match="other recipients"):
        enqueue(deps, _request(marker, plain_mobiles(3), idempotency_key=marker))


def test_a_reused_key_with_another_list_writes_nothing(deps: Deps, marker: str) -> None:
    first = enqueue(deps, _request(marker, plain_mobiles(3), idempotency_key=marker))
    with pytest.raises(IdempotencyConflictError):
        enqueue(deps, _request(marker, plain_mobiles(4), idempotency_key=marker))
    with deps.db.transaction() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM recipients WHERE campaign_id = :c"), {"c": first}
        ).scalar_one()
    assert (stored, _campaigns_with(deps, marker)) == (3, 1)


def test_a_reused_key_with_the_same_rows_in_another_order_is_a_conflict(
    deps: Deps, marker: str
) -> None:
    numbers = plain_mobiles(3)
    enqueue(deps, _request(marker, numbers, idempotency_key=marker))
    with pytest.raises(IdempotencyConflictError, match="other recipients"):
        enqueue(deps, _request(marker, numbers[::-1], idempotency_key=marker))


def test_a_reused_key_with_another_text_is_a_conflict(deps: Deps, marker: str) -> None:
    enqueue(deps, _request(marker, plain_mobiles(3), idempotency_key=marker))
    with pytest.raises(IdempotencyConflictError, match=marker):
        enqueue(deps, _request(marker, plain_mobiles(3), idempotency_key=marker, text="other"))


def test_options_spelt_out_at_their_defaults_are_the_same_campaign(deps: Deps, marker: str) -> None:
    numbers = plain_mobiles(2)
    first = enqueue(deps, _request(marker, numbers, idempotency_key=marker))
    again = _request(marker, numbers, idempotency_key=marker, options={"transliterate": False})
    assert enqueue(deps, again) == first


def test_an_ill_typed_option_is_refused_naming_it_and_nothing_is_written(
    deps: Deps, marker: str
) -> None:
    with pytest.raises(CampaignValidationError, match=r"options\.allow_replies"):
        enqueue(deps, _request(marker, plain_mobiles(2), options={"allow_replies": "false"}))
    assert _campaigns_with(deps, marker) == 0


def test_concurrent_calls_with_one_key_make_one_campaign(deps: Deps, marker: str) -> None:
    numbers = plain_mobiles(3000)
    with ThreadPoolExecutor(4) as pool:
        ids = set(
            pool.map(
                lambda _: enqueue(deps, _request(marker, numbers, idempotency_key=marker)), range(4)
            )
        )
    assert len(ids) == 1
    assert _campaigns_with(deps, marker) == 1


def test_invalid_numbers_reject_the_campaign_naming_each_row_and_write_nothing(
    deps: Deps, marker: str
) -> None:
    numbers = [*plain_mobiles(5), "not a number", "01 23 45 67 89", "+33 6 12"]
    with pytest.raises(CampaignValidationError) as raised:
        enqueue(deps, _request(marker, numbers))
    assert [p.row for p in raised.value.problems] == [6, 7, 8]
    assert "01 23 45 67 89" in str(raised.value)
    assert _campaigns_with(deps, marker) == 0


def test_every_problem_of_a_bad_campaign_is_reported_at_once(deps: Deps, marker: str) -> None:
    with pytest.raises(CampaignValidationError) as raised:
        enqueue(
            deps,
            _request(
                marker,
                ["0612345678"],
                sender="TOO LONG SENDER",
                send_at=datetime(2030, 1, 1),
                options={"stop": 3, "colour": "red"},
            ),
        )
    fields = {p.field for p in raised.value.problems}
    assert {"sender", "send_at", "options.stop", "options"} <= fields
    assert _campaigns_with(deps, marker) == 0


def test_an_unknown_account_is_a_configuration_error_naming_the_variables(deps: Deps) -> None:
    with pytest.raises(ConfigurationError, match="DISPATCHER_ACCOUNTS__NOPE__BASE_URL"):
        enqueue(deps, _request("x", ["0612345678"], account="nope"))


def test_dropping_invalid_numbers_keeps_the_rest_and_counts_them(deps: Deps, marker: str) -> None:
    numbers = [*plain_mobiles(4), "garbage", "0123456789"]
    campaign_id = enqueue(deps, _request(marker, numbers, invalid="drop"))
    status = campaign_status(deps, campaign_id)
    assert status.total == 4
    assert status.dropped["invalid"] == 2


def test_duplicates_and_opted_out_numbers_are_removed_and_counted(deps: Deps, marker: str) -> None:
    numbers = plain_mobiles(6)
    with deps.db.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO opt_outs (msisdn, source) VALUES (:m, 'test') ON CONFLICT DO NOTHING"
            ),
            {"m": numbers[0]},
        )
    national = "0" + numbers[1][2:]  # the same number, written the French way
    try:
        campaign_id = enqueue(deps, _request(marker, [*numbers, national, numbers[2]]))
    finally:
        with deps.db.transaction() as conn:
            conn.execute(text("DELETE FROM opt_outs WHERE msisdn = :m"), {"m": numbers[0]})
    rows = recipient_rows(deps, campaign_id)
    assert [r["msisdn"] for r in rows] == numbers[1:]
    assert dict(campaign_status(deps, campaign_id).dropped) == {
        "invalid": 0,
        "duplicates": 2,
        "opted_out": 1,
    }


def test_recipients_keep_their_input_order_in_batches_of_the_provider_size(
    deps: Deps, marker: str
) -> None:
    numbers = plain_mobiles(2500)
    campaign_id = enqueue(deps, _request(marker, (n for n in numbers)))
    rows = recipient_rows(deps, campaign_id)
    assert [r["msisdn"] for r in rows] == numbers
    assert [r["batch_seq"] for r in rows] == [i // 1000 for i in range(2500)]


def test_a_csv_file_with_fields_is_read_and_its_fields_kept(
    deps: Deps, marker: str, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("first_name;mobile\nAna;06 11 22 33 44\nBo;07 81 22 33 44\n")
    campaign_id = enqueue(deps, _request(marker, path))
    rows = recipient_rows(deps, campaign_id)
    assert [(r["msisdn"], r["fields"]) for r in rows] == [
        ("33611223344", {"first_name": "Ana"}),
        ("33781223344", {"first_name": "Bo"}),
    ]


def test_a_campaign_due_now_wakes_the_planner_after_commit(deps: Deps, marker: str) -> None:
    recorder = RecordingPublisher()
    campaign_id = enqueue(
        replace(deps, publisher=recorder), _request(marker, plain_mobiles(2), send_at=LATER)
    )
    assert recorder.planned == []
    later_id = enqueue(
        replace(deps, publisher=recorder), _request(marker + "now", plain_mobiles(2), send_at=None)
    )
    assert recorder.planned == [later_id]
    assert campaign_id != later_id


def test_export_writes_every_recipient_as_csv(deps: Deps, marker: str) -> None:
    numbers = plain_mobiles(3)
    campaign_id = enqueue(deps, _request(marker, numbers))
    out = io.BytesIO()
    export_recipients(deps, campaign_id, out)
    lines = out.getvalue().decode().splitlines()
    assert lines[0].startswith("row_no,msisdn,status,provider_code")
    assert [line.split(",")[1] for line in lines[1:]] == numbers
