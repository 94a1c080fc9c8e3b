"""Files of settings: YAML read strictly (a key given twice in one mapping is an error, and every problem names the
file and the line) and dotted overrides (``--set ppo.learning_rate=1e-4``). Training configs, grid files and a run
folder's ``config.yaml`` are all read through here."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (last-one-wins would hide a typo)."""


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the setting {key!r} is given twice (also at line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, where: str) -> Any:
    """``text`` read as YAML; a syntax error or a repeated key raises a ValueError naming ``where`` and the line."""
    try:
        return yaml.load(text, Loader=StrictLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None and "\n" in text.strip() else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ValueError(f"{where}{line} is not valid YAML: {problem}.") from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML file (an empty file is an empty mapping); every problem names the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file {str(path)!r} does not exist.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"Config file {str(path)!r} is not UTF-8 text ({error.reason} at byte {error.start})."
        ) from None
    data = parse_yaml(text, f"Config file {str(path)!r}") or {}
    if not isinstance(data, dict):
        raise ValueError(f"Config file {str(path)!r} must hold a mapping of settings, got {type(data).__name__}.")
    return data


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` with each ``"a.b.c": value`` of ``overrides`` set (intermediate mappings created)."""
    result = deep_copy(data)
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
    return key.strip(), parse_yaml(raw, f"The value of --set {key.strip()}") if raw.strip() else None


def deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: deep_copy(value) if isinstance(value, Mapping) else value for key, value in data.items()}
