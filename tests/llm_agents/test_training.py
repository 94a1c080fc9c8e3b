"""End-to-end training runs on the tiny offline llama: the run folder, reproducibility, resume, schedules, two
learners. The tiny model cannot learn the game in a few steps, so these tests check plumbing and exactness, not
learning (the demo and docs/training.md show learning with the embedded model)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file

from llm_agents.agent.config import GenerationConfig
from llm_agents.ppo import PPOConfig
from llm_agents.training import TrainConfig, config_from_dict, load_config, train
from llm_agents.training import runner as runner_module
from llm_agents.training.run_folder import read_jsonl
from matrix_games import codec
from matrix_games.actions import move_name
from matrix_games.rewards import register_reward
from matrix_games.rounds import History
from matrix_games.strategies import make_strategy

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def round_logs(path: Path) -> list:
    """The run's rounds.jsonl as RoundLogs."""
    return codec.read_jsonl(path / "rounds.jsonl")


def ppo_lines(path: Path) -> list[dict]:
    """ppo.jsonl without the timings (the only thing allowed to differ between identical runs)."""
    return [{k: v for k, v in line.items() if not k.startswith("time/")} for line in read_jsonl(path / "ppo.jsonl")]


def adapter_weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(folder / "adapter_model.safetensors")


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def interrupted(config, monkeypatch, at: int = 3) -> None:
    """Train ``config`` until episode ``at``'s rounds and update are logged but no checkpoint covers them, then stop
    it as Ctrl-C would (a KeyboardInterrupt out of the checkpoint)."""
    real_checkpoint = runner_module._checkpoint

    def interrupt(folder, done, *args, **kwargs):
        if done == at:
            raise KeyboardInterrupt
        real_checkpoint(folder, done, *args, **kwargs)

    monkeypatch.setattr(runner_module, "_checkpoint", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(config)
    monkeypatch.setattr(runner_module, "_checkpoint", real_checkpoint)


def test_run_writes_every_file(make_config, tiny_llama_dir):
    config = make_config()
    result = train(config)
    root = result.output_dir
    logs = round_logs(root)
    assert len(logs) == 3 * 2 * 2  # episodes x rounds x games
    assert {(log.episode, log.match, log.round) for log in logs} == {
        (e, g, r) for e in range(3) for g in range(2) for r in range(2)
    }
    for log in logs:
        assert move_name(log.action) in ("C", "D", "illegal")
        assert log.legal == (log.action != 2)
        assert log.reward == log.rewards["deontological"]
        assert isinstance(log.answer, str) and log.game == "IPD-v0" and log.section == "train"
    ppo = ppo_lines(root)
    assert [line["episode"] for line in ppo] == [0, 1, 2]
    assert all(line["player"] == "player_0" and "objective/kl" in line for line in ppo)
    assert load_config(root / "config.yaml") == config
    assert (root / "action_types.png").stat().st_size > 10_000
    summary = json.loads((root / "summary.json").read_text())
    assert set(summary["player_0"]) == {"first", "last"}
    assert summary["player_0"]["first"]["rounds"] == 4
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == [f"episode_0000{i}" for i in (1, 2, 3)]
    # Only the newest checkpoint keeps the (large) training state; every one keeps its adapter.
    assert not (root / "checkpoints" / "episode_00001" / "state").exists()
    assert (root / "checkpoints" / "episode_00003" / "state" / "trainer_player_0.pt").is_file()
    # The final adapter is a peft folder that loads onto the base model and differs from a fresh adapter.
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    loaded = PeftModel.from_pretrained(base, result.adapters["player_0"])
    lora_b = [p for name, p in loaded.named_parameters() if "lora_B" in name]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)
    assert_same_weights(
        adapter_weights(result.adapters["player_0"]),
        adapter_weights(root / "checkpoints" / "episode_00003" / "adapters" / "player_0"),
    )


def test_one_token_answers_that_are_all_illegal_do_not_stop_a_run(make_config):
    # One-token answers with identical scores give identical returns (variance 0) in the first update.
    result = train(make_config(episodes=1, games_per_update=1, generation=GenerationConfig()))
    (line,) = ppo_lines(result.output_dir)
    assert line["tokens/responses_len_mean"] == 1.0
    assert line["ppo/returns/var"] == 0.0


def test_same_seed_gives_identical_logs_and_adapters(make_config):
    first, second = train(make_config("a")), train(make_config("b"))
    assert (first.output_dir / "rounds.jsonl").read_text() == (second.output_dir / "rounds.jsonl").read_text()
    assert ppo_lines(first.output_dir) == ppo_lines(second.output_dir)
    assert_same_weights(adapter_weights(first.adapters["player_0"]), adapter_weights(second.adapters["player_0"]))
    other = train(make_config("c", seed=1))
    assert (other.output_dir / "rounds.jsonl").read_text() != (first.output_dir / "rounds.jsonl").read_text()


