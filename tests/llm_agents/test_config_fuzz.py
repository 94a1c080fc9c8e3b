"""A seeded fuzzer over the bundled training configs (``configs/**/*.yaml`` but the grids): no config file reaches a
traceback. Each mutation either loads, and is then a usable config that round-trips through ``save_config`` and
``load_config``, or raises a ValueError; never another exception, and never a hang (each case is stopped after 5 s).

The mutations replace one setting (present or not, nested ones included) with a value of the wrong kind, a non-finite,
huge, negative or zero number, an empty string, deep nesting or a YAML text as ``--set`` would read it; or delete a
setting; or add an unknown one. No model is loaded: the whole test takes a few seconds.
"""

from __future__ import annotations

import math
import random
import signal
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_agents.runs.config_files import apply_overrides, parse_override, read_yaml
from llm_agents.training import TrainConfig
from llm_agents.training.config_io import config_from_dict, config_to_dict, load_config, save_config

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted(path for path in (ROOT / "configs").rglob("*.yaml") if "grids" not in path.relative_to(ROOT).parts)
MUTATIONS = 600
SECONDS_PER_CASE = 5


def _nested(depth: int, leaf: Any = 1, kind: type = dict) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value} if kind is dict else [value]
    return value


BAD_VALUES: list[Any] = [
    # strings, empty and not
    "",
    " ",
    "x",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "-1",
    "1.7",
    "true",
    "a\0b",
    "x" * 300,
    "/" + "y" * 300,
    "runs/" + "/".join(["z" * 200] * 25),
    # integers: zero, negative, huge
    0,
    -1,
    1,
    2,
    7,
    2**31,
    2**32,
    2**64,
    10**30,
    -(10**30),
    10**400,
    # floats: non-finite, huge, tiny, fractional
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    1e300,
    1e-300,
    0.0,
    -0.5,
    0.5,
    1.7,
    # other kinds
    True,
    False,
    None,
    [],
    [1, 2],
    ["a", "b"],
    ["C", "D"],
    [["C", "D"], ["X", "Y"]],
    [None],
    [[1]],
    {},
    {"a": 1},
    {"x": {"y": 1}},
    {"num_players": 3},
    {"generator": "letters", "size": -1},
    {"kindness": math.inf},
    # deep nesting
    _nested(40),
    _nested(40, kind=list),
    _nested(2000),
]

YAML_TEXTS = [
    "[1, 2",
    "{a: 1, a: 2}",
    "&a [1]",
    "*a",
    "? [a]\n: b",
    "!!binary YQ==",
    "!!set {a, b}",
    "2024-13-01",
    "2024-01-01",
    "1e400",
    ".nan",
    "-.inf",
    "0x1F",
    "0o17",
    "~",
    "'x'",
    "9" * 5000,
    "{a: " * 100 + "1" + "}" * 100,
    "[" * 2000 + "]" * 2000,
    "!!python/object:os.system ls",
]


def _paths(data: Any, prefix: str = "") -> Iterator[str]:
    """Every dotted setting of ``data``, groups and leaves."""
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}{key}"
            yield path
            yield from _paths(value, f"{path}.")


KNOWN = sorted(set(_paths(config_to_dict(TrainConfig()))))


def _describe(value: Any) -> str:
    """A short text of ``value`` (repr recurses, and a 2000-deep value would exhaust the recursion limit)."""
    if isinstance(value, (dict, list)) and value:
        depth, inner = 0, value
        while isinstance(inner, (dict, list)) and inner:
            depth, inner = depth + 1, next(iter(inner.values())) if isinstance(inner, dict) else inner[0]
        if depth > 5:
            return f"a {type(value).__name__} nested {depth} deep"
    return repr(value)[:60]


def _delete(data: dict[str, Any], dotted: str) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)
    return data


