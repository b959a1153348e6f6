"""In-memory state shared by every provider emulator: accounts, submissions and counters.

Memory is the constraint (benchmarks accept millions of recipients): a submission keeps its
recipients as one comma-joined string instead of one object per recipient, and delivery
states are computed by :mod:`dispatcher.sandbox.timeline` rather than stored. The only
per-recipient structure is the duplicate index (one small int per distinct recipient and
text), which exists because "was this exact SMS already accepted for this number?" is the
question the product's tests ask most.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dispatcher.sandbox.config import AccountConfig, SandboxConfig

_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(slots=True)
class Account:
    """A token's balance in credits; ``postpaid`` accounts may go below zero."""

    token: str
    balance: float
    postpaid: bool = False

    def can_pay(self, cost: float) -> bool:
        """Prepaid accounts need the whole cost available before anything is accepted."""
        return self.postpaid or cost <= self.balance


@dataclass(slots=True)
class Submission:
    """One accepted request (one provider message id), whatever its recipient count."""

    provider: str
    id: str
    token: str
    method: str
    accepted_at: float
    scheduled_for: float | None
    text: str
    sender: str | None
    ref_client: str | None
    notification_url: str | None
    numbers: str
    count: int
    parts: int
    cost: float
    extra: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    #: Deleted before its send time: it never reached a phone.
    cancelled: bool = False

    @property
    def base(self) -> float:
        """When the SMS is (or was) actually sent: the timeline's origin."""
        return self.accepted_at if self.scheduled_for is None else self.scheduled_for

    def number_list(self) -> list[str]:
        """Recipients as international msisdns (the compact string, split on demand)."""
        return self.numbers.split(",")

    def has_number(self, number: str) -> bool:
        """Whether ``number`` is one of the recipients, without building a list."""
        return f",{number}," in f",{self.numbers},"

    def to_json(self) -> dict[str, Any]:
        """The admin API's representation."""
        data: dict[str, Any] = {
            "provider": self.provider,
            "id": self.id,
            "token": self.token,
            "method": self.method,
            "accepted_at": iso(self.accepted_at),
            "scheduled_for": None if self.scheduled_for is None else iso(self.scheduled_for),
            "deleted": self.deleted,
            "text": self.text,
            "sender": self.sender,
            "ref_client": self.ref_client,
            "notification_url": self.notification_url,
            "numbers": self.number_list(),
            "parts": self.parts,
            "cost": self.cost,
        }
        data.update(self.extra)
        return data


