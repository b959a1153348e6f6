"""The recipients' digest: the same rows in the same order are the same list, however given."""

from __future__ import annotations

import io

from dispatcher.domain.audience import RawRecipient
from dispatcher.domain.recipient_digest import RecipientDigest, digest_of

NUMBERS = ["0612345678", "0687654321"]


def test_a_list_and_a_csv_file_of_the_same_rows_are_the_same_list() -> None:
    assert digest_of(NUMBERS) == digest_of(io.StringIO("msisdn\n0612345678\n0687654321\n"))


def test_a_generator_and_a_list_of_the_same_rows_are_the_same_list() -> None:
    assert digest_of(n for n in NUMBERS) == digest_of(NUMBERS)


def test_the_same_rows_in_another_order_are_another_list() -> None:
    assert digest_of(NUMBERS) != digest_of(NUMBERS[::-1])


def test_one_more_row_is_another_list() -> None:
    assert digest_of(NUMBERS) != digest_of([*NUMBERS, "0600000000"])


def test_rows_cannot_run_into_each_other() -> None:
    assert digest_of(["0612", "345678"]) != digest_of(["061234", "5678"])


def test_the_order_of_a_rows_fields_does_not_count() -> None:
    first = [{"msisdn": "0612345678", "name": "Ann", "town": "Lyon"}]
    second = [{"town": "Lyon", "msisdn": "0612345678", "name": "Ann"}]
    assert digest_of(first) == digest_of(second)


def test_another_field_value_is_another_list() -> None:
    assert digest_of([{"msisdn": "0612345678", "name": "Ann"}]) != digest_of(
        [{"msisdn": "0612345678", "name": "Bob"}]
    )


def test_a_value_json_cannot_hold_is_hashed_not_raised() -> None:
    """Validation, not the digest, tells the producer what is wrong with such a row."""
    cyclic: list[object] = []
    cyclic.append(cyclic)
    digest = RecipientDigest()
    for fields in ({"a": {1: "x", "b": "y"}}, {"a": cyclic}, {"a": "\udc9f"}):
        digest.add(RawRecipient(1, "0612345678", fields))
    assert len(digest.hexdigest()) == 64
