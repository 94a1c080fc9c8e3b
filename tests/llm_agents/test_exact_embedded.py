"""The exact analysis agrees with sampling on the embedded SmolLM2 (the base model and a demo-trained adapter): per
prompt, 2,000 sampled answers against the exact probabilities (a chi-square test over the prompts, p >= 0.001), and a
long sampled test protocol within 4 standard errors of the exact one. Slow: it loads the model and trains 8 updates.

The model runs in float32 here: in bfloat16 a prompt's next-token distribution moves with what else shares its
forward pass (by up to a few percent, docs/analysis.md), so sampling itself has no single distribution to agree with.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from llm_agents.agent.config import GenerationConfig, LoRAConfig, ModelConfig
from llm_agents.agent.generation import sample_completions
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.models import load_model
from llm_agents.agent.parsing import parse_action
from llm_agents.analysis.table import analyse_policy
from llm_agents.evaluation import EvaluationConfig, evaluate, play
from llm_agents.evaluation.llm_policy import load_llm_policy
from llm_agents.sequences.decoding import PrefixCache
from llm_agents.training import TrainConfig, train
from matrix_games.core.actions import ILLEGAL, C
from matrix_games.envs.settings import GameSettings
from matrix_games.metrics import deontological_regret, utilitarian_regret

pytestmark = pytest.mark.slow

SAMPLES = 2000
SETTINGS = GameSettings(observation_type="text", action_labels=("C", "D"))


@pytest.fixture(scope="module")
def base():
    torch.set_num_threads(max(1, torch.get_num_threads()))
    return load_model(ModelConfig(device="cpu", dtype="float32"))


@pytest.fixture(scope="module")
def demo_adapter(tmp_path_factory, base):
    """The demo's settings (configs/demo.yaml) for 8 updates: a policy between illegal and legal, C and D."""
    config = TrainConfig(
        reward="utilitarian",
        games_per_update=4,
        episodes=8,
        seed=0,
        labels=("C", "D"),
        output_dir=tmp_path_factory.mktemp("exact") / "demo",
        checkpoint_every=0,
        analysis_every=0,
        progress=False,
        model=ModelConfig(device="cpu", lora=LoRAConfig(r=8, alpha=16, dropout=0.0)),
    )
    config = config.replace(ppo=dataclasses.replace(config.ppo, learning_rate=5e-4, ppo_epochs=1, init_kl_coef=0.05))
    return train(config).output_dir


def sampled_counts(agent: LLMAgent, prompt_ids: list[tuple[int, ...]]) -> np.ndarray:
    """(prompts, 3) counts of C, D and illegal answers in ``SAMPLES`` samples of each prompt (its token ids as the
    table holds them, sampled and parsed as the agent samples and parses)."""
    counts = np.zeros((len(prompt_ids), 3))
    cache = PrefixCache()
    with agent.acting():
        for index, prompt in enumerate(prompt_ids):
            for start in range(0, SAMPLES, 500):
                samples = sample_completions(
                    agent.model,
                    agent.tokenizer,
                    [list(prompt)] * min(500, SAMPLES - start),
                    generator=agent.generator,
                    config=agent.generation,
                    labels=agent.labels,
                    cache=cache,
                )
                for sample in samples:
                    parsed = parse_action(sample.text, agent.labels, agent.parse_mode)
                    counts[index, 2 if parsed is None else parsed] += 1
    return counts


def chi_square_p(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """The p-value of the counts under the probabilities, over every prompt (outcomes expected fewer than 5 times
    are pooled with the illegal ones, as the test requires)."""
    statistic, freedom = 0.0, 0
    for observed, p in zip(counts, probabilities, strict=True):
        expected = SAMPLES * p
        keep = expected >= 5
        keep[2] = True
        pooled_observed = np.append(observed[keep][:-1], observed[~keep].sum() + observed[2])
        pooled_expected = np.append(expected[keep][:-1], expected[~keep].sum() + expected[2])
        statistic += float(((pooled_observed - pooled_expected) ** 2 / pooled_expected).sum())
        freedom += len(pooled_expected) - 1
    return float(chi2.sf(statistic, freedom))


@pytest.mark.parametrize(
    ("which", "generation", "mode"),
    [
        ("base", GenerationConfig(), "strict"),
        ("adapter", GenerationConfig(), "strict"),
        ("adapter", GenerationConfig(max_new_tokens=3, top_k=8), "lenient"),
    ],
    ids=["base", "demo adapter", "demo adapter, lenient, 3 tokens, top-k 8"],
)
def test_sampled_answers_agree_with_the_exact_probabilities(base, demo_adapter, which, generation, mode):
    if which == "base":
        model, tokenizer = base
        agent = LLMAgent(model, tokenizer, labels=("C", "D"), generation=generation, parse_mode=mode, seed=1)
    else:
        loaded = load_llm_policy(adapter=demo_adapter, device="cpu", dtype="float32", seed=1).agent
        agent = LLMAgent(
            loaded.model, loaded.tokenizer, labels=("C", "D"), generation=generation, parse_mode=mode, seed=1
        )
    table = analyse_policy(agent, SETTINGS, "IPD-v0")
    probabilities = np.array([[row.p_c, row.p_d, row.p_illegal] for row in table.rows])
    counts = sampled_counts(agent, [row.input_ids for row in table.rows])
    assert chi_square_p(counts, probabilities) >= 0.001
    if which == "adapter":  # the trained policy answers legally often enough for the test to have power
        assert probabilities[:, :2].sum(axis=1).min() > 0.1


def test_a_long_sampled_protocol_lies_within_four_standard_errors_of_the_exact_one(demo_adapter):
    config = EvaluationConfig(episodes=120, labels=("C", "D"), other_prompts=())
    policy = load_llm_policy(adapter=demo_adapter, device="cpu", dtype="float32", seed=2)
    exact = evaluate(policy, config, exact=True)["games"]
    records = play(policy, config)
    per_episode: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        per_episode[record.game][record.episode].append(record)
    from llm_agents.evaluation.protocol import stage_game

    for game, episodes in per_episode.items():
        stage = stage_game(config, game)
        metrics = {
            "cooperation_rate": lambda r: r.action == C,
            "illegal_rate": lambda r: r.action == ILLEGAL,
            "deontological_regret": deontological_regret,
            "utilitarian_regret": lambda r, g=stage: utilitarian_regret(r, g),
        }
        for name, metric in metrics.items():
            means = np.array([np.mean([metric(r) for r in rounds]) for rounds in episodes.values()])
            error = means.std(ddof=1) / np.sqrt(len(means))
            assert abs(means.mean() - exact[game][name]) <= 4 * error + 1e-9, (game, name, means.mean(), exact[game])
