"""The checks of a grid file's values, each failing with a ``GridFileError`` (a ValueError) of one line that names
the field, the value, what was expected and the fix; and how a value is shown in such a line or made a folder name."""

from __future__ import annotations

import math
import re
from typing import Any

from matrix_games.core.validation import is_number


class GridFileError(ValueError):
    """A grid file that cannot run; the message is one line naming the field."""


def same(a: Any, b: Any) -> bool:
    """Whether two axis values are the same setting (``1`` and ``1.0`` are; ``nan`` is itself)."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b) or repr(a) == repr(b)
    except (TypeError, ValueError, RecursionError):
        return False


def check_number(value: Any, where: str, *, positive: bool, maximum: float, fix: str) -> float:
    """``value`` as a float: a finite number, >= 0 (> 0 when ``positive``), at most ``maximum``."""
    bad = not is_number(value) or (isinstance(value, float) and not math.isfinite(value))
    if bad or value < 0 or (positive and value == 0) or value > maximum:
        bound = "a positive number" if positive else "a number >= 0"
        raise GridFileError(f"{where} must be {bound}, got {show(value)}; {fix}, at most {maximum:g}.")
    return float(value)


def check_whole(value: Any, where: str, minimum: int, maximum: int, fix: str) -> int:
    """``value`` as an int from ``minimum`` to ``maximum`` (``2.7``, ``.inf`` and ``true`` are refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise GridFileError(f"{where} must be a whole number from {minimum} to {maximum}, got {show(value)}; {fix}.")
    return value


def show(value: Any, *, quote: bool = True, limit: int = 60) -> str:
    """``value`` for a one-line message: its repr (or text), cut to ``limit`` characters."""
    try:
        text = repr(value) if quote else str(value)
    except (ValueError, RecursionError):  # an int too long to print, a structure too deep
        text = f"<a {type(value).__name__}>"
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def slug(value: Any) -> str:
    """A value as a folder name: ``game:10,utilitarian:10`` -> ``game_10_utilitarian_10`` (no leading dot)."""
    try:
        text = str(value)
    except (ValueError, RecursionError):  # an int too long to print, a structure too deep
        text = type(value).__name__
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text).lstrip("._").rstrip("_") or "value"
