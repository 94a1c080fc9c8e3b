"""Independent, reproducible random streams derived from one seed (numpy's SeedSequence)."""

from __future__ import annotations

import numpy as np


def spawn_rngs(seed: int | None, *names: str) -> dict[str, np.random.Generator]:
    """One independent generator per named consumer, reproducible from ``seed`` (None draws fresh entropy).

    Example:
        >>> rngs = spawn_rngs(0, "opponent", "prompt")
        >>> sorted(rngs)
        ['opponent', 'prompt']
    """
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children, strict=True)}
