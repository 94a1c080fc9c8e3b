"""``build_report``: read runs and evaluations, aggregate them per model, draw the figures and write ``report.md``.

``report.md`` shows, for the evaluations: the Fig. 4 regret bars and a table per metric (mean ± 95% half-width
across runs, and the number of runs), the action types and reciprocity on the IPD, the other prompts' answer
shares; for the training runs: the Fig. 2/3 action types per episode and the cooperation rate with its band, and the
action-type shares of the last 20% of episodes. ``report.json`` holds the same numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llm_agents.reporting import figures
from llm_agents.reporting.aggregate import (
    GAME_METRICS,
    Estimate,
    game_table,
    games_of,
    other_prompts_table,
    protocols,
    reciprocity_table,
    training_curves,
    training_end_table,
)
from llm_agents.reporting.load import discover, group_by_label
from llm_agents.runs.folder import check_creatable_folder
from matrix_games.metrics import ACTION_TYPES, ANSWER_KINDS
from matrix_games.metrics.plotting import short_name

METRIC_TITLES = {
    "cooperation_rate": "Cooperation rate",
    "illegal_rate": "Illegal-answer rate",
    "deontological_regret": "Deontological regret",
    "utilitarian_regret": "Utilitarian regret",
}

RECIPROCITY_GAME = "IPD-v0"


@dataclass(frozen=True)
class ReportConfig:
    """A report: the folders it reads (evaluation and training run folders, or their parents), where it is written,
    and whether a folder that cannot be read stops it (``strict``) or is skipped with a warning."""

    paths: tuple[Path, ...]
    out: Path
    strict: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(Path(p) for p in self.paths))
        object.__setattr__(self, "out", Path(self.out))
        if not self.paths:
            raise ValueError("A report needs at least one folder to read.")
        check_creatable_folder(self.out, "--out", example="runs/report")


def write_report(config: ReportConfig) -> Path:
    """Read, aggregate and draw what ``config`` asks; return ``report.md`` (``llm-agents report`` and the grid)."""
    return build_report(config.paths, config.out, strict=config.strict)


def build_report(paths: Iterable[str | Path], out_dir: str | Path, *, strict: bool = False) -> Path:
    """Write ``report.md``, ``report.json`` and the figures for the runs at or below ``paths``; return report.md.

    A folder that cannot be read is skipped with a warning (``strict``: the report stops instead).
    """
    out_dir = Path(out_dir)
    evaluations, runs = discover(paths, strict=strict)
    if not evaluations and not runs:
        raise ValueError(f"Nothing readable to report at or below {[str(p) for p in paths]}.")
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# Report", ""]
    data: dict[str, Any] = {}
    if evaluations:
        lines += _evaluation_section(group_by_label(evaluations), out_dir, data)
    if runs:
        lines += _training_section(group_by_label(runs), out_dir, data)
    (out_dir / "report.json").write_text(json.dumps(_plain(data), indent=2) + "\n", encoding="utf-8")
    path = out_dir / "report.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


def _evaluation_section(groups: Mapping[str, list], out_dir: Path, data: dict[str, Any]) -> list[str]:
    games = games_of(groups)
    table = game_table(groups)
    xi = next(iter(groups.values()))[0].summary["protocol"]["deontological_penalty"]
    lines = [
        "## Test-time evaluation",
        "",
        "Each run played the test protocol (`llm-agents evaluate`); a model's value is the mean over its runs, "
        "± the 95% half-width 1.96·sd/√n (no interval for a single run).",
        "",
        "| model | runs | evaluated with |",
        "|---|---|---|",
    ]
    for model, runs in groups.items():
        lines.append(_row([model, str(len(runs)), _describe_protocols(protocols(runs))]))
    figures.regret_figure(table, games, out_dir / "regret.png", xi=xi)
    lines += ["", "![Regret per game and model](regret.png)", ""]
    for metric in GAME_METRICS:
        lines += [f"### {METRIC_TITLES[metric]}", "", _table_header(["model", *[_game(g) for g in games]])]
        for model in groups:
            lines.append(_row([model, *[table[model][g][metric].format() for g in games]]))
        lines.append("")
    data["games"] = table
    return lines + _reciprocity_lines(groups, out_dir, data) + _other_prompt_lines(groups, out_dir, data)


def _reciprocity_lines(groups: Mapping[str, list], out_dir: Path, data: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    reciprocity = reciprocity_table(groups, RECIPROCITY_GAME)
    if any(row["C|C"].runs for row in reciprocity.values()):
        figures.test_action_types_figure(reciprocity, out_dir / "test_action_types.png", game=RECIPROCITY_GAME)
        lines += [
            f"### Reciprocity on the {_game(RECIPROCITY_GAME)}",
            "",
            "Shares of rounds by own action and the opponent's previous move (against a random opponent each "
            "previous move is C about half the time, so a strategy that ignores it puts 25% in each of C|C, C|D, "
            "D|C, D|D), and the conditional rates P(C | their C), P(D | their D).",
            "",
            "![Action types at test](test_action_types.png)",
            "",
            _table_header(["model", *ACTION_TYPES, "P(C | C)", "P(D | D)"]),
        ]
        for model, row in reciprocity.items():
            cells = [row[k].format() for k in (*ACTION_TYPES, "cooperate_after_cooperation", "defect_after_defection")]
            lines.append(_row([model, *cells]))
        lines.append("")
        data["reciprocity"] = reciprocity
    return lines


def _other_prompt_lines(groups: Mapping[str, list], out_dir: Path, data: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    others = other_prompts_table(groups)
    if others and any(others.values()):
        figures.other_prompts_figure(others, out_dir / "other_prompts.png")
        kinds = list(next(iter(others.values())))
        lines += [
            "### Other prompts",
            "",
            "Share of answers that were the C label, the D label, or anything else (illegal), per prompt.",
            "",
            "![Answers to the other prompts](other_prompts.png)",
            "",
            _table_header(["model", "answer", *[short_name(k).replace("\n", " ") for k in kinds]]),
        ]
        for model, row in others.items():
            for answer in ANSWER_KINDS:
                lines.append(_row([model, answer, *[row[k][answer].format() for k in kinds]]))
        lines.append("")
        data["other_prompts"] = others
    return lines


def _training_section(groups: Mapping[str, list], out_dir: Path, data: dict[str, Any]) -> list[str]:
    curves = {model: training_curves(runs) for model, runs in groups.items()}
    figures.training_action_types_figure(curves, out_dir / "training_action_types.png")
    figures.training_cooperation_figure(curves, out_dir / "training_cooperation.png")
    ends = {model: training_end_table(runs) for model, runs in groups.items()}
    bands = list(next(iter(ends.values())))
    lines = [
        "## Training",
        "",
        "Action types of the learner per episode (smoothed over about 1/25 of the run), averaged over the runs "
        "of each model; a dashed line marks a reward switch.",
        "",
        "![Action types during training](training_action_types.png)",
        "",
        "![Cooperation during training](training_cooperation.png)",
        "",
        "Shares over the last 20% of episodes (mean ± 95% half-width across runs):",
        "",
        _table_header(["model", "runs", "episodes", *bands]),
    ]
    for model, runs in groups.items():
        episodes = curves[model].episodes.size
        lines.append(_row([model, str(len(runs)), str(episodes), *[ends[model][b].format() for b in bands]]))
    lines.append("")
    data["training_end"] = ends
    return lines


def _describe_protocols(distinct: Sequence[Mapping[str, Any]]) -> str:
    """The protocols of a model's runs, runs that differ only by seed on one line ("seeds 101, 102")."""
    by_setting: dict[str, list[int]] = {}
    for protocol in distinct:
        setting = (
            f"{protocol['episodes']}x{protocol['rounds']} rounds, {'/'.join(protocol['labels'])}, "
            f"{protocol['table_order']} order, xi {protocol['deontological_penalty']:g}"
        )
        by_setting.setdefault(setting, []).append(protocol["seed"])
    return "; ".join(
        f"{setting}, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
        for setting, seeds in by_setting.items()
    )


def _game(game: str) -> str:
    return short_name(game).replace("\n", " ")


def _table_header(columns: Sequence[str]) -> str:
    return _row(columns) + "\n|" + "---|" * len(columns)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _plain(value: Any) -> Any:
    if isinstance(value, Estimate):
        return {key: (None if isinstance(v, float) and math.isnan(v) else v) for key, v in asdict(value).items()}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value
