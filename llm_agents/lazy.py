"""Lazy exports: a package names its heavy members (torch, transformers) without importing them until first use.

``import llm_agents`` and the command-line parsers must stay light (no torch), yet ``from llm_agents import
LLMAgent`` should work. A package lists ``{name: module}`` and sets ``__getattr__ = lazy_exports(__name__, names)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[name]`` on first access of ``name``."""

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