def test_resume_after_interruption_equals_an_uninterrupted_run(make_config, monkeypatch):
    reference = train(make_config("uninterrupted", episodes=4, checkpoint_every=2))

    config = make_config("interrupted", episodes=4, checkpoint_every=1)
    interrupted(config, monkeypatch)
    root = config.output_dir
    assert len(round_logs(root)) == 3 * 2 * 2

    with pytest.raises(ValueError, match="already holds a run"):
        train(config)
    resumed = train(config.replace(resume=True))
    assert (root / "rounds.jsonl").read_text() == (reference.output_dir / "rounds.jsonl").read_text()
    assert ppo_lines(root) == ppo_lines(reference.output_dir)
    assert_same_weights(adapter_weights(resumed.adapters["player_0"]), adapter_weights(reference.adapters["player_0"]))


def test_resume_refuses_a_different_config(make_config):
    config = make_config(episodes=1)
    train(config)
    with pytest.raises(ValueError, match="reward"):
        train(config.replace(resume=True, reward="utilitarian"))
    extended = train(config.replace(resume=True, episodes=2))  # more episodes is allowed
    assert [line["episode"] for line in ppo_lines(extended.output_dir)] == [0, 1]
    with pytest.raises(ValueError, match="beyond episodes=1"):
        train(config.replace(resume=True))


def test_reward_schedule_switches_reward_and_optionally_resets(make_config):
    kept = train(make_config("kept", reward="game:2,utilitarian:1"))
    for log in round_logs(kept.output_dir):
        expected = "game" if log.episode < 2 else "utilitarian"
        assert log.reward_name == expected
        assert log.reward == log.rewards[expected]
    assert [line["reward_name"] for line in ppo_lines(kept.output_dir)] == ["game", "game", "utilitarian"]

    reset = train(make_config("reset", reward="game:2,utilitarian:1", reset_at_switch="optimizer_and_score_stats"))
    kept_ppo, reset_ppo = ppo_lines(kept.output_dir), ppo_lines(reset.output_dir)
    assert kept_ppo[:2] == reset_ppo[:2]  # identical until the switch
    assert kept_ppo[2] != reset_ppo[2]  # a fresh Adam state makes the step after the switch differ
    kept_weights, reset_weights = (adapter_weights(run.adapters["player_0"]) for run in (kept, reset))
    assert any(not torch.equal(kept_weights[key], reset_weights[key]) for key in kept_weights)


def test_llm_opponent_trains_two_adapters_on_one_base_model(make_config, monkeypatch):
    models = []
    real_build = runner_module._build_learners

    def spy(model, tokenizer, config):
        learners = real_build(model, tokenizer, config)
        models.append(learners.model)
        return learners

    monkeypatch.setattr(runner_module, "_build_learners", spy)
    result = train(make_config(opponent="llm", rounds_per_episode=None, episodes=2))
    assert result.config.num_rounds == 3  # the paper's episode against an LLM
    (peft_model,) = models
    assert sorted(peft_model.peft_config) == ["player_0", "player_1"]
    logs = round_logs(result.output_dir)
    by_key = {(log.episode, log.match, log.round, log.player): log for log in logs}
    assert len(logs) == 2 * 2 * 3 * 2
    for (episode, game, round_index, player), log in by_key.items():
        other = by_key[(episode, game, round_index, "player_1" if player == "player_0" else "player_0")]
        assert log.opponent_action == other.action
        assert log.opponent_previous_action == other.previous_action
        assert log.outcome == other.outcome.seen_by(log.outcome.player)
    assert sorted((line["episode"], line["player"]) for line in ppo_lines(result.output_dir)) == [
        (0, "player_0"),
        (0, "player_1"),
        (1, "player_0"),
        (1, "player_1"),
    ]
    first, second = (adapter_weights(result.adapters[p]) for p in ("player_0", "player_1"))
    assert any(not torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"opponent": "tit_for_tatt"}, "Did you mean 'tit_for_tat'"),
        ({"reward": "utilitarianism"}, "Did you mean 'utilitarian'"),
        ({"reward": "game:500,deontological:x"}, "episode count must be an integer"),
        ({"reward": "game:500,deontological:500", "episodes": 100}, "covers 1000 episodes"),
        ({"reward": "game:500,deontological", "episodes": 400}, "last phase would never run"),
        ({"game": "IPD-v1"}, "Did you mean 'IPD-v0'"),
        ({"games_per_update": 0}, "games_per_update must be an integer >= 1"),
        ({"rounds_per_episode": -1}, "rounds_per_episode must be an integer >= 1"),
        ({"reset_at_switch": "everything"}, "reset_at_switch"),
        ({"tracker": "tensorbord"}, "Did you mean 'tensorboard'"),
        ({"labels": ("action1", "action1")}, "two different labels"),
        ({"illegal_reward": float("nan")}, "illegal_reward must be a finite number"),
        ({"games_per_update": 1, "ppo_minibatches": 2}, "cannot be split into ppo_minibatches=2"),
        ({"model": {"lora": {"r": 0}}}, "model.lora.r must be an integer"),
        ({"ppo": {"learnin_rate": 1e-4}}, "Did you mean 'ppo.learning_rate'"),
        ({"checkpoint_evry": 3}, "Did you mean 'checkpoint_every'"),
    ],
)
def test_bad_config_values_give_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_from_dict(changes)