def _mutate(rng: random.Random, base: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """One mutation of ``base``: its description and the mutated settings."""
    path = rng.choice(sorted({*_paths(base), *KNOWN}))
    kind = rng.random()
    if kind < 0.6:
        value = rng.choice(BAD_VALUES)
        return f"{path} = {_describe(value)}", apply_overrides(base, {path: value})
    if kind < 0.8:
        text = rng.choice(YAML_TEXTS)
        try:
            key, value = parse_override(f"{path}={text}")
        except ValueError:  # the YAML text itself is refused, with a message: that is this case's outcome
            return f"--set {path}={text[:60]}", {"__refused__": True}
        return f"--set {path}={text[:60]}", apply_overrides(base, {key: value})
    if kind < 0.9:
        return f"delete {path}", _delete(apply_overrides(base, {}), path)
    group = path.rsplit(".", 1)[0] if "." in path else ""
    unknown = f"{group}.{rng.choice(['colour', 'seeed', 'x', ''])}".strip(".") or "colour"
    return f"unknown {unknown}", apply_overrides(base, {unknown: rng.choice(BAD_VALUES[:20])})


@contextmanager
def _deadline(seconds: int, case: str) -> Iterator[None]:
    """Fail a case that does not return (a hang guard, not a timing measurement)."""

    def stop(signum: int, frame: object) -> None:
        raise TimeoutError(f"{case} did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _check_usable(config: TrainConfig, folder: Path) -> None:
    """What the runner asks of a config works, and it round-trips through its file."""
    config.ppo_for(0)
    config.game_settings  # noqa: B018 - builds the environment's settings
    config.agent  # noqa: B018
    assert config.learners and config.num_episodes >= 1 and config.schedule
    again = load_config(save_config(config, folder / "config.yaml"))
    assert again == config


def test_bundled_train_configs_are_found():
    assert len(BUNDLED) >= 20 and all(read_yaml(path) for path in BUNDLED)


def test_no_mutated_config_reaches_a_traceback(tmp_path):
    rng = random.Random(26)
    bases = []
    for path in BUNDLED:
        data = read_yaml(path)
        data["output_dir"] = str(tmp_path / "run")  # no mutation may point a bundled run folder elsewhere
        bases.append((path.relative_to(ROOT).as_posix(), data))
    outcomes = {"loaded": 0, "refused": 0}
    for index in range(MUTATIONS):
        name, base = rng.choice(bases)
        case = f"case {index}: {name}"
        with _deadline(SECONDS_PER_CASE, case), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                description, data = _mutate(rng, base)
                case += f", {description}"
                if data == {"__refused__": True}:
                    outcomes["refused"] += 1
                    continue
                if index % 4 == 0 and _dumpable(data):  # through a file, as a user's config is read
                    file = tmp_path / "mutated.yaml"
                    file.write_text(yaml.safe_dump(data), encoding="utf-8")
                    config = load_config(file)
                else:
                    config = config_from_dict(data)
            except ValueError:
                outcomes["refused"] += 1
                continue
            except Exception as error:  # any other exception is the failure this test looks for
                pytest.fail(f"{case} raised {type(error).__name__}: {error}")
            try:
                _check_usable(config, tmp_path)
            except Exception as error:
                pytest.fail(f"{case} loaded, but the config is not usable: {type(error).__name__}: {error}")
            outcomes["loaded"] += 1
    assert sum(outcomes.values()) == MUTATIONS
    assert outcomes["loaded"] > MUTATIONS // 10 and outcomes["refused"] > MUTATIONS // 4, outcomes


def _dumpable(data: Any, depth: int = 0) -> bool:
    """True when PyYAML can write ``data`` (it recurses, and refuses some floats' text only in odd cases)."""
    if depth > 50:
        return False
    if isinstance(data, dict):
        return all(_dumpable(value, depth + 1) for value in data.values())
    if isinstance(data, (list, tuple)):
        return all(_dumpable(value, depth + 1) for value in data)
    return True
