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
the names of its values on the other axes with ``_`` (a list value's name is the value, made safe for a path; a
mapping's names must be safe already). Every trial's config, evaluation and folder name is built and checked when the
file is read, so a bad value stops the grid before anything runs, with one line naming the field: every field's type
and range, a value listed twice on an axis, two values or two trials that would share a folder (names compared
without case, as a macOS or Windows disk does), a folder name longer than a file system allows.

``quick=True`` (``llm-agents grid --quick``) is a short try of the same grid: every trial runs ``QUICK_EPISODES``
episodes (or the ``episodes`` override), its reward schedule's phases scaled to them (``game:30,deontological:30``
-> ``game:1,deontological:1``), each evaluation plays one episode per game, and everything is written to
``OUTPUT_DIR-quick`` so that the real grid's folders are never touched. The real grid is checked too.
"""

from __future__ import annotations

import copy
import dataclasses
import glob
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_agents.evaluation.protocol import EvaluationConfig
from llm_agents.evaluation.request import PolicySpec, protocol_from
from llm_agents.grid.checks import GridFileError, check_number, check_whole, same, show, slug
from llm_agents.runs.config_files import apply_overrides, read_yaml
from llm_agents.runs.folder import check_output_folder
from llm_agents.training import config_from_dict, config_to_dict
from matrix_games.core.validation import close_match
from matrix_games.rewards.schedule import RewardSchedule

FIELDS = ("base", "output_dir", "axes", "resources", "max_concurrent", "max_failures", "evaluate", "report")
RESOURCES = ("cpus_per_trial", "gpus_per_trial")
REPORT_FIELDS = ("include",)
MAX_TRIALS = 10_000
"""More trials than this is a mistake (or many grids' worth): they are refused before any config is built."""
MAX_NAME_BYTES = 255
"""The longest file name most file systems take; a trial's folder name is refused above it."""
QUICK_EPISODES = 2
QUICK_SUFFIX = "-quick"


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
        name: ``NAME/seedS`` (or ``NAME``), the folder below ``train/`` and ``eval/``; unique in its grid.
        values: The trial's value on each axis, by axis.
        config: The full training config as a mapping, ``output_dir`` the trial's folder (what ``config.yaml`` holds).
        train_dir: Its run folder.
        eval_dir: Its evaluation folder (used when the grid evaluates).
        evaluation: What its evaluation tests and how, or None when the grid does not evaluate.
        threads: The torch threads it runs with: its ``cpus_per_trial``, rounded down, at least 1 (also its
            training config's ``threads`` unless the grid sets that).
    """

    name: str
    values: dict[str, Any]
    config: dict[str, Any]
    train_dir: Path
    eval_dir: Path
    evaluation: Evaluation | None = None
    threads: int = 1

    @property
    def episodes(self) -> int:
        return config_from_dict(self.config, warn=False).num_episodes


@dataclass(frozen=True)
class GridSpec:
    """A checked grid file (see the module docstring).

    ``report_include`` holds the ``report.include`` patterns as written: they are matched when the report is
    written (a folder another step makes while the grid runs counts), and one that matches nothing is a warning
    then. ``overrides`` and ``quick`` are what ``load_grid`` was given, so that a stopped grid can say the exact
    command that continues it.
    """

    path: Path
    output_dir: Path
    trials: tuple[Trial, ...]
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent: int = 1
    max_failures: int = 0
    report: bool = False
    report_include: tuple[str, ...] = field(default_factory=tuple)
    overrides: dict[str, Any] = field(default_factory=dict)
    quick: bool = False

    def include_folders(self) -> tuple[tuple[Path, ...], tuple[str, ...]]:
        """The report's extra folders now: those the ``include`` patterns match, and the patterns that match none."""
        found: list[Path] = []
        missing: list[str] = []
        for pattern in self.report_include:
            matches = sorted(glob.glob(pattern))
            found += [Path(match) for match in matches]
            if not matches:
                missing.append(pattern)
        return tuple(found), tuple(missing)


def load_grid(path: str | Path, overrides: Mapping[str, Any] | None = None, *, quick: bool = False) -> GridSpec:
    """Read and check the grid file ``path``; a ``GridFileError`` (a ValueError) names what is wrong.

    ``overrides`` (dotted keys, as ``llm-agents train --set``) change every trial's base config; the axes still win.
    ``quick`` makes the short try of the grid described in the module docstring (``episodes`` in ``overrides`` is
    then its length).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"grid file {path} does not exist.")
    where = f"grid file {path}"
    if overrides is not None and not isinstance(overrides, Mapping):
        raise GridFileError(f"{where}: the overrides must be a mapping of dotted settings, got {overrides!r}.")
    if not isinstance(quick, bool):
        raise GridFileError(f"{where}: quick must be True or False, got {quick!r}.")
    try:
        return _load(path, dict(overrides or {}), quick, where)
    except RecursionError:
        raise GridFileError(
            f"{where}: a value is nested too deeply to read; a grid file's values are settings, lists of them, or "
            "mappings one or two levels deep."
        ) from None


def _load(path: Path, overrides: dict[str, Any], quick: bool, where: str) -> GridSpec:
    data = read_yaml(path)
    unknown = sorted((str(key) for key in set(data) - set(FIELDS)), key=str)
    if unknown:
        hint = close_match(unknown[0], FIELDS)
        raise GridFileError(f"{where}: unknown field {unknown[0]!r}.{hint} A grid file has {list(FIELDS)}.")
    for key in overrides:
        if not isinstance(key, str) or not key.strip():
            raise GridFileError(f"{where}: --set {key!r}: a setting name must be text, e.g. --set episodes=2.")
    given = data.get("output_dir", "runs/grid")
    try:
        output_dir = check_output_folder(given, "output_dir").resolve()
    except ValueError as error:
        raise GridFileError(f"{where}: {error}") from None
    quick_episodes = None
    if quick:
        output_dir = output_dir.with_name(output_dir.name + QUICK_SUFFIX)
        quick_episodes = check_whole(
            overrides.pop("episodes", QUICK_EPISODES),
            f"{where}: --set episodes (the length of --quick)",
            1,
            10**6,
            "e.g. --quick --set episodes=2",
        )
    axes = _axes(data.get("axes"), where)
    resources = {} if data.get("resources") is None else data["resources"]
    if not isinstance(resources, dict):
        raise GridFileError(
            f"{where}: resources must be a mapping such as {{cpus_per_trial: 1, gpus_per_trial: 0}}, got {resources!r}."
        )
    bad = sorted((str(key) for key in set(resources) - set(RESOURCES)), key=str)
    if bad:
        raise GridFileError(
            f"{where}: resources has no {bad[0]!r}.{close_match(bad[0], RESOURCES)} Give {list(RESOURCES)}."
        )
    cpus = check_number(
        resources.get("cpus_per_trial", 1),
        f"{where}: resources.cpus_per_trial",
        positive=True,
        maximum=4096,
        fix="give the CPU cores each trial needs, e.g. resources: {cpus_per_trial: 1} (fractions allowed)",
    )
    gpus = check_number(
        resources.get("gpus_per_trial", 0),
        f"{where}: resources.gpus_per_trial",
        positive=False,
        maximum=1024,
        fix="give the GPUs each trial needs, e.g. resources: {gpus_per_trial: 1} (0 for none; fractions allowed)",
    )
    max_concurrent = check_whole(
        data.get("max_concurrent", 1), f"{where}: max_concurrent", 1, 10_000, "e.g. max_concurrent: 2"
    )
    max_failures = check_whole(
        data.get("max_failures", 0), f"{where}: max_failures", 0, 1000, "e.g. max_failures: 2 (0: never retry)"
    )
    report, include = _report(data.get("report", False), where)
    evaluate = data.get("evaluate")
    trials = _trials(
        data.get("base"),
        axes,
        output_dir,
        evaluate,
        path,
        where,
        overrides,
        threads=max(1, int(cpus)),
        quick_episodes=quick_episodes,
    )
    return GridSpec(
        path=path,
        output_dir=output_dir,
        trials=trials,
        cpus_per_trial=cpus,
        gpus_per_trial=gpus,
        max_concurrent=max_concurrent,
        max_failures=max_failures,
        report=report,
        report_include=include,
        overrides={**overrides, **({"episodes": quick_episodes} if quick else {})},
        quick=quick,
    )


def _report(report: Any, where: str) -> tuple[bool, tuple[str, ...]]:
    """``report``: true, false (or left empty), or ``{include: [folders or globs]}``."""
    if report is None or isinstance(report, bool):
        return bool(report), ()
    if not isinstance(report, dict):
        raise GridFileError(
            f"{where}: report must be true, false or {{include: [more run folders or globs]}}, got {report!r}."
        )
    unknown = sorted((str(key) for key in set(report) - set(REPORT_FIELDS)), key=str)
    if unknown:
        raise GridFileError(f"{where}: report has no {unknown[0]!r}; it takes {list(REPORT_FIELDS)}.")
    include = report.get("include", [])
    example = 'e.g. report: {include: ["runs/reproduce/eval/no_fine_tuning/seed*"]}'
    if isinstance(include, str):
        raise GridFileError(f"{where}: report.include must be a list, got the text {include!r}; write [{include!r}].")
    if not isinstance(include, list):
        raise GridFileError(
            f"{where}: report.include must be a list of run folders or globs, got {include!r}; {example}."
        )
    for pattern in include:
        if not isinstance(pattern, str) or not pattern.strip() or "\0" in pattern:
            raise GridFileError(
                f"{where}: report.include holds {pattern!r}; each entry must be a run folder or a glob, {example}."
            )
    return True, tuple(include)


def _axes(axes: Any, where: str) -> dict[str, dict[str, Any]]:
    """Each axis as {name: value}, in file order; a value listed twice, or two values with one name, are refused."""
    if not isinstance(axes, dict) or not axes:
        raise GridFileError(f"{where}: axes must map training settings to lists of values, e.g. seed: [1, 2, 3].")
    out = {}
    for key, values in axes.items():
        if not isinstance(key, str) or not key.strip():
            raise GridFileError(
                f"{where}: axes: {show(key)} is not a setting name; give a training setting such as reward or "
                "ppo.learning_rate."
            )
        if key == "output_dir":
            raise GridFileError(f"{where}: axes.output_dir: the grid names each trial's folder; remove this axis.")
        if not isinstance(values, (dict, list)):
            raise GridFileError(
                f"{where}: axes.{key} must be a list of values or a mapping of names to values, got {show(values)}."
            )
        pairs = list(values.items()) if isinstance(values, dict) else [(None, value) for value in values]
        for (first, a), (second, b) in itertools.combinations(pairs, 2):
            if same(a, b):
                if isinstance(values, list):
                    what = f"lists {show(a)} twice"
                else:
                    what = f"gives {show(first)} and {show(second)} the same value {show(a)}"
                raise GridFileError(f"{where}: axes.{key} {what}; remove one (it would train the same trial twice).")
        if isinstance(values, dict):
            named = {}
            for name, value in values.items():
                text = str(name)
                if isinstance(name, (dict, list)) or slug(text) != text:
                    raise GridFileError(
                        f"{where}: axes.{key}: the name {show(name)} cannot be a folder name; use letters, digits, "
                        f"'.', '-' and '_' (not first), e.g. {slug(text)!r}."
                    )
                if text in named:
                    raise GridFileError(f"{where}: axes.{key} names two values {text!r}; give each its own name.")
                named[text] = value
        else:
            named = {}
            for value in values:
                name = slug(value)
                if name in named:
                    raise GridFileError(
                        f"{where}: axes.{key}: {show(named[name])} and {show(value)} both make the folder name "
                        f"{name!r}; give the axis as a mapping of names to values, e.g. "
                        f"{key}: {{{name}_1: {show(named[name])}, {name}_2: {show(value)}}}."
                    )
                named[name] = value
        if not named:
            raise GridFileError(f"{where}: axes.{key} is empty; give at least one value.")
        out[key] = named
    return out


def _trials(
    base: Any,
    axes: dict[str, dict[str, Any]],
    output_dir: Path,
    evaluate: Any,
    path: Path,
    where: str,
    changes: dict[str, Any],
    *,
    threads: int,
    quick_episodes: int | None,
) -> tuple[Trial, ...]:
    keys = list(axes)
    count = math.prod(len(axes[key]) for key in keys)
    if count > MAX_TRIALS:
        sizes = " x ".join(f"{len(axes[key])} {key}" for key in keys)
        raise GridFileError(
            f"{where}: axes make {count} trials ({sizes}); a grid takes at most {MAX_TRIALS}: split it into grids."
        )
    combinations = list(itertools.product(*(axes[key].items() for key in keys)))
    names = [_trial_name(keys, combination) for combination in combinations]
    _check_names(names, keys, combinations, where)
    if "base" in axes and base is not None:
        raise GridFileError(
            f"{where}: base is given twice, as the field base and as the axis axes.base (which wins); remove one."
        )
    trials, files = [], {}
    for name, combination in zip(names, combinations, strict=True):
        values = {key: value for key, (_, value) in zip(keys, combination, strict=True)}
        base_value = values.pop("base", base)
        settings = _base(base_value, path, where, files)
        if changes:
            settings = _apply(settings, changes, f"{where}: --set")
        bundle = values.pop("settings", {})
        if not isinstance(bundle, dict):
            raise GridFileError(f"{where}: axes.settings values must be mappings of settings, got {show(bundle)}.")
        settings = _apply(settings, bundle, f"{where}: axes.settings (trial {name})")
        overrides = dict(values)
        train_dir, eval_dir = output_dir / "train" / name, output_dir / "eval" / name
        overrides.update(output_dir=str(train_dir), resume=False, overwrite=False, progress=False)
        try:
            config = _config(apply_overrides(settings, overrides))
        except ValueError as error:
            culprit = _culprit(settings, overrides, list(values))
            culprit = "axes.settings" if bundle and culprit == "base" else culprit
            hint = " (for a short try of this grid use --quick)" if "episodes" in changes else ""
            raise GridFileError(f"{where}: {culprit} (trial {name}): {error}{hint}") from None
        if quick_episodes is not None:
            try:
                shortened = {"episodes": quick_episodes, "reward": scaled_reward(config, quick_episodes)}
                config = _config(apply_overrides(settings, {**overrides, **shortened}))
            except ValueError as error:
                raise GridFileError(f"{where}: --quick (trial {name}): {error}") from None
        if getattr(config, "threads", 0) is None:  # the training's own thread count: the trial's CPUs
            config = dataclasses.replace(config, threads=threads)
        evaluation = _evaluation(evaluate, config, train_dir, where, quick=quick_episodes is not None)
        trials.append(Trial(name, {**values}, config_to_dict(config), train_dir, eval_dir, evaluation, threads))
    return tuple(trials)


def _trial_name(keys: list[str], combination: tuple[tuple[str, Any], ...]) -> str:
    """``NAME/seedS``: the values' names on the axes other than ``seed`` joined with ``_`` (``run`` without any)."""
    name = "_".join(part for key, (part, _) in zip(keys, combination, strict=True) if key != "seed") or "run"
    if "seed" in keys:
        name = f"{name}/seed{slug(combination[keys.index('seed')][1])}"
    return name


def _check_names(names: list[str], keys: list[str], combinations: list, where: str) -> None:
    """Every trial's folder is its own: no two names equal (without case), none too long for a file system."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        described = _describe(keys, combinations[index])
        for part in name.split("/"):
            if len(part.encode()) > MAX_NAME_BYTES:
                raise GridFileError(
                    f"{where}: axes: trial {described} gets a folder name of {len(part.encode())} characters "
                    f"({part[:40]}...); a file system takes at most {MAX_NAME_BYTES}: give the long values short "
                    "names (an axis as a mapping of names to values)."
                )
        other = seen.setdefault(name.lower(), index)
        if other != index:
            raise GridFileError(
                f"{where}: axes: trials {_describe(keys, combinations[other])} and {described} both get the folder "
                f"name {name!r} (a trial's folder joins its values' names with '_', compared without case); rename "
                "one of the values (an axis as a mapping of names to values) so that the joined names differ."
            )


def _describe(keys: list[str], combination: tuple[tuple[str, Any], ...]) -> str:
    parts = (f"{key}: {show(name, quote=False, limit=40)}" for key, (name, _) in zip(keys, combination, strict=True))
    return "{" + ", ".join(parts) + "}"


def _apply(settings: dict[str, Any], changes: dict[str, Any], where: str) -> dict[str, Any]:
    """``apply_overrides`` whose every problem, a setting name that is not text included, is a GridFileError."""
    for key in changes:
        if not isinstance(key, str):
            raise GridFileError(f"{where}: {show(key)} is not a setting name; write e.g. ppo.learning_rate: 1e-4.")
    try:
        return apply_overrides(settings, changes)
    except ValueError as error:
        raise GridFileError(f"{where}: {error}") from None


def _config(data: dict[str, Any]) -> Any:
    """``config_from_dict``, with a value of the wrong kind deep inside (a TypeError there) a ValueError too."""
    try:
        return config_from_dict(data)
    except (TypeError, AttributeError, KeyError, OverflowError) as error:
        raise ValueError(f"a setting has a value of the wrong kind ({type(error).__name__}: {error})") from None


def _culprit(settings: dict[str, Any], overrides: dict[str, Any], axes: list[str]) -> str:
    """The field that makes a trial's config invalid: the base, or the first axis whose value breaks it."""
    fixed = {key: value for key, value in overrides.items() if key not in axes}
    for count in range(len(axes) + 1):
        partial = {**fixed, **{key: overrides[key] for key in axes[:count]}}
        try:
            _config(apply_overrides(settings, partial))
        except ValueError:
            return "base" if count == 0 else f"axes.{axes[count - 1]}"
    return "axes"


def scaled_reward(config: Any, episodes: int) -> str:
    """The config's reward with its schedule's phases scaled from the run's length to ``episodes`` (each phase at
    least one episode; a fixed reward as it is): ``game:30,deontological:30`` over 2 is ``game:1,deontological:1``."""
    schedule: RewardSchedule = config.schedule
    phases = schedule.phases
    if len(phases) == 1:
        return config.reward
    if episodes < len(phases):
        raise ValueError(
            f"the reward schedule {str(schedule)!r} has {len(phases)} phases, more than the {episodes} episode(s) "
            f"of the short try; give it at least one each: --set episodes={len(phases)}."
        )
    total, ends, covered = config.num_episodes, [0], 0
    for index, (_, count) in enumerate(phases[:-1]):
        covered += count
        lowest, highest = ends[-1] + 1, episodes - (len(phases) - 1 - index)
        ends.append(min(max(round(covered * episodes / total), lowest), highest))
    ends.append(episodes)
    parts = [f"{name}:{ends[index + 1] - ends[index]}" for index, (name, _) in enumerate(phases)]
    if phases[-1][1] is None:
        parts[-1] = phases[-1][0]  # the open last phase stays open
    return ",".join(parts)


def _base(base: Any, path: Path, where: str, files: dict[Path, dict[str, Any]]) -> dict[str, Any]:
    """The base settings: an inline mapping, or a config file (named from here or from the grid file's folder),
    each file read once per grid (``files``)."""
    if isinstance(base, dict):
        return dict(base)
    if not isinstance(base, str) or not base.strip() or "\0" in base:
        raise GridFileError(
            f"{where}: base must be a training config file or a mapping of its settings, got {show(base)}."
        )
    for candidate in (Path(base), path.parent / base):
        try:
            found = candidate.is_file()
        except OSError:  # a name too long for the file system
            found = False
        if found:
            if candidate not in files:
                files[candidate] = read_yaml(candidate)
            return copy.deepcopy(files[candidate])
    raise GridFileError(
        f"{where}: base: {show(base, quote=False)} does not exist (looked from here and from the grid file's folder)."
    )


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

TEXT_KEYS = ("model", "preface", "label", "device")
"""The agent's settings that are text (the evaluation's dataclasses check the others)."""

LIST_KEYS = {"games": "games: 'IPD-v0,StagHunt-v0'", "labels": "labels: 'C,D'", "other_prompts": "other-prompts: none"}
"""The protocol's settings that are lists (``llm-agents evaluate`` takes them as comma-separated text)."""

WHOLE_NUMBERS = ("seed", "batch_size", "max_new_tokens", "episodes", "rounds", "public_goods_players")


def _evaluation(evaluate: Any, config: Any, train_dir: Path, where: str, *, quick: bool = False) -> Evaluation | None:
    """The trial's evaluation from the grid's ``evaluate`` mapping (``{seed}`` is the trial's seed), checked as the
    evaluation's own dataclasses (``PolicySpec``, ``EvaluationConfig``); the model, device and dtype are the training
    run's unless given. ``quick``: one episode per game."""
    if evaluate is None or evaluate is False:
        return None
    if not isinstance(evaluate, dict):
        raise GridFileError(
            f"{where}: evaluate must be a mapping of llm-agents evaluate's settings, e.g. {{labels: 'C,D'}}, "
            f"got {show(evaluate)}."
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
            field_name = AGENT_KEYS[name]
            if field_name in TEXT_KEYS and (not isinstance(value, str) or not value.strip()):
                raise GridFileError(f"{where}: evaluate.{key} must be text, got {show(value)}.")
            agent[field_name] = _typed(value, field_name)
        elif name in PROTOCOL_KEYS:
            field_name = PROTOCOL_KEYS[name]
            if field_name in LIST_KEYS and not _texts(value):
                raise GridFileError(
                    f"{where}: evaluate.{key} must be comma-separated text or a list of texts, e.g. "
                    f"{LIST_KEYS[field_name]}, got {show(value)}."
                )
            protocol[field_name] = _typed(value, field_name)
        else:
            known = sorted([*AGENT_KEYS, *PROTOCOL_KEYS, "exact"])
            hint = close_match(name, known)
            raise GridFileError(f"{where}: evaluate: unknown setting {show(key)}.{hint} It takes {known}.")
    if not isinstance(exact, bool):
        raise GridFileError(f"{where}: evaluate.exact must be true or false, got {show(exact)}.")
    try:
        spec = PolicySpec(adapter=train_dir, **agent)
        plan = Evaluation(spec, protocol_from(protocol), exact)
        if quick:
            plan = dataclasses.replace(plan, protocol=dataclasses.replace(plan.protocol, episodes=1))
    except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as error:
        raise GridFileError(f"{where}: evaluate: {error}") from None
    return plan


def _texts(value: Any) -> bool:
    """Whether ``value`` is text or a list of texts."""
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value))


def _typed(value: Any, field: str) -> Any:
    """``policy-seed: "{seed}"`` is text after the substitution: a whole number there is the number."""
    if field in WHOLE_NUMBERS and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value
