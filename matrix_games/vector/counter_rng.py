"""Per-game random numbers for the vectorised engine: a counter-based generator (SplitMix64 finalizer).

Why not numpy's ``Generator``: one generator for the whole batch makes game i's draws depend on the batch size and
on the other games, and one generator per game costs a Python call per game. A counter-based generator hashes (the
game's key, its draw counter, the stream, the column) into a uniform number, so every game's randomness is its own:
the same seed gives game i the same trajectory in a batch of 1 or of 65,536, in every vectorised operation at once.
SplitMix64's finalizer (Steele, Lea & Flood 2014) passes BigCrush as a counter-based generator; numpy has no
vectorised counter-based generator to call instead (its ``Philox`` is one stream per object).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STREAM = np.uint64(0xD6E8FEB86659FD93)
_COLUMN = np.uint64(0xA0761D6478BD642F)
_TO_UNIT = 2.0**-53


def mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer of uint64 ``values`` (a bijection that scrambles every bit)."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64, copy=True)
        z ^= z >> np.uint64(30)
        z *= _MIX1
        z ^= z >> np.uint64(27)
        z *= _MIX2
        z ^= z >> np.uint64(31)
    return z


def game_keys(seed: int | Sequence[int] | None, num_games: int) -> np.ndarray:
    """One uint64 key per game: from a list of per-game seeds, or from one seed s as the seeds s, s+1, ..., (as
    Gymnasium's vector envs seed their sub-envs), or from fresh entropy (None)."""
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(2))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seeds = np.arange(num_games, dtype=np.uint64) + np.uint64(int(seed) % 2**64)
    else:
        seeds = np.asarray([int(s) % 2**64 for s in seed], dtype=np.uint64)
        if seeds.shape != (num_games,):
            raise ValueError(f"reset(seed=...) got {len(seeds)} seeds for {num_games} games; give one per game.")
    with np.errstate(over="ignore"):
        return mix(seeds * _GOLDEN + _GOLDEN)


def uniform(keys: np.ndarray, counters: np.ndarray, stream: int, columns: int | None = None) -> np.ndarray:
    """Uniform numbers in [0, 1) for each game (``(B,)``, or ``(B, columns)``), from its key and draw counter."""
    with np.errstate(over="ignore"):
        base = keys ^ (counters * _GOLDEN) ^ (np.uint64(stream + 1) * _STREAM)
        if columns is not None:
            base = base[:, None] ^ (np.arange(1, columns + 1, dtype=np.uint64) * _COLUMN)
        return (mix(base) >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def bits(keys: np.ndarray, counters: np.ndarray, stream: int, columns: int) -> np.ndarray:
    """``(B, columns)`` int8 fair coin flips (0 or 1), from one hash per game (``columns`` at most 64)."""
    if not 1 <= columns <= 64:
        raise ValueError(f"bits() draws 1 to 64 columns from one hash, got {columns}.")
    with np.errstate(over="ignore"):
        hashed = mix(keys ^ (counters * _GOLDEN) ^ (np.uint64(stream + 1) * _STREAM))
    shifts = np.uint64(63) - np.arange(columns, dtype=np.uint64)
    return ((hashed[:, None] >> shifts) & np.uint64(1)).astype(np.int8)
