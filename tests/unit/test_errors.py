"""The error tree drawn in dispatcher/errors.py is complete and true, and every adapter turns a
failed account call's outcome into the same error."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import dispatcher
from dispatcher import errors
from dispatcher.domain.statuses import Outcome
from dispatcher.errors import (
    DispatcherError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnknownOutcomeError,
)

# The sandbox is a separate program (it stands for the providers); its errors are its own.
SEPARATE = "dispatcher.sandbox"
_DRAWN = re.compile(r"^(?P<indent>[ │]*)[├└]── (?P<name>\w+)", re.MULTILINE)


def _public_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined at the top of a dispatcher module, by qualified name."""
    found: dict[str, type[BaseException]] = {}
    for module_info in pkgutil.walk_packages(dispatcher.__path__, "dispatcher."):
        if module_info.name == SEPARATE or module_info.name.startswith(SEPARATE + "."):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[f"{module.__name__}.{name}"] = value
    return found


def _drawn_parents() -> dict[str, str]:
    """Each class drawn in errors.py's docstring, with the class drawn as its parent."""
    doc = errors.__doc__ or ""
    parents: dict[str, str] = {}
    stack = ["DispatcherError"]
    matches = list(_DRAWN.finditer(doc))
    margin = len(matches[0]["indent"]) if matches else 0  # the docstring's own indentation
    for match in matches:
        depth = (len(match["indent"]) - margin) // 4
        del stack[depth + 1 :]
        parents[match["name"]] = stack[depth]
        stack.append(match["name"])
    return parents


def test_the_walk_and_the_drawing_both_see_the_whole_tree() -> None:
    """Guards the two helpers above: a walk or a parse finding nothing would pass the rest."""
    assert len(_public_exceptions()) >= 15
    assert set(_drawn_parents()) >= {"ConfigurationError", "CallbackError", "UnknownOutcomeError"}


def test_every_public_exception_of_the_dispatcher_is_a_dispatcher_error() -> None:
    found = _public_exceptions().items()
    outside = [name for name, cls in found if not issubclass(cls, DispatcherError)]
    assert outside == []


def test_every_public_exception_is_defined_in_errors_py() -> None:
    elsewhere = [name for name in _public_exceptions() if not name.startswith("dispatcher.errors.")]
    assert elsewhere == []


def test_every_public_exception_is_drawn_in_the_tree() -> None:
    drawn = set(_drawn_parents()) | {"DispatcherError"}
    missing = [name for name in _public_exceptions() if name.rsplit(".", 1)[1] not in drawn]
    assert missing == []


def test_every_class_drawn_exists_under_the_parent_it_is_drawn_under() -> None:
    wrong = []
    for name, parent in _drawn_parents().items():
        cls = getattr(errors, name, None)
        if not (inspect.isclass(cls) and getattr(errors, parent) in cls.__bases__):
            wrong.append(f"{name} under {parent}")
    assert wrong == []


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        (Outcome.TRANSIENT, TransientProviderError),
        (Outcome.PERMANENT, PermanentProviderError),
        (Outcome.UNKNOWN, UnknownOutcomeError),
        # An account call's failure path never gets a success; one that does is not understood.
        (Outcome.ACCEPTED, UnknownOutcomeError),
    ],
)
def test_an_outcome_gives_its_provider_error(outcome: Outcome, kind: type[ProviderError]) -> None:
    error = ProviderError.for_outcome(outcome, "smsmode", "31", "Internal error", "31 | x")
    assert type(error) is kind
    assert (error.provider, error.code, error.description, error.raw) == (
        "smsmode",
        "31",
        "Internal error",
        "31 | x",
    )
