"""Fault rules: which requests misbehave, and how.

Rules come from the start config or the admin API. For each request the first rule (in
creation order) whose provider, endpoint and match conditions fit, that still has ``times``
left and whose probability draw succeeds, supplies the :class:`FaultAction`; the emulator
then applies it (see :mod:`dispatcher.sandbox.injection`). Probability draws use one seeded
generator per rule, so the same rules added in the same order to a fresh sandbox fire on the
same requests, which keeps fault tests reproducible.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACTION_TYPES = frozenset(
    {
        "code",
        "http_status",
        "accept_then_timeout",
        "accept_then_drop",
        "accept_then_status",
        "latency",
        "garbage",
    }
)
MATCH_KEYS = frozenset({"text_contains", "numero_contains", "ref_client_contains", "token"})

#: The request fields a rule can match on; a field a request does not carry is ``None``.
Fields = Mapping[str, str | None]


class FaultRuleError(ValueError):
    """A fault rule document is invalid."""


@dataclass(frozen=True)
class FaultAction:
    """What to do instead of (or around) the normal processing."""

    type: str
    code: str | None = None
    status: int | None = None
    body: str | None = None
    delay: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Only the keys meaningful for the type, as given to the admin API."""
        data: dict[str, Any] = {"type": self.type}
        if self.type == "code":
            data["code"] = self.code
        if self.type in ("http_status", "garbage", "accept_then_status"):
            data["status"] = self.status
            data["body"] = self.body
        if self.type in ("latency", "accept_then_timeout"):
            data["delay"] = self.delay
        return data


@dataclass
class FaultRule:
    """A rule plus its live counters."""

    id: str
    provider: str | None
    endpoint: str
    match: dict[str, str]
    action: FaultAction
    times: int | None
    probability: float
    seed: str
    applied: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, fields: Fields) -> bool:
        """All conditions hold: ``token`` is exact, the ``*_contains`` ones are substrings."""
        for key, wanted in self.match.items():
            if key == "token":
                if fields.get("token") != wanted:
                    return False
                continue
            value = fields.get(key.removesuffix("_contains"))
            if value is None or wanted not in value:
                return False
        return True

    @property
    def remaining(self) -> int | None:
        """How many more requests it applies to (``None``: forever)."""
        return None if self.times is None else max(0, self.times - self.applied)

    def to_json(self) -> dict[str, Any]:
        """The admin API's representation."""
        return {
            "id": self.id,
            "provider": self.provider,
            "endpoint": self.endpoint,
            "match": dict(self.match),
            "action": self.action.to_json(),
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "applied": self.applied,
            "remaining": self.remaining,
        }


class FaultInjector:
    """The live rule list. ``endpoints`` maps each provider to its endpoint names."""

    def __init__(self, endpoints: Mapping[str, frozenset[str]], seed: int = 0) -> None:
        self._endpoints = dict(endpoints)
        self._seed = seed
        self._rules: list[FaultRule] = []
        self._next = 1

    def add(self, raw: Mapping[str, Any]) -> FaultRule:
        """Validate and append a rule; raises :class:`FaultRuleError`."""
        rule_id = f"f{self._next}"
        rule = _parse_rule(raw, rule_id, self._endpoints, f"{self._seed}:{rule_id}")
        self._next += 1
        self._rules.append(rule)
        return rule

    def rules(self) -> list[FaultRule]:
        """All rules, in matching order (exhausted ones included, with remaining 0)."""
        return list(self._rules)

    def remove(self, rule_id: str) -> bool:
        """Remove one rule; False when no rule has that id."""
        kept = [r for r in self._rules if r.id != rule_id]
        removed = len(kept) != len(self._rules)
        self._rules = kept
        return removed

    def clear(self) -> int:
        """Remove every rule; returns how many there were."""
        count = len(self._rules)
        self._rules = []
        return count

    def pick(
        self, provider: str, endpoint: str, fields: Callable[[], Fields]
    ) -> FaultAction | None:
        """The action for this request, consuming one of the rule's ``times``; or None.

        ``fields`` is only called when a candidate rule has match conditions, so requests
        pay nothing for decoding when no such rule exists.
        """
        cached: Fields | None = None
        for rule in self._rules:
            if rule.endpoint != endpoint or rule.provider not in (None, provider):
                continue
            if rule.remaining == 0:
                continue
            if rule.match:
                cached = fields() if cached is None else cached
                if not rule.matches(cached):
                    continue
            if rule.probability < 1.0 and rule.rng.random() >= rule.probability:
                continue
            rule.applied += 1
            return rule.action
        return None