def test_config_defaults_are_the_papers():
    config = TrainConfig()
    assert (config.num_rounds, config.num_episodes, config.games_per_update) == (5, 1000, 1)
    assert (config.ppo_for(0).batch_size, config.ppo.learning_rate, config.ppo.init_kl_coef) == (5, 1.41e-5, 0.2)
    assert (config.model.lora.r, config.labels, config.illegal_reward) == (64, ("action1", "action2"), -6.0)
    assert config.reset_at_switch == "nothing"
    unlearning = TrainConfig(reward="game:500,deontological:500", opponent="llm", games_per_update=4)
    assert (unlearning.num_episodes, unlearning.num_rounds, unlearning.ppo_for(0).batch_size) == (1000, 3, 12)
    assert (
        unlearning.ppo_for(0).seed == TrainConfig(opponent="llm").ppo_for(0).seed != TrainConfig(seed=1).ppo_for(0).seed
    )
    assert unlearning.ppo_for(1).seed == unlearning.ppo_for(0).seed + 1


def test_the_config_holds_what_was_asked_and_derives_the_rest():
    config = TrainConfig(games_per_update=4, ppo_minibatches=2)
    assert (config.rounds_per_episode, config.episodes, config.ppo.batch_size, config.ppo.seed) == (None,) * 4
    resolved = config.ppo_for(0)
    assert (resolved.batch_size, resolved.mini_batch_size) == (20, 10)
    with pytest.raises(ValueError, match=r"ppo\.batch_size is derived from the run"):
        TrainConfig(ppo=PPOConfig(batch_size=7))


def test_cli_flags_override_the_config_file_and_the_resolved_config_is_saved(tiny_llama_dir, tmp_path, capsys):
    import yaml

    from llm_agents.cli import main

    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "reward": "utilitarian",
                "episodes": 5,
                "rounds_per_episode": 2,
                "model": {"name": str(tiny_llama_dir), "device": "cpu", "lora": {"r": 2, "alpha": 4}},
                "generation": {"max_new_tokens": 2},
                "ppo": {"learning_rate": "1e-4"},
            }
        )
    )
    out = tmp_path / "cli_run"
    argv = ["train", "--config", str(config_file), "--episodes", "1", "--output-dir", str(out), "--no-progress"]
    assert main([*argv, "--set", "ppo.init_kl_coef=0.05", "--labels", "C", "D"]) == 0
    saved = load_config(out / "config.yaml")
    assert (saved.episodes, saved.reward, saved.labels) == (1, "utilitarian", ("C", "D"))
    assert (saved.ppo.learning_rate, saved.ppo.init_kl_coef, saved.model.lora.r) == (1e-4, 0.05, 2)
    assert "cooperation_rate" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(argv)  # the folder holds a run now
    assert exit_info.value.code == 2
    assert "already holds a run" in capsys.readouterr().err


CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize(
    "path", sorted(p for p in CONFIGS.glob("**/*.yaml") if p.parent.name != "grids"), ids=lambda p: p.name
)
def test_shipped_configs_are_valid(path):
    config = load_config(path)
    if path.parent.name == "paper":
        assert (config.model.name, config.model.quantization, config.model.lora.r) == (
            "google/gemma-2-2b-it",
            "4bit",
            64,
        )
        assert (config.num_episodes, config.ppo.learning_rate, config.labels) == (1000, 1.41e-5, ("action1", "action2"))
        assert config.ppo_for(0).batch_size == (3 if config.opponent == "llm" else 5)
        assert config.output_dir == Path("runs/paper") / path.stem


