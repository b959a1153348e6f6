"""``dispatcher enqueue`` shows its progress only for a big file on a terminal."""

from __future__ import annotations

from pathlib import Path

from dispatcher.cli.progress import BIG_FILE_BYTES, wants_progress
from dispatcher.services.intake import PROGRESS_EVERY, _reporting


def _file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "list.csv"
    path.write_bytes(b"0" * size)
    return path


def test_a_big_file_on_a_terminal_gets_a_display(tmp_path: Path) -> None:
    assert wants_progress(_file(tmp_path, BIG_FILE_BYTES), interactive=True)


def test_a_script_gets_no_display_however_big_the_file(tmp_path: Path) -> None:
    assert not wants_progress(_file(tmp_path, BIG_FILE_BYTES * 3), interactive=False)


def test_a_small_file_gets_no_display(tmp_path: Path) -> None:
    assert not wants_progress(_file(tmp_path, 1000), interactive=True)


def test_progress_is_told_every_few_thousand_rows_and_at_the_end() -> None:
    told: list[int] = []
    rows = list(_reporting(iter(range(PROGRESS_EVERY * 2 + 7)), told.append))  # type: ignore[arg-type]
    assert len(rows) == PROGRESS_EVERY * 2 + 7
    assert told == [PROGRESS_EVERY, PROGRESS_EVERY * 2, PROGRESS_EVERY * 2 + 7]
