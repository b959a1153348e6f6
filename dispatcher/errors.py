"""Every error the dispatcher raises, in one tree; every class in it is defined here.

    DispatcherError
    ├── ConfigurationError          a setting is missing or wrong; names the variable to set
    │   ├── CapabilityError         the account's provider has no such endpoint; names the flag
    │   ├── BatchTooLargeError      a batch over its provider's limit, found before any request
    │   └── UnsendableBatchError    a batch the adapter's ``validate`` refuses: held, not altered
    ├── CampaignValidationError     a campaign rejected whole; ``.problems`` lists each problem
    ├── IdempotencyConflictError    a key reused for a different campaign
    ├── NotFoundError               no campaign or batch with that id
    ├── IllegalTransitionError      e.g. resuming a cancelled campaign
    ├── AudienceFormatError         (ValueError) the recipients source cannot be read at all
    ├── NumberRejected              (ValueError) a number that cannot take an SMS; ``.reason``
    ├── TemplateError               (ValueError) a text's placeholders are malformed
    ├── MissingFieldsError          (KeyError) a row cannot fill the text's placeholders
    ├── WindowError                 (ValueError) a send window malformed or never open
    ├── CallbackError               (ValueError) pushed parameters that are not a report
    ├── InboxUnavailableError       a pushed report not recorded: the provider must call again
    └── ProviderError               a provider's answer to a non-send call, by outcome
        ├── TransientProviderError  nothing was done; trying later may work
        ├── PermanentProviderError  refused; trying again will not help
        └── UnknownOutcomeError     the request may or may not have been carried out

Sending never raises ProviderError: a batch's outcome is data (``SendResult``), recorded in
PostgreSQL, because a raised exception is too easy to retry by accident. Account calls
(balance, cancel, opt-outs) raise one, built from the outcome by
:meth:`ProviderError.for_outcome` so that every adapter maps outcomes the same way.

The errors marked with a builtin base are raised by the plain-value code (``domain/``) and
keep that base for callers that catch ``ValueError`` / ``KeyError``; enqueue turns each into
a :class:`Problem` of a :class:`CampaignValidationError`, the one error a producer sees for a
bad campaign. ``CallbackError`` and ``InboxUnavailableError`` are answered by the HTTP
service (400 and 503). Exceptions with a leading underscore are control flow that never
leaves its module, and are not drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.domain.statuses import Outcome


class DispatcherError(Exception):
    """Root of every error raised by the dispatcher. ``hint``, when set, says what to do: the
    command line prints it under the message."""

    hint: str | None = None


class ConfigurationError(DispatcherError):
    """A setting is missing or invalid."""


@dataclass(frozen=True)
class Problem:
    """One reason a campaign was rejected; ``row`` is the 1-based input row at fault, if any."""

    field: str
    message: str
    row: int | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        shown = f" ({self.value!r})" if self.value is not None else ""
        return f"{where}{self.field}: {self.message}{shown}"


class CapabilityError(ConfigurationError):
    """The account's provider cannot do what was asked (it has no such endpoint).

    Callers check the adapter's capability flag first (``can_poll``, ``has_balance``...); this
    is raised only when one did not, and names the flag.
    """

    def __init__(self, provider: str, capability: str, what: str) -> None:
        self.provider = provider
        self.capability = capability
        super().__init__(f"{provider} {what} (its adapter's {capability} is False)")


class BatchTooLargeError(ConfigurationError):
    """A batch exceeds the provider's limit for its method; raised before any request."""


class UnsendableBatchError(ConfigurationError):
    """A batch breaks a rule of the adapter's ``validate``; raised before any request, so that
    the batch is held for an operator rather than sent altered (a dropped sender, a cut text).
    """

    def __init__(self, provider: str, batch_id: int, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(str(p) for p in problems)
        super().__init__(f"batch {batch_id} cannot be sent by {provider}: {listed}")


@dataclass(frozen=True)
class ProblemGroup:
    """Every problem of one kind (same field, same message): how many, and the first few, so
    that a file with 1,204 bad numbers reads as one line, not 1,204."""

    field: str
    message: str
    count: int
    examples: tuple[Problem, ...]  # the first ones, in input order

    def __str__(self) -> str:
        if self.count == 1 and self.examples:
            return str(self.examples[0])
        rows = [p.row for p in self.examples if p.row is not None]
        if not rows:
            return f"{self.field}: {self.message} ({self.count:,} times)"
        more = ", ..." if self.count > len(rows) else ""
        values = [repr(p.value) for p in self.examples if p.value is not None]
        shown = f": {', '.join(values)}{more}" if values else ""
        listed = ", ".join(str(r) for r in rows)
        return f"{self.field}: {self.message}: {self.count:,} rows (rows {listed}{more}{shown})"

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "message": self.message,
            "count": self.count,
            "rows": [p.row for p in self.examples if p.row is not None],
            "values": [p.value for p in self.examples if p.value is not None],
        }


EXAMPLES_PER_GROUP = 3


