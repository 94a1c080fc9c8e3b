"""Wall-clock timing shared by the benchmark scripts (run as ``python benchmarks/NAME.py``, so this imports as
``timing``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def repeat_seconds(function: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``function``, after one untimed warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    """The median of ``repeat_seconds``."""
    return statistics.median(repeat_seconds(function, repeats))
