"""Problems counted by kind while a file streams: the first ones kept, every one counted.

A million-row file with one bad number in ten must not hold 100,000 problems, yet the operator
should read how many rows each reason covers; the tally keeps ``limit`` problems and, per kind
(field and message), a count and the first examples.
"""

from __future__ import annotations

from dispatcher.errors import EXAMPLES_PER_GROUP, Problem, ProblemGroup


class ProblemTally:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: list[Problem] = []
        self._counts: dict[tuple[str, str], int] = {}
        self._examples: dict[tuple[str, str], list[Problem]] = {}

    def add(self, problem: Problem) -> None:
        if len(self.kept) < self.limit:
            self.kept.append(problem)
        key = (problem.field, problem.message)
        self._counts[key] = self._counts.get(key, 0) + 1
        examples = self._examples.setdefault(key, [])
        if len(examples) < EXAMPLES_PER_GROUP:
            examples.append(problem)

    def groups(self) -> list[ProblemGroup]:
        """Each kind in order of first appearance."""
        return [
            ProblemGroup(field, message, self._counts[(field, message)], tuple(examples))
            for (field, message), examples in self._examples.items()
        ]
