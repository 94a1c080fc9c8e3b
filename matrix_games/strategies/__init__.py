"""Baseline strategies for iterated games: one table of them, and ``make_strategy``.

Families live in their own modules (``simple``: unconditional, random, periodic; ``reactive``: the tit-for-tat
family, grim trigger, win-stay-lose-shift; ``group``: strategies that read every other player's move, for the
n-player public goods game; ``table``: a policy given as move probabilities per state, such as an analysed LLM).
Every strategy plays games of any number of players (``group`` says how). Any Axelrod
library strategy is available as ``"axelrod:<name>"`` when the ``axelrod`` extra is installed (``axelrod_adapter``,
imported only when used).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from matrix_games.strategies.base import Strategy
from matrix_games.strategies.group import ConditionalCooperator, GroupGrimTrigger
from matrix_games.strategies.reactive import (
    GenerousTitForTat,
    GrimTrigger,
    SuspiciousTitForTat,
    TitForTat,
    TitForTwoTats,
    TwoTitsForTat,
    WinStayLoseShift,
    generosity_for_payoffs,
)
from matrix_games.strategies.simple import Alternator, AlwaysCooperate, AlwaysDefect, RandomStrategy
from matrix_games.strategies.table import TabledStrategy

STRATEGIES: Mapping[str, type[Strategy]] = MappingProxyType(
    {
        cls.name: cls
        for cls in (
            AlwaysCooperate,
            AlwaysDefect,
            RandomStrategy,
            TitForTat,
            SuspiciousTitForTat,
            TitForTwoTats,
            TwoTitsForTat,
            GenerousTitForTat,
            GrimTrigger,
            WinStayLoseShift,
            Alternator,
            ConditionalCooperator,
            GroupGrimTrigger,
        )
    }
)
"""Every built-in strategy by name."""

AXELROD_PREFIX = "axelrod:"


def make_strategy(name: str | Strategy, **kwargs: Any) -> Strategy:
    """Build the strategy called ``name`` with ``kwargs``, or return a Strategy instance unchanged.

    ``"axelrod:<Axelrod name>"`` (e.g. ``"axelrod:Tit For Tat"``) wraps an Axelrod library strategy.

    Example:
        >>> make_strategy("random", p=0.8)
        RandomStrategy(p=0.8)
    """
    if isinstance(name, Strategy):
        if kwargs:
            raise ValueError(f"make_strategy got a Strategy instance {name!r} and arguments {kwargs}; pass one.")
        return name
    if isinstance(name, str) and name.startswith(AXELROD_PREFIX):
        from matrix_games.strategies.axelrod_adapter import AxelrodStrategy

        return AxelrodStrategy(name[len(AXELROD_PREFIX) :], **kwargs)
    if not isinstance(name, str) or name not in STRATEGIES:
        close = difflib.get_close_matches(str(name), list(STRATEGIES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown strategy {name!r}.{hint} Known strategies: {sorted(STRATEGIES)}, "
            f"or '{AXELROD_PREFIX}<Axelrod strategy name>' with the axelrod extra installed."
        )
    try:
        return STRATEGIES[name](**kwargs)
    except TypeError as error:
        raise TypeError(f"Strategy {name!r} does not take the arguments {kwargs}: {error}.") from None


__all__ = [
    "STRATEGIES",
    "Alternator",
    "AlwaysCooperate",
    "AlwaysDefect",
    "ConditionalCooperator",
    "GenerousTitForTat",
    "GrimTrigger",
    "GroupGrimTrigger",
    "RandomStrategy",
    "Strategy",
    "SuspiciousTitForTat",
    "TabledStrategy",
    "TitForTat",
    "TitForTwoTats",
    "TwoTitsForTat",
    "WinStayLoseShift",
    "generosity_for_payoffs",
    "make_strategy",
]
