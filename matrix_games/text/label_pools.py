"""Label pools: many (C, D) label pairs, one drawn per game, so a player must read the labels from the prompt.

Trained on one pair, an LLM memorises it: asked with unseen labels it keeps answering with the old ones. Trained on a
pool, every game names its actions with another pair, and the only way to answer legally is to read them. A pool is
either an explicit list of pairs or a named generator that makes ``size`` pairs from a seed:

- ``letters``: single capital letters (``("K", "B")``), at most 13 pairs;
- ``words``: short common English words (``("river", "stone")``), at most 24 pairs;
- ``numbered``: the paper's style, ``action<n>`` for n in 1-99 (``("action17", "action52")``), at most 48 pairs.

Each label belongs to one pair only (a label in two pairs would be ambiguous, and would make the pool's pairs
overlapping tests of the same thing), and no pair appears twice. A generator never uses the ``exclude`` labels (by
default the paper's test labels ``action3``/``action4``), so a model trained on a pool can be tested on labels it has
never seen; ``check_unseen`` refuses test labels that are in the pool.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from matrix_games.core.actions import TEST_LABELS, validate_labels
from matrix_games.core.validation import check_choice, check_int

_WORDS = (
    "apple", "bird", "cloud", "door", "eagle", "field", "grape", "house", "iron", "jazz", "kite", "lamp",
    "moon", "nest", "ocean", "piano", "queen", "river", "stone", "tiger", "umbrella", "violet", "water", "yellow",
    "zebra", "bread", "chair", "dream", "flame", "glass", "horse", "island", "jungle", "lemon", "mango", "night",
    "orange", "pencil", "rabbit", "silver", "table", "velvet", "window", "garden", "forest", "candle", "button",
    "copper",
)  # fmt: skip

LABEL_STREAM = 0x1ABE1
"""The spawn key that separates a game's label draw from its environment's stream of the same seed."""

FAMILIES: Mapping[str, tuple[str, ...]] = {
    "letters": tuple(string.ascii_uppercase),
    "words": _WORDS,
    "numbered": tuple(f"action{n}" for n in range(1, 100)),
}
"""The labels each named generator draws its pairs from."""


@dataclass(frozen=True)
class LabelPool:
    """A set of (C, D) label pairs; each game of a run draws one (``draw``).

    Attributes:
        pairs: Explicit pairs, e.g. ``(("C", "D"), ("left", "right"))``; or empty with a ``generator``.
        generator: ``"letters"``, ``"words"`` or ``"numbered"``: make ``size`` pairs from ``seed``.
        size: How many pairs the generator makes (None: as many as its family allows without ``exclude``).
        seed: Seeds the generator (the pool is the same on every machine).
        exclude: Labels the generator must not use (default: the paper's test labels).

    Example:
        >>> LabelPool(generator="letters", size=2, seed=0).members
        (('T', 'E'), ('K', 'L'))
    """

    pairs: tuple[tuple[str, str], ...] = ()
    generator: str | None = None
    size: int | None = None
    seed: int = 0
    exclude: tuple[str, ...] = TEST_LABELS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if isinstance(self.pairs, str) or not isinstance(self.pairs, Sequence):
            raise ValueError(f"labels.pairs must be a list of (C, D) label pairs, got {self.pairs!r}.")
        set_(self, "pairs", tuple(validate_labels(pair) for pair in self.pairs))
        set_(self, "exclude", tuple(self.exclude))
        if (self.generator is None) == (not self.pairs):
            raise ValueError(
                "A label pool needs either pairs (e.g. [[C, D], [left, right]]) or a generator "
                f"({sorted(FAMILIES)}), not {'both' if self.pairs else 'neither'}."
            )
        if self.generator is not None:
            check_choice("labels.generator", self.generator, tuple(FAMILIES))
            if self.size is not None:
                check_int("labels.size", self.size, minimum=1, example=8)
            check_int("labels.seed", self.seed, minimum=0, example=0)
        _check_disjoint(self.members)

    @functools.cached_property
    def members(self) -> tuple[tuple[str, str], ...]:
        """The pool's pairs (the explicit ones, or the generator's)."""
        if self.generator is None:
            return self.pairs
        family = [label for label in FAMILIES[self.generator] if label not in set(self.exclude)]
        available = len(family) // 2
        size = available if self.size is None else self.size
        if size > available:
            raise ValueError(
                f"labels.size {size} is more than the {self.generator!r} generator can make: it has {len(family)} "
                f"labels outside exclude, so at most {available} pairs that share no label; use size <= {available}."
            )
        order = np.random.default_rng(self.seed).permutation(len(family))[: 2 * size]
        return tuple((family[order[2 * i]], family[order[2 * i + 1]]) for i in range(size))

    @property
    def labels(self) -> frozenset[str]:
        """Every label of the pool."""
        return frozenset(label for pair in self.members for label in pair)

    def draw(self, seed: int) -> tuple[str, str]:
        """The pair of the game reset with ``seed``: a pure function of it, from a stream of its own (the draw does
        not correlate with the environment's use of the same seed)."""
        stream = np.random.SeedSequence(int(seed), spawn_key=(LABEL_STREAM,))
        return self.members[int(np.random.default_rng(stream).integers(len(self.members)))]

    def check_unseen(self, test_labels: Sequence[str], where: str = "the training pool") -> None:
        """Raise if any test label is in the pool: a transfer test must use labels the model never trained on."""
        seen = sorted(set(test_labels) & self.labels)
        if seen:
            raise ValueError(
                f"The test labels {tuple(test_labels)} include {seen}, which {where} trained on; a test of unseen "
                "labels needs labels outside the pool: e.g. --labels action3,action4 (excluded by every generator "
                "by default)."
            )


def as_labels(spec: object) -> tuple[str, str] | LabelPool:
    """A ``labels`` setting as one pair or a ``LabelPool``: ``[C, D]``; ``[[C, D], [X, Y]]``; a generator name such
    as ``letters``; or a mapping of ``LabelPool``'s fields (``{generator: words, size: 8}``)."""
    if isinstance(spec, LabelPool):
        return spec
    if isinstance(spec, str):
        if spec not in FAMILIES:
            raise ValueError(
                f"labels {spec!r} is neither a pair of labels nor a generator: use e.g. [C, D], [[C, D], [X, Y]] "
                f"or one of {sorted(FAMILIES)}."
            )
        return LabelPool(generator=spec)
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - {"pairs", "generator", "size", "seed", "exclude"})
        if unknown:
            raise ValueError(f"Unknown label pool settings {unknown}: use pairs, generator, size, seed, exclude.")
        return LabelPool(**{key: tuple(v) if isinstance(v, list) else v for key, v in spec.items()})
    if isinstance(spec, Sequence) and spec and all(isinstance(p, Sequence) and not isinstance(p, str) for p in spec):
        return LabelPool(pairs=tuple(tuple(pair) for pair in spec))  # type: ignore[arg-type]
    return validate_labels(spec)  # type: ignore[arg-type]


def pool_of(spec: object) -> LabelPool | None:
    """The pool a ``labels`` setting names (as ``as_labels`` reads it); None for one pair or no setting.

    Example:
        >>> pool_of([["C", "D"], ["X", "Y"]]).members, pool_of(["C", "D"]), pool_of(None)
        ((('C', 'D'), ('X', 'Y')), None, None)
    """
    labels = as_labels(spec) if spec else None
    return labels if isinstance(labels, LabelPool) else None


def _check_disjoint(pairs: Sequence[tuple[str, str]]) -> None:
    first: dict[str, int] = {}
    for index, pair in enumerate(pairs):
        for label in pair:
            if label in first:
                other = pairs[first[label]]
                kind = "appears twice" if other == pair else "overlaps"
                raise ValueError(
                    f"Label pool pair {index} {pair} {kind} with pair {first[label]} {other}: each label may belong "
                    f"to one pair only (its meaning must be fixed); remove or rename {label!r} in one of them."
                )
            first[label] = index
