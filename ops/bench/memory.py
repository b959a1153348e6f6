"""Peak resident memory of the processes a benchmark started, their children included.

Linux keeps each process's high-water mark (VmHWM in /proc/<pid>/status); sampling it every
half second catches children that come and go (Celery's pool processes).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import psutil


def high_water_mark_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakMemory:
    """Largest single process of each named process tree, in MB."""

    def __init__(self, roots: Mapping[str, int], interval: float = 0.5) -> None:
        self.roots = dict(roots)
        self.peaks: dict[str, float] = dict.fromkeys(roots, 0.0)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> None:
        for name, pid in self.roots.items():
            try:
                tree = [pid] + [child.pid for child in psutil.Process(pid).children(recursive=True)]
            except psutil.Error:
                continue
            largest = max(high_water_mark_mb(p) for p in tree)
            self.peaks[name] = max(self.peaks[name], largest)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()