def _parse_action(raw: Any) -> FaultAction:
    if not isinstance(raw, Mapping) or raw.get("type") not in ACTION_TYPES:
        raise FaultRuleError(f"action must be an object with type in {sorted(ACTION_TYPES)}")
    kind = str(raw["type"])
    if kind == "code":
        code = raw.get("code")
        if (
            isinstance(code, bool)
            or not isinstance(code, str | int)
            or not re.fullmatch(r"-?\d+", str(code))
        ):
            raise FaultRuleError('a "code" action needs a numeric "code", e.g. "50"')
        return FaultAction(kind, code=str(code))
    if kind in ("http_status", "garbage", "accept_then_status"):
        default = {"http_status": 503, "garbage": 200, "accept_then_status": 500}[kind]
        status = raw.get("status", default)
        body = raw.get("body", "<html>not an API answer</html>" if kind == "garbage" else "")
        if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
            raise FaultRuleError('"status" must be an HTTP status between 200 and 599')
        if not isinstance(body, str):
            raise FaultRuleError('"body" must be a string')
        return FaultAction(kind, status=status, body=body)
    if kind in ("latency", "accept_then_timeout"):
        delay = raw.get("delay", 30.0 if kind == "accept_then_timeout" else None)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise FaultRuleError(f'a "{kind}" action needs a "delay" >= 0 in seconds')
        return FaultAction(kind, delay=float(delay))
    return FaultAction(kind)


def _parse_rule(
    raw: Mapping[str, Any], rule_id: str, endpoints: Mapping[str, frozenset[str]], seed: str
) -> FaultRule:
    if not isinstance(raw, Mapping):
        raise FaultRuleError("a fault rule must be a JSON object")
    unknown = set(raw) - {"provider", "endpoint", "match", "action", "times", "probability", "seed"}
    if unknown:
        raise FaultRuleError(f"unknown key(s): {', '.join(sorted(unknown))}")
    provider = raw.get("provider")
    if provider is not None and provider not in endpoints:
        raise FaultRuleError(f"provider must be one of {sorted(endpoints)} (or absent: any)")
    every = frozenset().union(*endpoints.values())
    allowed = every if provider is None else endpoints[provider]
    endpoint = raw.get("endpoint")
    if endpoint not in allowed:
        raise FaultRuleError(f"endpoint must be one of {sorted(allowed)}")
    match = raw.get("match") or {}
    if not isinstance(match, Mapping) or not set(match) <= MATCH_KEYS:
        raise FaultRuleError(f"match keys must be among {sorted(MATCH_KEYS)}")
    if not all(isinstance(v, str) for v in match.values()):
        raise FaultRuleError("match values must be strings")
    times = raw.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
        raise FaultRuleError('"times" must be null (forever) or an integer >= 0')
    probability = raw.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, int | float):
        raise FaultRuleError('"probability" must be a number between 0 and 1')
    if not 0.0 <= probability <= 1.0:
        raise FaultRuleError('"probability" must be a number between 0 and 1')
    rule_seed = str(raw["seed"]) if raw.get("seed") is not None else seed
    return FaultRule(
        id=rule_id,
        provider=provider,
        endpoint=str(endpoint),
        match={str(k): str(v) for k, v in match.items()},
        action=_parse_action(raw.get("action")),
        times=times,
        probability=float(probability),
        seed=rule_seed,
        rng=random.Random(rule_seed),
    )