def iso(epoch: float) -> str:
    """UTC ISO-8601 timestamp with offset."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _recipient_key(number: str) -> int:
    """An int standing for a number in the duplicate index (ints are smaller than strings).

    Plain digit strings without a leading zero map to their value, which is unique; other
    strings (rare: malformed numbers) map to their 64-bit hash.
    """
    if number[:1] in _NONZERO and len(number) <= 30 and number.isascii() and number.isdigit():
        return int(number)
    return hash(number)


_NONZERO = frozenset("123456789")


def _recipient_keys(numbers: list[str]) -> Iterable[int]:
    """Keys of a whole list; the common all-digit case runs at C speed."""
    joined = ",".join(numbers)
    clean = joined.isascii() and joined.replace(",", "").isdigit() and ",0" not in f",{joined}"
    if clean and max(map(len, numbers), default=0) <= 30:
        return map(int, numbers)
    return map(_recipient_key, numbers)


class Store:
    """Accounts, submissions and counters of one sandbox instance."""

    def __init__(self, config: SandboxConfig) -> None:
        self._account_configs: tuple[AccountConfig, ...] = config.accounts
        self._declared: dict[str, AccountConfig] = {}
        self._accept_any = config.accept_any_token
        self._any_balance = config.any_token_balance
        self._rng = random.Random()
        self.accounts: dict[str, Account] = {}
        self.submissions: dict[str, Submission] = {}
        self.counters: Counter[str] = Counter()
        self._seen: dict[tuple[str, str], set[int]] = {}
        self.accepted_submissions = 0
        self.accepted_recipients = 0
        self.duplicate_recipients = 0
        self.reset()

    def reset(self) -> None:
        """Forget submissions and counters; balances back to their configured values."""
        configured = [*self._account_configs, *self._declared.values()]
        self.accounts = {a.token: Account(a.token, a.balance, a.postpaid) for a in configured}
        self.submissions.clear()
        self.counters.clear()
        self._seen.clear()
        self.accepted_submissions = 0
        self.accepted_recipients = 0
        self.duplicate_recipients = 0

    def declare_account(self, account: AccountConfig) -> Account:
        """An account an emulator defines from its own config section (its key is the
        emulator's choice, e.g. ``envoyer:LOGIN``); it survives ``reset``."""
        self._declared[account.token] = account
        found = self.accounts[account.token] = Account(
            account.token, account.balance, account.postpaid
        )
        return found

    def account(self, token: str) -> Account | None:
        """The account of a token; unknown tokens get one when ``accept_any_token`` is set."""
        found = self.accounts.get(token)
        if found is None and self._accept_any and token:
            found = self.accounts[token] = Account(token, self._any_balance)
        return found

    def count(self, key: str) -> None:
        """Increment a request counter such as ``smsmode.send``."""
        self.counters[key] += 1

    def new_id(self, length: int = 12) -> str:
        """An unused opaque alphanumeric id (sMsmode's look like ``S7EpYZ5kmS87``)."""
        while True:
            candidate = "".join(self._rng.choices(_ID_ALPHABET, k=length))
            if candidate not in self.submissions:
                return candidate

    def add(self, submission: Submission, numbers: list[str]) -> None:
        """Record an accepted submission; ``numbers`` is its recipient list, already split."""
        self.submissions[submission.id] = submission
        self.accepted_submissions += 1
        self.accepted_recipients += len(numbers)
        self.duplicate_recipients += self._index(submission, numbers)

    def _index(self, submission: Submission, numbers: list[str]) -> int:
        """Add to the duplicate index; returns how many were already there. A submission whose
        recipients have different texts (sMsmode batch) lists them in extra["texts"], in the
        order of its numbers: each recipient counts against its own text."""
        texts = submission.extra.get("texts")
        if texts is None:
            groups = {submission.text: numbers}
        else:
            groups = {}
            for number, text in zip(numbers, texts, strict=True):
                groups.setdefault(text, []).append(number)
        repeated = 0
        for text, group in groups.items():
            seen = self._seen.setdefault((submission.provider, text), set())
            before = len(seen)
            seen.update(_recipient_keys(group))
            repeated += len(group) - (len(seen) - before)
        return repeated

    def rebuild_duplicates(self) -> None:
        """Recount duplicates without cancelled submissions (they reached no phone).

        O(all recipients), acceptable for deleting a scheduled SMS, which is rare.
        """
        self._seen.clear()
        self.duplicate_recipients = 0
        for sub in self.submissions.values():
            if not sub.cancelled:
                self.duplicate_recipients += self._index(sub, sub.number_list())

    def find(self, provider: str, submission_id: str) -> Submission | None:
        """A submission of ``provider`` by id."""
        found = self.submissions.get(submission_id)
        return found if found is not None and found.provider == provider else None

    def newest_first(self, provider: str, token: str) -> Iterator[Submission]:
        """Submissions of one account, most recent first."""
        for sub in reversed(self.submissions.values()):
            if sub.provider == provider and sub.token == token:
                yield sub

    def stats(self, keys: Iterable[str]) -> dict[str, Any]:
        """The admin stats document; ``keys`` are the counters always shown, even at 0."""
        requests = dict.fromkeys(keys, 0)
        requests.update(self.counters)
        return {
            "requests": requests,
            "accepted_submissions": self.accepted_submissions,
            "accepted_recipients": self.accepted_recipients,
            "duplicate_recipients": self.duplicate_recipients,
        }
