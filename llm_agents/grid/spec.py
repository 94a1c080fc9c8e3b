"""A grid file: the training runs of a study as the cartesian product of a few settings, read and checked in full.

```yaml
base: configs/reproduce/cpu.yaml      # a training config file, or an inline mapping of its settings
output_dir: runs/grid
axes:                                 # training settings (dotted keys allowed), each a list, or {name: value}
  reward: {game: game, utilitarian: utilitarian, game_then_utilitarian: "game:10,utilitarian:10"}
  seed: [1, 2, 3]
resources: {cpus_per_trial: 1, gpus_per_trial: 0}
max_concurrent: 2
max_failures: 2
evaluate: {labels: "C,D", other-prompts: none, policy-seed: "{seed}"}   # llm-agents evaluate's flags
report: true                          # or {include: [more run folders or globs]}
```

An axis called ``base`` takes config files (the paper's presets), and one called ``settings`` takes named mappings of
dotted settings applied together (``{ppo: {algorithm: ppo}, g4: {algorithm: grpo, grpo.num_generations: 4}}``).
Each trial trains in ``output_dir/train/NAME/seedS`` and is evaluated in ``output_dir/eval/NAME/seedS``: NAME joins
the names of its values on the other axes (a list value's name is the value, made safe for a path). Every trial's
config is built and checked when the file is read, so a bad value stops the grid before anything runs, with one line
naming the field.
"""

from __future__ import annotations

import glob
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_agents.evaluation.protocol import EvaluationConfig
from llm_agents.evaluation.request import PolicySpec, protocol_from
from llm_agents.runs.config_files import apply_overrides, read_yaml
from llm_agents.runs.folder import check_output_folder
from llm_agents.training import config_from_dict, config_to_dict
from matrix_games.core.validation import close_match

FIELDS = ("base", "output_dir", "axes", "resources", "max_concurrent", "max_failures", "evaluate", "report")
RESOURCES = ("cpus_per_trial", "gpus_per_trial")


class GridFileError(ValueError):
    """A grid file that cannot run; the message is one line naming the field."""


@dataclass(frozen=True)
class Evaluation:
    """A trial's evaluation: the agent (the trial's adapter) and the protocol, sampled or exact."""

    spec: PolicySpec
    protocol: EvaluationConfig
    exact: bool = False


@dataclass(frozen=True)
class Trial:
    """One training run of a grid (and its evaluation).

    Attributes:
        name: ``NAME/seedS`` (or ``NAME``), the folder below ``train/`` and ``eval/``.
        values: The trial's value on each axis, by axis.
        config: The full training config as a mapping, ``output_dir`` the trial's folder (what ``config.yaml`` holds).
        train_dir: Its run folder.
        eval_dir: Its evaluation folder (used when the grid evaluates).
        evaluation: What its evaluation tests and how, or None when the grid does not evaluate.
    """

    name: str
    values: dict[str, Any]
    config: dict[str, Any]
    train_dir: Path
    eval_dir: Path
    evaluation: Evaluation | None = None

    @property
    def episodes(self) -> int:
        return config_from_dict(self.config, warn=False).num_episodes


@dataclass(frozen=True)
class GridSpec:
    """A checked grid file (see the module docstring)."""

    path: Path
    output_dir: Path
    trials: tuple[Trial, ...]
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent: int = 1
    max_failures: int = 0
    report: bool = False
    report_include: tuple[Path, ...] = field(default_factory=tuple)


