"""The shape of the code: layers import only downwards in both packages, no import cycle, no module past the smell
alarm, every module a docstring names exists, docs cite only docs/."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
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
"""The ``llm_agents`` layers each one may import (besides itself, ``lazy``, ``threads`` and ``matrix_games``)."""

MATRIX_GAMES_ALLOWED = {
    "compat": set(),
    "core": set(),
    "rewards": {"core"},
    "text": {"core"},
    "strategies": {"core"},
    "metrics": {"core", "rewards"},
    "envs": {"core", "rewards", "strategies", "text"},
    "play": {"core", "envs", "metrics", "rewards", "strategies"},
    "vector": {"core", "envs", "rewards", "strategies"},
}
"""The ``matrix_games`` layers each one may import (besides itself); its ``__init__`` and ``cli.py`` sit on top."""


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


@pytest.mark.parametrize("layer", sorted(MATRIX_GAMES_ALLOWED))
def test_matrix_games_layers_import_only_downwards(layer):
    for path in python_files(f"matrix_games/{layer}"):
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "matrix_games" and len(parts) > 1 and parts[1] != layer:
                assert parts[1] in MATRIX_GAMES_ALLOWED[layer], f"{path.relative_to(ROOT)} imports {module}"


def test_matrix_games_root_holds_only_the_package_face():
    """Every module of the package sits in the folder of its layer; the root keeps the public face and the CLI."""
    assert sorted(path.name for path in (ROOT / "matrix_games").glob("*.py")) == ["__init__.py", "cli.py", "compat.py"]
    assert set(MATRIX_GAMES_ALLOWED) - {"compat"} == {
        p.name for p in (ROOT / "matrix_games").iterdir() if p.is_dir()
    } - {"__pycache__"}


def module_graph() -> dict[str, set[str]]:
    """Every module of both packages and the modules of both it imports, anywhere in its body (a function-level
    import is an import too); ``from package import submodule`` counts as importing the submodule."""
    modules = {}
    for package in PACKAGES:
        for path in python_files(package):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                subs = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [sub if sub in modules else node.module for sub in subs]
            else:
                continue
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def test_no_import_cycles():
    graph = module_graph()
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycle = [*path[path.index(target) :], module, target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert len(graph) > 100  # both packages were read


MODULE_NAME = re.compile(r"(?<![\w./])([\w/.]*\w\.py)\b")


def test_every_module_a_docstring_names_exists():
    files = [p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] not in {".venv", ".git", "runs", "site"}]
    names, paths = {p.name for p in files}, {p.relative_to(ROOT).as_posix() for p in files}
    for package in PACKAGES:
        for path in python_files(package):
            for match in MODULE_NAME.finditer(path.read_text()):
                named = match.group(1)
                found = any(p.endswith(named) for p in paths) if "/" in named else named in names
                assert found, f"{path.relative_to(ROOT)} names {named}, which does not exist"


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


OLD_MATRIX_GAMES_PATHS = {
    "actions": "core.actions",
    "codec": "core.codec",
    "games": "core.games",
    "public_goods": "core.public_goods",
    "records": "core.records",
    "rounds": "core.rounds",
    "seeding": "core.seeding",
    "validation": "core.validation",
    "label_pools": "text.label_pools",
    "infos": "envs.infos",
    "observations": "envs.observations",
    "parallel_env": "envs.parallel_env",
    "registration": "envs.registration",
    "settings": "envs.settings",
    "single_agent_env": "envs.single_agent_env",
    "wrappers": "envs.wrappers",
    "markov": "play.markov",
    "matches": "play.matches",
    "tournament": "play.tournament",
    "plotting": "metrics.plotting",
}


def test_the_flat_matrix_games_paths_still_import():
    """Code written against the flat layout (``from matrix_games.games import MatrixGame``) keeps working, in a fresh
    interpreter that has imported nothing else."""
    code = (
        "import importlib, sys\n"
        f"for old, new in {OLD_MATRIX_GAMES_PATHS!r}.items():\n"
        "    module = importlib.import_module('matrix_games.' + old)\n"
        "    exec(f'from matrix_games import {old} as attribute')\n"
        "    assert module is attribute is importlib.import_module('matrix_games.' + new), (old, module)\n"
        "from matrix_games.games import MatrixGame, get_game\n"
        "from matrix_games.parallel_env import IteratedMatrixGameEnv\n"
        "assert type(get_game('prisoners_dilemma')) is MatrixGame and IteratedMatrixGameEnv().num_players == 2\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
