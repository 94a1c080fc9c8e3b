"""Experiment grids: the training runs of a study as one grid file, run on Ray Tune or one after another.

``load_grid(path) -> GridSpec`` reads and checks a grid file; ``run_grid(spec)`` trains (and evaluates, and reports)
every trial not done yet. ``llm-agents grid GRID.yaml`` is the command (docs/grids.md).
"""

from __future__ import annotations

from llm_agents.lazy import lazy_exports

_LAZY = {
    "GridSpec": "llm_agents.grid.spec",
    "Trial": "llm_agents.grid.spec",
    "load_grid": "llm_agents.grid.spec",
    "run_grid": "llm_agents.grid.run",
}

__all__ = ["GridSpec", "Trial", "load_grid", "run_grid"]

__getattr__ = lazy_exports(__name__, _LAZY)
