"""Checks for the values users pass in, each raising a ValueError that names the value, what was expected and the fix.

One owner for every such check, used by the games, environments, wrappers, strategies and the ``llm_agents``
configurations alike, so the same mistake gets the same message wherever it is made. Numpy scalars count as the
numbers they hold (``np.float32(0.5)`` is a probability); booleans and strings never count as numbers.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable
from typing import Any


def is_number(value: object) -> bool:
    """True for ints, floats and numpy scalars; False for bool and everything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def close_match(value: object, choices: Iterable[object]) -> str:
    """`` Did you mean 'x'?`` for the closest of ``choices`` to ``value``, or ``""``."""
    names = [str(choice) for choice in choices]
    close = difflib.get_close_matches(str(value), names, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise with the closest choice.

    Example:
        >>> check_choice("initial_state", "random", ("random", "none"))
        'random'
    """
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"Invalid {name} {value!r}.{close_match(value, choices)} Expected one of {list(choices)}.")
    return value


def check_finite(
    name: str, value: Any, *, example: str = "", minimum: float | None = None, maximum: float | None = None
) -> float:
    """Return ``value`` as a float if it is a finite number (and within ``minimum`` and ``maximum``), else raise.

    Example:
        >>> check_finite("illegal_reward", -6)
        -6.0
    """
    hint = f", e.g. {name}={example}" if example else ""
    if not is_number(value) or not _finite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}{hint}.")
    if maximum is not None and not (minimum if minimum is not None else -math.inf) <= float(value) <= maximum:
        low = f"from {minimum:g} to" if minimum is not None else "at most"
        raise ValueError(f"{name} must be a finite number {low} {maximum:g}, got {value!r}{hint}.")
    if minimum is not None and float(value) < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum:g}, got {value!r}{hint}.")
    return float(value)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int beyond float's range
        return False


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float in [0, 1], else raise.

    Example:
        >>> check_probability("noise", 0.05)
        0.05
    """
    if not is_number(value) or not 0.0 <= value <= 1.0:  # no float(): an int past float's range overflows
        raise ValueError(f"Invalid {name} {value!r}: expected a probability between 0 and 1, e.g. {name}=0.05.")
    return float(value)


def check_int(name: str, value: Any, *, minimum: int, example: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer (numpy ints too) from ``minimum`` to ``maximum``, else raise.

    Example:
        >>> check_int("num_rounds", 5, minimum=1)
        5
    """
    hint = f", e.g. {name}={example}" if example is not None else ""
    if maximum is not None and isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > maximum:
        raise ValueError(f"{name} must be an integer from {minimum} to {maximum}, got {value!r}{hint}.")
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}{hint}.")
    return int(value)
