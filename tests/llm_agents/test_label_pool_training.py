"""Training with a label pool (every game draws its labels) and GRPO with several answers per state, on the tiny
model: prompts show the drawn labels, answers are read with them, runs resume exactly, the extra answers are scored
against the opponent's actual move, and a pool-trained adapter refuses test labels from its pool."""

from __future__ import annotations

import pytest
import torch

from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.models import load_model
from llm_agents.agent.parsing import parse_action
from llm_agents.evaluation.llm_policy import load_llm_policy
from llm_agents.evaluation.policies import Observation
from llm_agents.grpo.config import GRPOConfig
from llm_agents.grpo.trainer import GRPOTrainer
from llm_agents.training import load_config, save_config, train
from llm_agents.training.run_folder import read_jsonl
from matrix_games.core.rounds import with_own_action
from matrix_games.rewards import make_reward_fn
from matrix_games.text.label_pools import LabelPool
from tests.llm_agents.test_training import adapter_weights, assert_same_weights, interrupted, ppo_lines, round_logs

POOL = [["C", "D"], ["action1", "action2"], ["1", "2"], ["3", "4"]]  # words of the tiny tokenizer


@pytest.mark.parametrize("opponent", ["tit_for_tat", "llm"])
def test_every_game_draws_its_labels_from_the_pool_and_is_read_with_them(make_config, monkeypatch, opponent):
    seen = []
    real_respond = LLMAgent.respond

    def recording_respond(self, observations, labels=None):
        records = real_respond(self, observations, labels=labels)
        seen.extend(zip(observations, labels, records, strict=True))
        return records

    monkeypatch.setattr(LLMAgent, "respond", recording_respond)
    run = train(make_config("pool", labels=POOL, episodes=3, games_per_update=4, opponent=opponent))
    logs = round_logs(run.output_dir)
    by_game = {}
    for log in logs:  # both learners of a game read the same pair
        assert by_game.setdefault((log.episode, log.match), log.labels) == log.labels
    assert len({log.labels for log in logs}) >= 3  # the games of a run use several pairs
    for text, pair, record in seen:  # each prompt names its game's pair (and no other "action" pair)
        assert pair[0] in text and pair[1] in text
        assert all(other[0] not in text for other in POOL if other[0].startswith("action") and tuple(other) != pair)
        assert record.parsed == parse_action(record.completion_text, pair)
    for log in logs:  # a round is scored with the action its own game's labels give the answer
        assert log.labels in {tuple(p) for p in POOL}
        parsed = parse_action(log.answer, log.labels)
        assert log.outcome.action == (2 if parsed is None else parsed)


def test_a_pool_run_saves_its_pool_and_resumes_exactly(make_config, monkeypatch, tmp_path):
    settings = dict(labels={"pairs": POOL}, episodes=4, games_per_update=3)
    reference = train(make_config("uninterrupted", checkpoint_every=2, **settings))
    saved = load_config(reference.output_dir / "config.yaml")
    assert saved.labels == LabelPool(pairs=tuple(tuple(p) for p in POOL)) == reference.config.labels

    config = make_config("interrupted", checkpoint_every=1, **settings)
    interrupted(config, monkeypatch)
    resumed = train(config.replace(resume=True))
    assert (resumed.output_dir / "rounds.jsonl").read_text() == (reference.output_dir / "rounds.jsonl").read_text()
    assert ppo_lines(resumed.output_dir) == ppo_lines(reference.output_dir)
    assert_same_weights(adapter_weights(resumed.adapters["player_0"]), adapter_weights(reference.adapters["player_0"]))
    save_config(saved, tmp_path / "again.yaml")
    assert load_config(tmp_path / "again.yaml") == saved


def test_a_pool_trained_adapter_refuses_test_labels_from_its_pool(make_config, tiny_llama_dir):
    run = train(make_config("pool", labels=POOL, episodes=1))
    policy = load_llm_policy(model=str(tiny_llama_dir), adapter=run.output_dir, device="cpu", dtype="float32")
    observation = Observation("round 1 : C or D ?", None, None, ("action1", "action2"))
    with pytest.raises(ValueError, match=r"include \['action1', 'action2'\], which the adapter .* trained on"):
        policy.act([observation])
    assert len(policy.act([Observation("round 1 : 5 or 6 ?", None, None, ("5", "6"))])) == 1


def test_grpo_samples_several_answers_per_state_and_scores_each_against_the_actual_move(make_config, monkeypatch):
    steps = []
    real_step = GRPOTrainer.step

    def recording_step(self, queries, responses, scores):
        steps.append((list(queries), list(responses), list(scores)))
        return real_step(self, queries, responses, scores)

    monkeypatch.setattr(GRPOTrainer, "step", recording_step)
    grpo = GRPOConfig(learning_rate=5e-3, num_generations=3)
    config = make_config("groups", algorithm="grpo", grpo=grpo, reward="utilitarian", episodes=2, labels=POOL)
    run = train(config)
    assert config.samples_per_update == 2 * 2 * 3
    logs = round_logs(run.output_dir)
    assert len(logs) == 2 * 2 * 2  # only the played answers are logged
    reward = make_reward_fn("utilitarian", illegal_reward=config.illegal_reward)
    tokenizer = load_model(config.model)[1]
    for episode, (queries, responses, scores) in enumerate(steps):
        assert len(queries) == 12
        episode_logs = [log for log in logs if log.episode == episode]
        for index, log in enumerate(episode_logs):  # rows: each game's played answer, then its two alternatives
            group = range(3 * index, 3 * index + 3)
            assert all(torch.equal(queries[i], queries[3 * index]) for i in group)
            assert scores[3 * index] == pytest.approx(log.reward)
            for i in group:
                text = tokenizer.decode(responses[i], skip_special_tokens=True)
                parsed = parse_action(text, log.labels)
                outcome = with_own_action(
                    config.stage_game, log.outcome, 2 if parsed is None else parsed, illegal_reward=-6.0
                )
                assert scores[i] == pytest.approx(float(reward(outcome)))
    assert all(line["grpo/groups/alone"] == 0 for line in read_jsonl(run.output_dir / "grpo.jsonl"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(grpo=GRPOConfig(num_generations=2)), r"num_generations is 2 but algorithm is 'ppo'"),
        (dict(algorithm="grpo", games_per_update=1, rounds_per_episode=1), r"num_generations 1 and one answer"),
        (dict(grpo={"num_generations": 0}, algorithm="grpo"), r"grpo.num_generations must be an integer >= 1"),
        (dict(labels=[["C", "D"], ["D", "C"]]), r"overlaps with pair 0"),
    ],
)
def test_bad_group_and_pool_settings_are_named(make_config, changes, message):
    with pytest.raises(ValueError, match=message):
        if isinstance(changes.get("grpo"), dict):
            changes = {**changes, "grpo": GRPOConfig(**changes["grpo"])}
        make_config("bad", **changes)


def test_a_pool_label_longer_than_max_new_tokens_is_refused_before_episode_0(make_config):
    """Every label of the pool is checked at the start, not when a game first draws it (perhaps hours later)."""
    from llm_agents.agent.config import GenerationConfig

    pool = [*POOL, ["C D", "D C"]]  # two tokens each in the tiny tokenizer
    config = make_config("long", labels=pool, generation=GenerationConfig(max_new_tokens=1))
    with pytest.raises(ValueError, match=r"generation\.max_new_tokens is 1, but the label 'C D' takes 2 tokens"):
        train(config)
    assert not (config.output_dir / "rounds.jsonl").exists()
    train(make_config("fits", labels=pool, episodes=1, generation=GenerationConfig(max_new_tokens=2)))
