"""``algorithm: grpo`` in the training runner: two learners, a reward schedule, checkpoints and an exact resume, on the
tiny model; and GRPO's statistics are what its maths say."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llm_agents.grpo import maths
from llm_agents.grpo.config import GRPOConfig
from llm_agents.grpo.trainer import GRPOTrainer
from llm_agents.training.run_folder import read_jsonl
from llm_agents.training.runner import train
from tests.llm_agents.test_training import adapter_weights, assert_same_weights, interrupted


def grpo(make_config, name, **changes):
    settings = dict(algorithm="grpo", grpo=GRPOConfig(learning_rate=5e-3, beta=0.04), reward="game:2,utilitarian:2")
    settings.update(changes)
    return make_config(name, **{"episodes": 4, **settings})


def grpo_lines(path) -> list[dict]:
    """A GRPO run's statistics: its own log, grpo.jsonl."""
    return list(read_jsonl(path / "grpo.jsonl"))


def test_grpo_with_two_learners_and_a_schedule_resumes_exactly(make_config, monkeypatch):
    reference = train(grpo(make_config, "uninterrupted", opponent="llm", checkpoint_every=2))
    lines = grpo_lines(reference.output_dir)
    assert [(line["episode"], line["player"]) for line in lines][:4] == [
        (0, "player_0"),
        (0, "player_1"),
        (1, "player_0"),
        (1, "player_1"),
    ]
    assert [line["reward_name"] for line in lines[::2]] == ["game", "game", "utilitarian", "utilitarian"]
    assert all("grpo/loss" in line and "ppo/loss/value" not in line for line in lines)
    start = adapter_weights(reference.adapters["player_0"])

    config = grpo(make_config, "interrupted", opponent="llm", checkpoint_every=1)
    interrupted(config, monkeypatch)
    resumed = train(config.replace(resume=True))
    assert (resumed.output_dir / "rounds.jsonl").read_text() == (reference.output_dir / "rounds.jsonl").read_text()
    strip = [{k: v for k, v in line.items() if not k.startswith("time/")} for line in grpo_lines(resumed.output_dir)]
    assert strip == [{k: v for k, v in line.items() if not k.startswith("time/")} for line in lines]
    for player in ("player_0", "player_1"):
        assert_same_weights(adapter_weights(resumed.adapters[player]), adapter_weights(reference.adapters[player]))
    assert start  # the adapter was saved


def test_grpo_groups_the_rounds_of_an_update_by_their_prompt(make_config, monkeypatch):
    seen = []
    real_step = GRPOTrainer.step

    def recording_step(self, queries, responses, scores):
        seen.append(([tuple(q.tolist()) for q in queries], list(scores)))
        return real_step(self, queries, responses, scores)

    monkeypatch.setattr(GRPOTrainer, "step", recording_step)
    run = train(grpo(make_config, "groups", reward="utilitarian", episodes=1, games_per_update=4))
    line = grpo_lines(run.output_dir)[0]
    queries, scores = seen[0]
    assert len(queries) == 8 and 1 < line["grpo/groups"] == len(set(queries)) < 8  # prompts repeat within an update
    ids = torch.tensor([sorted(set(queries), key=queries.index).index(q) for q in queries])
    advantages, alone = maths.group_advantages(torch.tensor(scores), ids)
    assert line["grpo/groups/alone"] == alone
    assert line["grpo/advantages/mean_abs"] == pytest.approx(float(advantages.abs().mean()), abs=1e-6)
    assert line["env/reward_mean"] == pytest.approx(sum(scores) / len(scores))
    timed = next(read_jsonl(run.output_dir / "grpo.jsonl"))  # the benchmark's split of a step
    parts = [timed[f"time/grpo/{part}"] for part in ("ref_forward_pass", "old_forward_pass", "optimize_step")]
    assert all(t >= 0 for t in parts) and sum(parts) <= timed["time/grpo/total"]


def test_a_grpo_checkpoint_does_not_resume_as_ppo(make_config):
    config = grpo(make_config, "mixed", reward="game", episodes=1)
    train(config)
    with pytest.raises(ValueError, match="algorithm"):
        train(config.replace(resume=True, episodes=2, algorithm="ppo"))


def test_bad_grpo_settings_are_named():
    with pytest.raises(ValueError, match=r"grpo\.loss_type"):
        GRPOConfig(loss_type="ppo")
    with pytest.raises(ValueError, match=r"grpo\.num_iterations"):
        GRPOConfig(num_iterations=0)