def test_demo_script_runs_end_to_end_on_the_tiny_model(tiny_llama_dir, tmp_path):
    import os
    import subprocess
    import sys

    import yaml

    config_file = tmp_path / "demo.yaml"
    demo = yaml.safe_load((CONFIGS / "demo.yaml").read_text())
    demo.update(episodes=2, games_per_update=1, rounds_per_episode=2)
    demo["model"].update(name=str(tiny_llama_dir), dtype="float32")
    config_file.write_text(yaml.safe_dump(demo))
    out = tmp_path / "demo_run"
    script = CONFIGS.parent / "examples" / "train_demo.py"
    command = [sys.executable, str(script), "--config", str(config_file), "--output-dir", str(out), "--eval-games", "2"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=environment)
    assert result.returncode == 0, result.stderr
    assert "base model" in result.stdout and "fine-tuned" in result.stdout
    assert "Loading weights" not in result.stderr and "FutureWarning" not in result.stderr  # quiet, as the CLI
    evaluation = json.loads((out / "demo_evaluation.json").read_text())
    assert evaluation["base_model"]["rounds"] == evaluation["fine_tuned"]["rounds"] == 2 * 2
    assert (out / "action_types.png").is_file() and (out / "adapters" / "player_0" / "adapter_config.json").is_file()


@pytest.mark.parametrize("name", ["tensorboard", "wandb"])
def test_a_missing_tracker_package_says_how_to_install_it(name, tmp_path):
    import importlib.util

    from llm_agents.training.trackers import make_tracker

    if importlib.util.find_spec(name) is not None:
        pytest.skip(f"{name} is installed")
    with pytest.raises(ImportError, match=f"pip install {name}"):
        make_tracker(name, tmp_path, {})


def contribution_bonus(outcome) -> float:
    """A user's own reward: the round's payoff, plus 5 for contributing."""
    return outcome.payoff + (5.0 if outcome.action == 0 else 0.0)


def test_public_goods_against_strategies_with_a_registered_reward(make_config):
    register_reward("test_contribution_bonus", contribution_bonus, replace=True)
    config = make_config(
        game="PublicGoods-v0",
        game_parameters={"num_players": 3},
        opponent="conditional_cooperator",
        reward="test_contribution_bonus",
        seed=1,  # the tiny model then answers a label in some rounds
        labels=("action", "answer"),
        rounds_per_episode=3,
        games_per_update=4,
        episodes=2,
        generation=GenerationConfig(max_new_tokens=1),
    )
    result = train(config)
    assert load_config(result.output_dir / "config.yaml").reward == "test_contribution_bonus"
    logs = round_logs(result.output_dir)
    assert len(logs) == 2 * 4 * 3 and {log.player for log in logs} == {"player_0"}
    legal = [log for log in logs if not log.outcome.is_illegal]
    assert 0 < len(legal) < len(logs)  # the user's function scored the legal answers
    strategy, rng = make_strategy("conditional_cooperator"), np.random.default_rng(0)
    for log in logs:
        outcome = log.outcome
        assert outcome.num_players == 3 and log.game == "PublicGoods-v0"
        expected = -6.0 if outcome.is_illegal else contribution_bonus(outcome)
        assert log.reward == pytest.approx(expected)
        for seat in (1, 2):  # the others are conditional cooperators reacting to the state the round started from
            assert outcome.actions[seat] == strategy.act(History.of_player(seat, [outcome.previous_actions]), rng)


def test_public_goods_with_every_player_learning(make_config):
    config = make_config(
        game="PublicGoods-v0",
        game_parameters={"num_players": 3, "multiplier": 2.0},
        opponent="llm",
        rounds_per_episode=None,
        episodes=2,
    )
    assert config.learners == ("player_0", "player_1", "player_2")
    result = train(config)
    assert sorted(result.adapters) == list(config.learners)
    logs = round_logs(result.output_dir)
    assert len(logs) == 2 * 2 * 3 * 3  # episodes x games x rounds (3 against LLMs) x players
    by_key = {(log.episode, log.match, log.round, log.player): log for log in logs}
    for (episode, game, round_index, _), log in by_key.items():
        for other in config.learners:
            seen = by_key[(episode, game, round_index, other)].outcome
            assert log.outcome == seen.seen_by(log.outcome.player)
    assert {(line["episode"], line["player"]) for line in ppo_lines(result.output_dir)} == {
        (episode, player) for episode in range(2) for player in config.learners
    }
    weights = [adapter_weights(result.adapters[player]) for player in config.learners]
    assert all(any(not torch.equal(a[k], b[k]) for k in a) for a, b in itertools.combinations(weights, 2))


@pytest.mark.parametrize("path", sorted((CONFIGS / "grids").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_grids_are_valid(path, monkeypatch):
    from llm_agents.grid import load_grid

    monkeypatch.chdir(CONFIGS.parent)  # their base configs are named from the repository's root
    grid = load_grid(path)
    assert grid.trials and len({trial.name for trial in grid.trials}) == len(grid.trials)
    assert all(trial.evaluation is not None for trial in grid.trials) and grid.report
