"""Statistics across runs and episodes: means with 95% intervals, and moving averages."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def mean_and_ci95(values: Iterable[float]) -> tuple[float, float]:
    """The mean across runs and the half-width of its 95% interval, ``1.96 * sd(ddof=1) / sqrt(n)`` (the paper's).

    The half-width is NaN for a single run (no spread to estimate).

    Example:
        >>> mean, half_width = mean_and_ci95([1.0, 2.0, 3.0])
        >>> round(mean, 3), round(half_width, 3)
        (2.0, 1.132)
    """
    array = np.asarray(list(values), dtype=float)
    if array.size == 0:
        raise ValueError("mean_and_ci95 needs at least one value; got none.")
    if array.size == 1:
        return float(array[0]), math.nan
    return float(array.mean()), float(1.96 * array.std(ddof=1) / math.sqrt(array.size))


def default_window(episodes: int) -> int:
    """The moving-average window of per-episode plots: about 1/25 of the run, at least 1 episode."""
    return max(1, round(episodes / 25))


def smooth(shares: np.ndarray, window: int) -> np.ndarray:
    """A centred moving average over the rows (episodes) of ``shares``; NaN rows are skipped, rows still sum to 1."""
    if window <= 1:
        return shares
    smoothed = np.full_like(shares, np.nan)
    half = window // 2
    for row in range(len(shares)):
        block = shares[max(0, row - half) : row + half + 1]
        block = block[~np.isnan(block).any(axis=1)]
        if len(block):
            smoothed[row] = block.mean(axis=0)
    return smoothed
