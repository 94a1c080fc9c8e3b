"""Baseline strategies for iterated 2x2 games, one table of them, and ``make_strategy``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from matrix_games.actions import C, D
from matrix_games.rounds import History
from matrix_games.strategies.base import Strategy


class AlwaysCooperate(Strategy):
    """Always play C (Axelrod's ``Cooperator``)."""

    name = "always_cooperate"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return C


class AlwaysDefect(Strategy):
    """Always play D (Axelrod's ``Defector``)."""

    name = "always_defect"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return D


class TitForTat(Strategy):
    """Cooperate first, then copy the opponent's previous move (Rapoport; Axelrod 1980)."""

    name = "tit_for_tat"

    def act(self, history: History, rng: np.random.Generator) -> int:
        return history.opponent_actions[-1] if history else C


STRATEGIES: Mapping[str, type[Strategy]] = MappingProxyType(
    {cls.name: cls for cls in (AlwaysCooperate, AlwaysDefect, TitForTat)}
)


def make_strategy(name: str | Strategy, **kwargs: Any) -> Strategy:
    """Build the strategy called ``name`` (or return a Strategy instance unchanged)."""
    if isinstance(name, Strategy):
        return name
    if name not in STRATEGIES:
        close = difflib.get_close_matches(str(name), list(STRATEGIES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown strategy {name!r}.{hint} Known strategies: {sorted(STRATEGIES)}.")
    return STRATEGIES[name](**kwargs)


__all__ = ["STRATEGIES", "Strategy", "make_strategy"]
