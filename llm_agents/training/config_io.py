"""``TrainConfig`` to and from plain data and YAML files, with dotted overrides (``ppo.learning_rate=1e-4``).

Nested configs are nested mappings. Unknown keys are errors that name the closest known key, so a typo in a config
file never passes silently. Numbers written as strings (PyYAML reads ``1e-4`` as a string) are accepted where a
number is expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from llm_agents.runs.config_files import apply_overrides, check_depth, deep_copy, read_yaml
from llm_agents.training.config import TrainConfig


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as plain data (dicts, lists, str, numbers, bools, None) ready for YAML or JSON."""
    return _plain(config)


def config_from_dict(data: Mapping[str, Any], cls: type = TrainConfig, *, warn: bool = True) -> Any:
    """Build ``cls`` (a config dataclass) from nested plain data; unknown keys raise a ValueError with a hint.

    A ``TrainConfig``'s settings that moved or were renamed (``MOVED_SETTINGS``) are read where they were, with a
    warning that names their new place (``warn=False`` for a run folder's own ``config.yaml``, written by an older
    version: it is read as it is, silently).
    """
    check_depth(data, "")  # before anything recursive walks it
    if cls is TrainConfig and isinstance(data, Mapping):
        data = migrate_settings(data, warn=warn)
    return _build(cls, data, where="")


MOVED_SETTINGS: dict[str, str | None] = {
    "deontological_penalty": "reward_parameters.deontological_penalty",
    "generation.batching": "batching",
    "ppo.batching": "batching",
    "grpo.epochs": "grpo.num_iterations",
    "grpo.seed": None,
}
"""Old setting -> where it lives now (None: gone, it had no effect). The run has one home per setting."""


def migrate_settings(data: Mapping[str, Any], *, warn: bool = True) -> dict[str, Any]:
    """``data`` with every ``MOVED_SETTINGS`` key moved to its new place (the new place wins if both are given)."""
    result = deep_copy(data)
    for old, new in MOVED_SETTINGS.items():
        *parents, leaf = old.split(".")
        node = result
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node:
            continue
        value = node.pop(leaf)
        if new is not None and not _has(result, new) and not (new == "batching" and value == "tree"):
            result = apply_overrides(result, {new: value})
        if warn:
            where = f"now {new}" if new is not None else "it had no effect and is ignored"
            warnings.warn(f"The setting {old} is deprecated: {where}.", FutureWarning, stacklevel=3)
    return result


def _has(data: Mapping[str, Any], dotted: str) -> bool:
    node: Any = data
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config file, apply dotted ``overrides`` (``{"ppo.learning_rate": 1e-4}``), build the config."""
    return config_from_dict(apply_overrides(read_yaml(path), overrides or {}))


def save_config(config: TrainConfig, path: str | Path) -> Path:
    """Write the config as YAML (the fields in declaration order), atomically: a crash leaves the old or the new."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False), encoding="utf-8")
    partial.replace(path)
    return path


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ValueError(f"{where or 'The config'} must be a mapping of settings, got {data!r}.")
    hints, names = _fields(cls)
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" Did you mean {where + close[0]!r}?" if close else ""
            raise ValueError(f"Unknown setting {where + str(key)!r}.{hint} Known settings here: {names}.")
        kwargs[key] = _convert(hints[key], value, f"{where}{key}.")
    return cls(**kwargs)


@functools.cache
def _fields(cls: type) -> tuple[dict[str, Any], list[str]]:
    """A config class's type hints and the names its constructor takes (resolving the hints is slow: once each)."""
    return typing.get_type_hints(cls), [f.name for f in dataclasses.fields(cls) if f.init]


def _convert(hint: Any, value: Any, where: str) -> Any:
    """Turn plain data into what the field's type hint wants: nested configs, tuples, numbers from strings."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else ()
    candidates = options or (hint,)
    for candidate in candidates:
        if dataclasses.is_dataclass(candidate) and isinstance(value, Mapping):
            return _build(candidate, value, where)
    if isinstance(value, list) and any(typing.get_origin(c) is tuple or c is tuple for c in candidates):
        return tuple(value)
    if isinstance(value, Mapping) and any(typing.get_origin(c) is dict for c in candidates):  # names -> numbers
        return {key: _convert(int | float, item, f"{where}{key}.") for key, item in value.items()}
    if isinstance(value, str) and (float in candidates or int in candidates) and str not in candidates:
        for number in (int, float):
            if number in candidates:
                try:
                    return number(value)
                except ValueError:
                    continue
    return value
