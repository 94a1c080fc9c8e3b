"""Old import paths of moved modules keep working: ``moved_modules({old: new})`` makes ``import old`` give ``new``.

A package that moved a module registers the move in its ``__init__`` (registration is all that happens at import);
the new module is imported only when the old path is, so a light package stays light.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Mapping
from types import ModuleType


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds each old module name and loads it as the module it moved to (the same module object)."""

    def __init__(self, moved: Mapping[str, str]) -> None:
        self.moved = dict(moved)

    def find_spec(self, fullname: str, path: object = None, target: object = None):
        if fullname in self.moved:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec) -> ModuleType:
        return importlib.import_module(self.moved[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The module it moved to is already executed."""


def moved_modules(moved: Mapping[str, str]) -> None:
    """Register old module names (``{"llm_agents.ppo.controllers": "llm_agents.ppo.maths"}``)."""
    sys.meta_path.append(_MovedModules(moved))
