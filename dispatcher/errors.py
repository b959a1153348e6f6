"""Every error the dispatcher raises, in one tree.

    DispatcherError
    ├── ConfigurationError          a setting is missing or wrong; names the variable to set
    ├── CampaignValidationError     a campaign rejected whole; ``.problems`` lists each problem
    ├── IdempotencyConflictError    a key reused for a different campaign
    ├── NotFoundError               no campaign or batch with that id
    ├── IllegalTransitionError      e.g. resuming a cancelled campaign
    └── ProviderError               a provider's answer to a non-send call, by outcome
        ├── TransientProviderError  nothing was done; trying later may work
        ├── PermanentProviderError  refused; trying again will not help
        └── UnknownOutcomeError     the request may or may not have been carried out

Sending never raises ProviderError: a batch's outcome is data (``SendResult``), recorded in
PostgreSQL, because a raised exception is too easy to retry by accident.
"""

from __future__ import annotations

from dataclasses import dataclass


class DispatcherError(Exception):
    """Root of every error raised by the dispatcher."""


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


class CampaignValidationError(DispatcherError):
    """The campaign was rejected whole; nothing was written."""

    def __init__(self, problems: list[Problem], *, more: int = 0) -> None:
        self.problems = problems
        self.more = more
        lines = [str(p) for p in problems]
        if more:
            lines.append(f"... and {more} more problems")
        super().__init__(
            f"campaign rejected, {len(problems) + more} problem(s):\n  " + "\n  ".join(lines)
        )


class IdempotencyConflictError(DispatcherError):
    """The idempotency key already names a campaign with different parameters."""


class NotFoundError(DispatcherError):
    """No such campaign or batch."""


class IllegalTransitionError(DispatcherError):
    """The requested change is not allowed from the current state."""


class ProviderError(DispatcherError):
    """A provider refused or failed a call other than sending a batch."""

    def __init__(self, provider: str, code: str | None, description: str, raw: str = "") -> None:
        self.provider = provider
        self.code = code
        self.description = description
        self.raw = raw
        super().__init__(f"{provider}: {code or '-'} {description}".strip())


class TransientProviderError(ProviderError):
    """Nothing was done; the same call may succeed later."""


class PermanentProviderError(ProviderError):
    """The provider refused the call; repeating it will not help."""


class UnknownOutcomeError(ProviderError):
    """The call may have been carried out: do not repeat it blindly."""