def load_grid(path: str | Path, overrides: dict[str, Any] | None = None) -> GridSpec:
    """Read and check the grid file ``path``; a ``GridFileError`` names what is wrong.

    ``overrides`` (dotted keys, as ``llm-agents train --set``) change every trial's base config; the axes still win.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"grid file {path} does not exist.")
    data = read_yaml(path)
    where = f"grid file {path}"
    if not isinstance(data, dict):
        raise GridFileError(f"{where}: expected a mapping of {list(FIELDS)}, got {type(data).__name__}.")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise GridFileError(f"{where}: unknown field {unknown[0]!r}; a grid file has {list(FIELDS)}.")
    try:
        output_dir = check_output_folder(data.get("output_dir", "runs/grid"), "output_dir").resolve()
    except ValueError as error:
        raise GridFileError(f"{where}: {error}") from None
    axes = _axes(data.get("axes"), where)
    resources = data.get("resources") or {}
    bad = sorted(set(resources) - set(RESOURCES)) if isinstance(resources, dict) else ["(not a mapping)"]
    if bad:
        raise GridFileError(f"{where}: resources has no {bad[0]!r}; give {list(RESOURCES)}.")
    cpus = _number(resources.get("cpus_per_trial", 1), f"{where}: resources.cpus_per_trial", positive=True)
    gpus = _number(resources.get("gpus_per_trial", 0), f"{where}: resources.gpus_per_trial", positive=False)
    evaluate = data.get("evaluate")
    trials = tuple(_trials(data.get("base"), axes, output_dir, evaluate, path, where, overrides or {}))
    report = data.get("report", False)
    include: tuple[Path, ...] = ()
    if isinstance(report, dict):
        include = tuple(Path(p) for pattern in report.get("include", []) for p in sorted(glob.glob(str(pattern))))
        report = True
    return GridSpec(
        path=path,
        output_dir=output_dir,
        trials=trials,
        cpus_per_trial=cpus,
        gpus_per_trial=gpus,
        max_concurrent=int(_number(data.get("max_concurrent", 1), f"{where}: max_concurrent", positive=True)),
        max_failures=int(_number(data.get("max_failures", 0), f"{where}: max_failures", positive=False)),
        report=bool(report),
        report_include=include,
    )


def _axes(axes: Any, where: str) -> dict[str, dict[str, Any]]:
    """Each axis as {name: value}, in file order."""
    if not isinstance(axes, dict) or not axes:
        raise GridFileError(f"{where}: axes must map training settings to lists of values, e.g. seed: [1, 2, 3].")
    out = {}
    for key, values in axes.items():
        if key == "output_dir":
            raise GridFileError(f"{where}: axes.output_dir: the grid names each trial's folder; remove this axis.")
        if isinstance(values, dict):
            named = {str(name): value for name, value in values.items()}
        elif isinstance(values, list):
            named = {_slug(value): value for value in values}
        else:
            raise GridFileError(f"{where}: axes.{key} must be a list of values or a mapping of names to values.")
        if not named:
            raise GridFileError(f"{where}: axes.{key} is empty; give at least one value.")
        out[str(key)] = named
    return out


def _trials(
    base: Any,
    axes: dict[str, dict[str, Any]],
    output_dir: Path,
    evaluate: Any,
    path: Path,
    where: str,
    changes: dict[str, Any],
):
    keys = list(axes)
    for combination in itertools.product(*(axes[key].items() for key in keys)):
        values = {key: value for key, (_, value) in zip(keys, combination, strict=True)}
        names = [name for key, (name, _) in zip(keys, combination, strict=True) if key != "seed"]
        base_value = values.pop("base", base)
        settings = (
            apply_overrides(_base(base_value, path, where), changes) if changes else _base(base_value, path, where)
        )
        bundle = values.pop("settings", {})
        if not isinstance(bundle, dict):
            raise GridFileError(f"{where}: axes.settings values must be mappings of settings, got {bundle!r}.")
        settings = apply_overrides(settings, bundle)
        overrides = dict(values)
        name = "_".join(names) or "run"
        if "seed" in values:
            name = f"{name}/seed{values['seed']}"
        train_dir, eval_dir = output_dir / "train" / name, output_dir / "eval" / name
        overrides.update(output_dir=str(train_dir), resume=False, overwrite=False, progress=False)
        try:
            config = config_from_dict(apply_overrides(settings, overrides))
        except ValueError as error:
            culprit = _culprit(settings, overrides, list(values))
            culprit = "axes.settings" if bundle and culprit == "base" else culprit
            raise GridFileError(f"{where}: {culprit} (trial {name}): {error}") from None
        evaluation = _evaluation(evaluate, config, train_dir, where)
        yield Trial(name, {**values}, config_to_dict(config), train_dir, eval_dir, evaluation)


def _culprit(settings: dict[str, Any], overrides: dict[str, Any], axes: list[str]) -> str:
    """The field that makes a trial's config invalid: the base, or the first axis whose value breaks it."""
    fixed = {key: value for key, value in overrides.items() if key not in axes}
    for count in range(len(axes) + 1):
        partial = {**fixed, **{key: overrides[key] for key in axes[:count]}}
        try:
            config_from_dict(apply_overrides(settings, partial))
        except ValueError:
            return "base" if count == 0 else f"axes.{axes[count - 1]}"
    return "axes"


