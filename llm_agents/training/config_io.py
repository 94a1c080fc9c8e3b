"""``TrainConfig`` to and from plain data and YAML files, with dotted overrides (``ppo.learning_rate=1e-4``).

Nested configs are nested mappings. Unknown keys are errors that name the closest known key, so a typo in a config
file never passes silently. Numbers written as strings (PyYAML reads ``1e-4`` as a string) are accepted where a
number is expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from llm_agents.training.config import TrainConfig


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as plain data (dicts, lists, str, numbers, bools, None) ready for YAML or JSON."""
    return _plain(config)


def config_from_dict(data: Mapping[str, Any], cls: type = TrainConfig) -> Any:
    """Build ``cls`` (a config dataclass) from nested plain data; unknown keys raise a ValueError with a hint."""
    return _build(cls, data, where="")


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config file, apply dotted ``overrides`` (``{"ppo.learning_rate": 1e-4}``), build the config."""
    return config_from_dict(apply_overrides(read_yaml(path), overrides or {}))


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML file (an empty file is an empty mapping)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file {str(path)!r} does not exist.")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"Config file {str(path)!r} must hold a mapping of settings, got {type(data).__name__}.")
    return data


def save_config(config: TrainConfig, path: str | Path) -> Path:
    """Write the config as YAML (the fields in declaration order)."""
    path = Path(path)
    path.write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))
    return path


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` with each ``"a.b.c": value`` of ``overrides`` set (intermediate mappings created)."""
    result = _deep_copy(data)
    for dotted, value in overrides.items():
        keys = dotted.split(".")
        if not all(keys):
            raise ValueError(f"Invalid setting name {dotted!r}: expected e.g. 'ppo.learning_rate'.")
        node = result
        for key in keys[:-1]:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            elif not isinstance(child, dict):
                raise ValueError(f"Cannot set {dotted!r}: {key!r} is a value ({child!r}), not a group of settings.")
            node = child
        node[keys[-1]] = value
    return result


def parse_override(text: str) -> tuple[str, Any]:
    """``"ppo.learning_rate=1e-4"`` -> ``("ppo.learning_rate", 0.0001)``; the value is read as YAML."""
    key, separator, raw = text.partition("=")
    if not separator or not key.strip():
        raise ValueError(f"Invalid setting {text!r}: expected KEY=VALUE, e.g. ppo.learning_rate=1e-4.")
    return key.strip(), yaml.safe_load(raw) if raw.strip() else None


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deep_copy(value) if isinstance(value, Mapping) else value for key, value in data.items()}


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
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" Did you mean {where + close[0]!r}?" if close else ""
            raise ValueError(f"Unknown setting {where + str(key)!r}.{hint} Known settings here: {names}.")
        kwargs[key] = _convert(hints[key], value, f"{where}{key}.")
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    """Turn plain data into what the field's type hint wants: nested configs, tuples, numbers from strings."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else ()
    candidates = options or (hint,)
    for candidate in candidates:
        if dataclasses.is_dataclass(candidate) and isinstance(value, Mapping):
            return _build(candidate, value, where)
    if isinstance(value, list) and any(typing.get_origin(c) is tuple or c is tuple for c in candidates):
        return tuple(value)
    if isinstance(value, str) and (float in candidates or int in candidates) and str not in candidates:
        for number in (int, float):
            if number in candidates:
                try:
                    return number(value)
                except ValueError:
                    continue
    return value
