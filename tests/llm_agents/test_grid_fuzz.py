"""The grid loader against mutated bundled grid files: whatever a grid file holds, ``load_grid`` either loads it or
raises a ValueError naming the problem (which the command line prints as one line, exit 2), never another exception
(a traceback), and never hangs.

The mutations are a fixed list drawn from ``random.Random(SEED)``: a field (top-level, in ``resources``,
``evaluate``, ``report``, an axis, an axis value, the inline base) set to a value of the wrong type, NaN or infinity,
a huge or negative number, deep nesting, an unknown key or an empty value; a field removed; a file nested too deeply
for the YAML reader. Each bundled grid is first cut to two values per axis, so that a load is quick; nothing trains.
"""

from __future__ import annotations

import copy
import random
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_agents.grid import load_grid
from llm_agents.runs.config_files import read_yaml

ROOT = Path(__file__).resolve().parents[2]
GRIDS = sorted((ROOT / "configs" / "grids").glob("*.yaml"))
SEED = 20_260_526
MUTATIONS = 120
WATCHDOG_S = 5  # a hang guard: one load takes well under a second


def nested(depth: int, leaf: Any = 1, kind: type = list) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value] if kind is list else {"k": value}
    return value


WEIRD: list[Any] = [
    None,
    "",
    " ",
    "x",
    "../..",
    "a/b",
    "é" * 300,
    "x" * 5000,
    "{seed}",
    0,
    -1,
    1,
    3,
    2**63,
    10**30,
    -(10**30),
    0.5,
    2.7,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
    [],
    [None],
    [1, 1],
    ["game", "game"],
    [[1, 2], [3]],
    {},
    {"x": 1},
    {"": None},
    {1: 2},
    {"include": 5},
    nested(60),
    nested(60, kind=dict),
]


def bundled(path: Path) -> dict[str, Any]:
    """The grid file as data, its axes cut to two values each and its base made absolute (it is written elsewhere)."""
    data = read_yaml(path)
    for key, values in data["axes"].items():
        data["axes"][key] = dict(list(values.items())[:2]) if isinstance(values, dict) else values[:2]
    if isinstance(data.get("base"), str) and (path.parent / data["base"]).is_file():
        data["base"] = str((path.parent / data["base"]).resolve())
    return data


def mutate(data: dict[str, Any], rng: random.Random) -> tuple[str, dict[str, Any] | str]:
    """One mutation of ``data``: its description and the mutated data (or raw YAML text)."""
    data = copy.deepcopy(data)
    value = copy.deepcopy(rng.choice(WEIRD))
    kind = rng.randrange(8)
    if kind == 0:
        key = rng.choice(["base", "output_dir", "axes", "resources", "max_concurrent", "max_failures", "evaluate"])
        data[key] = value
        return f"{key} = {value!r:.60}", data
    if kind == 1:
        key = rng.choice([*data, "schedule", "report"])
        data.pop(key, None)
        data[rng.choice(["report", "no_such_field", "Axes"])] = value
        return f"without {key}, with a field = {value!r:.60}", data
    if kind == 2:
        resources = data.setdefault("resources", {})
        key = rng.choice(["cpus_per_trial", "gpus_per_trial", "memory"])
        resources[key] = value
        return f"resources.{key} = {value!r:.60}", data
    if kind == 3:
        evaluate = data.setdefault("evaluate", {})
        key = rng.choice([*evaluate, "exact", "episodes", "rounds", "games", "labels", "batch-size", "model", "bogus"])
        evaluate[key] = value
        return f"evaluate.{key} = {value!r:.60}", data
    if kind == 4:
        data["report"] = rng.choice([value, {"include": value}, {"include": [value]}, {"exclude": value}])
        return f"report = {data['report']!r:.60}", data
    if kind == 5:
        axis = rng.choice([*data["axes"], "reward", "seed", "illegal_reward", "ppo.learning_rate", ""])
        data["axes"][axis] = value
        return f"axes.{axis} = {value!r:.60}", data
    if kind == 6:
        axis = rng.choice(list(data["axes"]))
        values = data["axes"][axis]
        if isinstance(values, dict):
            values[rng.choice([*values, "new", "a b", "..", 7])] = value
        else:
            values[rng.randrange(len(values))] = value
        return f"a value of axes.{axis} = {value!r:.60}", data
    if kind == 7:
        base = data.get("base")
        base = read_yaml(base) if isinstance(base, str) else {}
        key = rng.choice([*base, "episodes", "reward", "model", "ppo", "model.lora.r", "threads", "nope"])
        base[key] = value
        data["base"] = base
        if "base" in data["axes"]:
            data["axes"].pop("base")  # the axis would win over the field
        return f"base.{key} = {value!r:.60}", data
    raise AssertionError(kind)


def mutations() -> list[tuple[str, dict[str, Any] | str, bool]]:
    """The fixed list: ``MUTATIONS`` drawn mutations (a fifth of them loaded with ``quick``), and two files nested too
    deeply for the YAML reader."""
    rng = random.Random(SEED)
    grids = {path.name: bundled(path) for path in GRIDS}
    out: list[tuple[str, dict[str, Any] | str, bool]] = []
    for index in range(MUTATIONS):
        name = sorted(grids)[index % len(grids)]
        description, data = mutate(grids[name], rng)
        out.append((f"{name}: {description}", data, rng.random() < 0.2))
    for depth in (100, 5000):
        out.append((f"a file nested {depth} deep", "axes: " + "[" * depth + "]" * depth + "\n", False))
    return out


class Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise Hang(f"the load took over {WATCHDOG_S} s")


def test_the_mutation_list_is_long_and_fixed():
    first, second = mutations(), mutations()
    assert len(first) >= 100
    assert [m[0] for m in first] == [m[0] for m in second]
    assert len({m[0] for m in first}) > 80  # mostly different mutations


def test_a_mutated_grid_file_loads_or_raises_a_value_error(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the bundled grids name their base configs from the repository's root
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    problems = []
    try:
        for index, (description, data, quick) in enumerate(mutations()):
            path = tmp_path / f"grid{index}.yaml"
            text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
            path.write_text(text, encoding="utf-8")
            signal.setitimer(signal.ITIMER_REAL, WATCHDOG_S)
            try:
                load_grid(path, quick=quick)
            except ValueError as error:
                message = str(error)
                if "\n" in message or not message.strip():
                    problems.append(f"{description}: the message is not one line: {message!r}")
            except Exception as error:  # anything else would be a traceback
                problems.append(f"{description} (quick={quick}): {type(error).__name__}: {error}"[:300])
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2.7, "2", True, -1, 10**30])
def test_max_concurrent_takes_only_whole_numbers(tmp_path, value):
    data = bundled(GRIDS[0])
    data["max_concurrent"] = value
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"max_concurrent must be a whole number from 1 to 10000, got"):
        load_grid(path)