def _base(base: Any, path: Path, where: str) -> dict[str, Any]:
    if isinstance(base, dict):
        return dict(base)
    if not isinstance(base, str):
        raise GridFileError(f"{where}: base must be a training config file or a mapping of its settings.")
    for candidate in (Path(base), path.parent / base):
        if candidate.is_file():
            return read_yaml(candidate)
    raise GridFileError(f"{where}: base: {base} does not exist (looked from here and from the grid file's folder).")


AGENT_KEYS = {
    "policy-seed": "seed",
    "model": "model",
    "preface": "preface",
    "label": "label",
    "device": "device",
    "dtype": "dtype",
    "quantization": "quantization",
    "batch-size": "batch_size",
    "max-new-tokens": "max_new_tokens",
    "parse-mode": "parse_mode",
}
"""A grid's ``evaluate`` keys (``llm-agents evaluate``'s flags without the dashes) that describe the agent."""

PROTOCOL_KEYS = {
    "games": "games",
    "episodes": "episodes",
    "rounds": "rounds",
    "labels": "labels",
    "table-order": "table_order",
    "other-prompts": "other_prompts",
    "opponent-p": "opponent_cooperation_probability",
    "seed": "seed",
    "deontological-penalty": "deontological_penalty",
    "illegal-reward": "illegal_reward",
    "public-goods-players": "public_goods_players",
}
"""A grid's ``evaluate`` keys that describe the protocol; ``exact: true`` computes instead of sampling."""


def _evaluation(evaluate: Any, config: Any, train_dir: Path, where: str) -> Evaluation | None:
    """The trial's evaluation from the grid's ``evaluate`` mapping (``{seed}`` is the trial's seed), checked as the
    evaluation's own dataclasses (``PolicySpec``, ``EvaluationConfig``); the model, device and dtype are the training
    run's unless given."""
    if evaluate is None or evaluate is False:
        return None
    if not isinstance(evaluate, dict):
        raise GridFileError(
            f"{where}: evaluate must be a mapping of llm-agents evaluate's settings, e.g. {{labels: 'C,D'}}."
        )
    agent: dict[str, Any] = {"model": config.model.name, "device": config.model.device, "dtype": config.model.dtype}
    protocol: dict[str, Any] = {}
    exact = False
    for key, value in evaluate.items():
        name = str(key).replace("_", "-")
        if isinstance(value, str):
            value = value.replace("{seed}", str(config.seed))
        if name == "exact":
            exact = value
        elif name in AGENT_KEYS:
            agent[AGENT_KEYS[name]] = _typed(value, AGENT_KEYS[name])
        elif name in PROTOCOL_KEYS:
            protocol[PROTOCOL_KEYS[name]] = value
        else:
            known = sorted([*AGENT_KEYS, *PROTOCOL_KEYS, "exact"])
            hint = close_match(name, known)
            raise GridFileError(f"{where}: evaluate: unknown setting {key!r}.{hint} It takes {known}.")
    if not isinstance(exact, bool):
        raise GridFileError(f"{where}: evaluate.exact must be true or false, got {exact!r}.")
    try:
        spec = PolicySpec(adapter=train_dir, **agent)
        plan = Evaluation(spec, protocol_from(protocol), exact)
    except (ValueError, TypeError) as error:
        raise GridFileError(f"{where}: evaluate: {error}") from None
    return plan


def _typed(value: Any, field: str) -> Any:
    """``policy-seed: "{seed}"`` is text after the substitution: a whole number there is the number."""
    if field in ("seed", "batch_size", "max_new_tokens") and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _number(value: Any, where: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (positive and value == 0):
        bound = "a positive number" if positive else "a number >= 0"
        raise GridFileError(f"{where} must be {bound}, got {value!r}.")
    return float(value)


def _slug(value: Any) -> str:
    """A value as a folder name: ``game:10,utilitarian:10`` -> ``game_10_utilitarian_10``."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", str(value)).strip("_") or "value"