def text_ipd(reward: str, **settings):
    """The IPD against tit-for-tat as the TRL bridge should see it, built straight from gymnasium.make."""
    import gymnasium

    return gymnasium.make(
        "matrix_games/IPD-v0",
        opponent="tit_for_tat",
        reward=reward,
        observation_type="text",
        action_labels=("C", "D"),
        allow_illegal=True,
        **settings,
    )


def test_trl_reward_function_plays_each_answer_in_its_state():
    pytest.importorskip("datasets")
    from llm_agents.integrations.trl import GameReward, state_dataset

    dataset = state_dataset(opponent="tit_for_tat", num_states=6, seed=1)
    reward = GameReward(opponent="tit_for_tat", reward="deontological")
    for row in dataset:
        env = text_ipd("deontological")
        prompt, info = env.reset(seed=row["env_seed"])
        assert row["prompt"] == [{"role": "user", "content": prompt}]
        got = reward(prompts=[row["prompt"]] * 3, completions=["D", "C", "maybe"], env_seed=[row["env_seed"]] * 3)
        betrayal = -3.0 if info["opponent_previous_action"] == 0 else 0.0
        assert got == [betrayal, 0.0, -6.0]


def test_trl_episode_rollout_credits_each_answer_with_its_episodes_return(make_lora_model, tiny_tokenizer):
    pytest.importorskip("datasets")
    from types import SimpleNamespace

    from llm_agents.agent.chat import encode_prompts
    from llm_agents.agent.parsing import parse_action
    from llm_agents.integrations.trl import EpisodeReturn, EpisodeRollout, state_dataset

    dataset = state_dataset(opponent="tit_for_tat", num_states=6, seed=2)
    rollout = EpisodeRollout(dataset, opponent="tit_for_tat", reward="utilitarian", rounds=3, discount=0.5)
    trainer = SimpleNamespace(
        model=make_lora_model(),
        processing_class=tiny_tokenizer,
        args=SimpleNamespace(temperature=1.0, seed=0),
        state=SimpleNamespace(global_step=0),
    )
    prompts = list(dataset["prompt"]) * 2  # TRL repeats each prompt num_generations times
    output = rollout(prompts, trainer)
    assert all(len(output[key]) == 12 for key in ("prompt_ids", "completion_ids", "logprobs", "episode_return"))
    for index, prompt in enumerate(prompts):
        ids = encode_prompts([prompt[-1]["content"]], tiny_tokenizer)[1][0]
        assert output["prompt_ids"][index] == ids
        assert len(output["logprobs"][index]) == len(output["completion_ids"][index])
        actions = output["episode_actions"][index]
        first = parse_action(
            tiny_tokenizer.decode(output["completion_ids"][index], skip_special_tokens=True), ("C", "D")
        )
        assert len(actions) == 3 and actions[0] == (2 if first is None else first)
        env = text_ipd("utilitarian", num_rounds=3)
        env.reset(seed=dataset[index % 6]["env_seed"])
        replayed = sum(0.5**k * float(env.step(action)[1]) for k, action in enumerate(actions))
        assert output["episode_return"][index] == pytest.approx(replayed)
    assert EpisodeReturn()(prompts, [None] * 12, episode_return=output["episode_return"]) == output["episode_return"]
    with pytest.raises(ValueError, match="not in its dataset"):
        rollout([[{"role": "user", "content": "another game"}]], trainer)


def test_the_comparison_example_tabulates_and_plots_a_grids_runs(make_config, tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "examples" / "grpo" / "compare.py"
    spec = importlib.util.spec_from_file_location("compare", path)
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    grid = tmp_path / "grid"
    for name, changes in (("ppo_utilitarian", {}), ("grpo_utilitarian", {"algorithm": "grpo"})):
        for seed in (1, 2):
            folder = grid / "train" / name / f"seed{seed}"
            train(make_config(str(folder), reward="utilitarian", seed=seed, episodes=2, **changes))
    assert compare.main([str(grid), "--at", "1,2,3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split(" | ")[0].strip("| "): line for line in lines if line.startswith("| ") and "seeds" not in line}
    assert set(rows) == {"ppo_utilitarian", "grpo_utilitarian"}
    runs = compare.load(grid)
    cooperation = np.mean([seed["cooperation"] for seed in runs["ppo_utilitarian"]], axis=0)
    assert f"{cooperation[0]:.2f} / " in rows["ppo_utilitarian"] and rows["ppo_utilitarian"].split(" | ")[1] == "2"
    assert " - " in rows["grpo_utilitarian"]  # update 3 does not exist
    assert (grid / "compare.png").stat().st_size > 10_000
