"""A live count of the rows ``enqueue`` has read, on stderr, for files big enough to wait for.

Shown only when stderr is a terminal: a script capturing stderr gets nothing but errors.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

# About 50,000 rows of a bare number (12 bytes a row): below it, enqueue is over in a second.
BIG_FILE_BYTES = 600_000


def wants_progress(path: Path, *, interactive: bool | None = None) -> bool:
    """A display for ``path``: only a big file, only on a terminal."""
    if interactive is None:
        interactive = sys.stderr.isatty()
    return interactive and path.stat().st_size >= BIG_FILE_BYTES


@contextmanager
def rows_progress(path: Path) -> Iterator[Callable[[int], None]]:
    """A callback taking the rows read so far (the service reads the file, not this)."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(finished_text="done"),
        TextColumn("reading {task.description}"),
        TextColumn("{task.fields[rows]:>12,} rows  {task.fields[rate]:>9,.0f} rows/s"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(path.name, total=None, rows=0, rate=0.0)

        def told(rows: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = rows / elapsed if elapsed > 0 else 0.0
            bar.update(task, rows=rows, rate=rate)

        yield told
        bar.update(task, total=1, completed=1)  # the spinner shows "done"
