"""Redraw a training run's figure from its folder, also while it is still training (or was interrupted).

usage: python examples/reproduce/plot_run.py RUN_FOLDER [--out PNG]

The runner draws ``action_types.png`` when a run finishes; a run of the paper's length takes hours, so this draws
the same figure from what the folder holds now: the action types per episode from ``rounds.jsonl`` and, where the
run logged them, the exact P(C | state) and P(illegal | state) from ``analysis.jsonl``, with the reward switches as
dashed lines. The x axis spans the whole planned run, so the part still to come shows as empty.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from llm_agents.runs.folder import RunFolder, read_jsonl
from llm_agents.training import LLM_OPPONENT, config_from_dict
from llm_agents.training.summary import plot_action_types


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a training run folder (holding config.yaml and rounds.jsonl)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the PNG [RUN/progress.png]")
    args = parser.parse_args()
    folder = RunFolder(args.run)
    if not folder.config.is_file() or not folder.rounds.is_file():
        parser.error(f"{args.run} is no training run folder (it needs config.yaml and rounds.jsonl)")
    raw = folder.read_config()
    config = config_from_dict(raw)
    logs = folder.read_rounds(raw)
    learners = ["player_0", "player_1"] if config.opponent == LLM_OPPONENT else ["player_0"]
    done = 1 + max((log.episode for log in logs), default=-1)
    out = args.out or folder.root / "progress.png"
    title = f"{config.reward} (seed {config.seed}): {done} of {config.num_episodes} episodes"
    plot_action_types(
        logs,
        out,
        episodes=config.num_episodes,
        players=learners,
        title=title,
        switch_episodes=config.schedule.switch_episodes(config.num_episodes),
        diagnostics=list(read_jsonl(folder.analysis)) if folder.analysis.exists() else [],
    )
    print(out)


if __name__ == "__main__":
    main()
