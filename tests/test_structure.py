"""The shape of the code: layers import only downwards, no module past the smell alarm, docs cite only docs/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("matrix_games", "llm_agents")

ALLOWED = {
    "runs": set(),
    "sequences": set(),
    "agent": {"runs", "sequences"},
    "analysis": {"agent", "sequences"},
    "policy_update": {"sequences"},
    "ppo": {"policy_update", "sequences"},
    "grpo": {"policy_update", "sequences"},
    "training": {"agent", "analysis", "policy_update", "ppo", "grpo", "runs", "sequences"},
    "evaluation": {"agent", "analysis", "runs", "training", "sequences"},
    "reporting": {"evaluation", "runs", "training"},
    "grid": {"agent", "evaluation", "reporting", "runs", "training"},
    "integrations": {"agent"},
}
"""The ``llm_agents`` layers each one may import (besides itself, ``lazy`` and ``matrix_games``)."""


def python_files(package: str) -> list[Path]:
    """The modules of a package folder, or the one module ``package.py`` (a layer of one file)."""
    if (ROOT / f"{package}.py").is_file():
        return [ROOT / f"{package}.py"]
    return sorted((ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_llm_agents_layers_import_only_downwards(layer):
    for path in python_files(f"llm_agents/{layer}"):
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "llm_agents" and len(parts) > 1 and parts[1] in ALLOWED and parts[1] != layer:
                assert parts[1] in ALLOWED[layer], f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("layer", ["evaluation", "reporting", "grid", "analysis"])
def test_the_layers_above_training_use_only_its_public_api(layer):
    for path in python_files(f"llm_agents/{layer}"):
        for module in imported_modules(path):
            assert not module.startswith("llm_agents.training."), f"{path.relative_to(ROOT)} imports {module}"


def test_the_grid_drives_no_other_command_line():
    for path in python_files("llm_agents/grid"):
        for module in imported_modules(path):
            assert not module.endswith(".cli") or module == "llm_agents.grid.cli", f"{path} imports {module}"
            assert module != "llm_agents.agent.options" or path.name == "cli.py", f"{path} imports {module}"


def test_matrix_games_imports_nothing_of_llm_agents():
    for path in python_files("matrix_games"):
        assert not any(m.startswith("llm_agents") for m in imported_modules(path)), path


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_grows_past_the_smell_alarm(package):
    """One concept per file, whatever its length; a module past 600 lines is worth a second look."""
    for path in python_files(package):
        assert len(path.read_text().splitlines()) <= 600, f"{path.relative_to(ROOT)} has over 600 lines"


OUTSIDE = re.compile(r"shared/design|stack\.md|cpu_budget\.md|paper\.md §|\.\./shared")


def test_nothing_cites_a_file_outside_the_repository():
    files = [p for package in PACKAGES for p in python_files(package)] + sorted((ROOT / "docs").glob("*.md"))
    for path in [*files, ROOT / "README.md"]:
        match = OUTSIDE.search(path.read_text())
        assert match is None, f"{path.relative_to(ROOT)} cites {match.group(0)!r}"


def test_no_backend_is_chosen_inside_the_packages():
    for package in PACKAGES:
        for path in python_files(package):
            assert "matplotlib.use(" not in path.read_text(), path


def test_every_docs_page_is_in_the_site_navigation():
    navigation = (ROOT / "mkdocs.yml").read_text()
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f" {page.name}" in navigation, f"docs/{page.name} is not in mkdocs.yml's nav"