def group_problems(problems: list[Problem]) -> list[ProblemGroup]:
    """``problems`` by kind, in order of first appearance, each with its first examples."""
    found: dict[tuple[str, str], list[Problem]] = {}
    counts: dict[tuple[str, str], int] = {}
    for problem in problems:
        key = (problem.field, problem.message)
        counts[key] = counts.get(key, 0) + 1
        examples = found.setdefault(key, [])
        if len(examples) < EXAMPLES_PER_GROUP:
            examples.append(problem)
    return [ProblemGroup(f, m, counts[(f, m)], tuple(found[(f, m)])) for f, m in found]


class CampaignValidationError(DispatcherError):
    """The campaign was rejected whole; nothing was written. ``problems`` lists each problem
    kept (the first ones), ``more`` counts the others, ``groups`` counts every problem by kind
    (all rows, not only those kept) and is what the message shows."""

    def __init__(
        self, problems: list[Problem], *, more: int = 0, groups: list[ProblemGroup] | None = None
    ) -> None:
        self.problems = problems
        self.more = more
        self.groups = groups if groups is not None else group_problems(problems)
        counted = sum(g.count for g in self.groups)
        lines = [str(g) for g in self.groups]
        if more and counted < len(problems) + more:
            lines.append(f"... and {len(problems) + more - counted} more problems")
        super().__init__(
            f"campaign rejected, {max(counted, len(problems) + more):,} problem(s):\n  "
            + "\n  ".join(lines)
        )


class IdempotencyConflictError(DispatcherError):
    """The idempotency key already names a campaign with different parameters."""


class NotFoundError(DispatcherError):
    """No such campaign or batch."""


class IllegalTransitionError(DispatcherError):
    """The requested change is not allowed from the current state."""


class AudienceFormatError(DispatcherError, ValueError):
    """The source itself cannot be read (not one bad row: the whole input)."""


class NumberRejected(DispatcherError, ValueError):  # noqa: N818 - the name callers catch
    """A number that cannot take an SMS; ``reason`` says why, never quoting it: it gets logged."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TemplateError(DispatcherError, ValueError):
    """The text itself is malformed: nothing can be rendered from it."""

    def __init__(self, text: str, position: int, problem: str) -> None:
        super().__init__(text, position, problem)  # so that pickling rebuilds it
        self.position = position  # 0-based offset in the text
        self.line = text.count("\n", 0, position) + 1
        self.column = position - text.rfind("\n", 0, position)  # 1-based, within its line
        self.problem = problem
        where = f"line {self.line}, " if "\n" in text else ""
        self.message = f"{where}column {self.column}: {problem}"

    def __str__(self) -> str:
        return self.message


class MissingFieldsError(DispatcherError, KeyError):
    """A row cannot fill the template: ``missing`` (absent, None, NaN) and ``ambiguous``
    placeholders, in template order. The caller knows the row and lists it."""

    def __init__(self, missing: tuple[str, ...], ambiguous: tuple[str, ...] = ()) -> None:
        super().__init__(missing, ambiguous)
        self.missing = missing
        self.ambiguous = ambiguous

    def __str__(self) -> str:  # KeyError's would show the repr of its first argument only
        told = [("no value for ", self.missing), ("several columns match ", self.ambiguous)]
        return "; ".join(what + ", ".join(names) for what, names in told if names)


class WindowError(DispatcherError, ValueError):
    """A send window that is malformed or can never open; the message names the bad part."""


class CallbackError(DispatcherError, ValueError):
    """A callback's parameters do not form a report this provider would send."""


class InboxUnavailableError(DispatcherError):
    """The report could not be recorded; the provider should call back again."""


class ProviderError(DispatcherError):
    """A provider refused or failed a call other than sending a batch."""

    def __init__(self, provider: str, code: str | None, description: str, raw: str = "") -> None:
        self.provider = provider
        self.code = code
        self.description = description
        self.raw = raw
        super().__init__(f"{provider}: {code or '-'} {description}".strip())

    @staticmethod
    def for_outcome(
        outcome: Outcome, provider: str, code: str | None, description: str, raw: str = ""
    ) -> ProviderError:
        """The error an account call's failed ``outcome`` proves, ready to raise.

        ``ACCEPTED`` here means the answer claimed success in a form the call does not expect,
        so it is unknown like any answer not understood: never taken for a transient one.
        """
        kind = _BY_OUTCOME.get(outcome, UnknownOutcomeError)
        return kind(provider, code, description, raw)


class TransientProviderError(ProviderError):
    """Nothing was done; the same call may succeed later."""


class PermanentProviderError(ProviderError):
    """The provider refused the call; repeating it will not help."""


class UnknownOutcomeError(ProviderError):
    """The call may have been carried out: do not repeat it blindly."""


_BY_OUTCOME: dict[Outcome, type[ProviderError]] = {
    Outcome.TRANSIENT: TransientProviderError,
    Outcome.PERMANENT: PermanentProviderError,
}
