"""Files of settings: YAML read strictly and dotted overrides (``--set ppo.learning_rate=1e-4``). Training configs,
grid files and a run folder's ``config.yaml`` are all read through here.

Strict means: a key given twice in one mapping is an error; anchors and aliases (``&a``, ``*a``) are refused (a few
hundred bytes of nested aliases expand to billions of values, the "billion laughs"); settings nest at most
``MAX_DEPTH`` levels (deeper data would exhaust Python's recursion limit). Every problem names the file and the line.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import yaml

MAX_DEPTH = 32
"""How deep settings may nest (mappings and lists); the deepest bundled file nests 4 levels."""

MAX_VALUES = 100_000
"""How many values (mappings, lists and scalars) settings data may hold; a bundled file holds a few hundred."""


class RefusedYAML(yaml.MarkedYAMLError):
    """Valid YAML that a settings file may not hold (an alias, nesting deeper than ``MAX_DEPTH``)."""


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing repeated keys, anchors and aliases, and nesting deeper than ``MAX_DEPTH``."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        """Stop at the first bracket too deep, as the scanner reads it: later, the scanner would first work through
        every bracket (slowly: each one keeps a possible key open) before the composer sees the depth."""
        super().fetch_flow_collection_start(token_class)  # type: ignore[misc]
        if self.flow_level > MAX_DEPTH:
            raise RefusedYAML(
                None, None, f"settings nest at most {MAX_DEPTH} levels deep; flatten this value", self.get_mark()
            )

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise RefusedYAML(
                None,
                None,
                "anchors and aliases (&name, *name) are not accepted in settings files; write each value out",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise RefusedYAML(
                    None, None, f"settings nest at most {MAX_DEPTH} levels deep; flatten this value", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            raise RefusedYAML(
                None, None, "a setting's name must be a word, not a list or a mapping", key_node.start_mark
            )
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
        if isinstance(error, RefusedYAML):
            raise ValueError(f"{where}{line}: {problem}.") from None
        raise ValueError(f"{where}{line} is not valid YAML: {problem}.") from None
    except ValueError as error:  # a value YAML reads but Python cannot build: 2024-13-01, a 5000-digit integer
        raise ValueError(f"{where} holds a value that cannot be read: {error}.") from None


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
        if not isinstance(dotted, str):
            raise ValueError(f"Invalid setting name {dotted!r}: expected a dotted name, e.g. 'ppo.learning_rate'.")
        check_depth(value, dotted, limit=MAX_DEPTH - dotted.count("."))
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
    """``data`` with every nested mapping copied (lists and values shared); refused past ``MAX_DEPTH`` levels."""
    check_depth(data, "")
    return _copy(data)


def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _copy(value) if isinstance(value, Mapping) else value for key, value in data.items()}


def check_depth(data: Any, where: str, limit: int = MAX_DEPTH) -> None:
    """Refuse ``data`` (plain settings data) nested more than ``limit`` mappings and lists deep, or holding more than
    ``MAX_VALUES`` values (Python data may share one list many times over, as YAML aliases would), naming where.

    Iterative, so that data too deep for Python's recursion limit gets this message rather than a RecursionError.
    """
    stack: list[tuple[Any, str, int]] = [(data, where, 0)]
    seen = 0
    while stack:
        value, path, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ValueError(
                f"The settings {where or 'given'!r} hold more than {MAX_VALUES} values; settings are a few hundred at "
                "most: check for a value repeated by mistake."
            )
        if isinstance(value, Mapping):
            children = [(child, f"{path}.{key}" if path else str(key)) for key, child in value.items()]
        elif isinstance(value, (list, tuple)):
            children = [(child, f"{path}[{index}]") for index, child in enumerate(value)]
        else:
            continue
        if depth >= limit:
            raise ValueError(
                f"The setting {path or 'at the top'!r} nests deeper than settings may ({MAX_DEPTH} levels of mappings "
                "and lists); flatten it."
            )
        stack.extend((child, name, depth + 1) for child, name in children)
