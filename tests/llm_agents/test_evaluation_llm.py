"""The test bench on LLM policies: the tiny offline model through the same path as the strategies, and one short
run of the embedded model (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from llm_agents.agent.adapters import save_adapter
from llm_agents.agent.config import GenerationConfig
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.cli import main as llm_agents_main
from llm_agents.evaluation import EvaluationConfig, StrategyPolicy, evaluate, play
from llm_agents.evaluation.llm_policy import LLMPolicy, default_label, find_adapter, load_llm_policy
from matrix_games.metrics import deontological_regret

TINY_LABELS = ("action1", "action2")  # the tiny tokenizer knows these words
TINY = EvaluationConfig(episodes=2, rounds=2, labels=TINY_LABELS, other_prompts=("unrelated_morality", "poetic"))


def test_tiny_llm_plays_the_protocol_and_faces_the_strategies_opponent(tiny_llama, tiny_tokenizer):
    agent = LLMAgent(tiny_llama, tiny_tokenizer, labels=TINY_LABELS, generation=GenerationConfig(max_new_tokens=2))
    policy = LLMPolicy(agent, batch_size=7, description={"label": "tiny"})
    records = play(policy, TINY)
    baseline = play(StrategyPolicy("always_defect"), TINY)
    assert len(records) == len(baseline) == 2 * 2 * 5 + 4 * 2
    assert [r.opponent_action for r in records] == [r.opponent_action for r in baseline]
    assert [(r.game, r.prompt_kind, r.episode, r.round) for r in records] == [
        (r.game, r.prompt_kind, r.episode, r.round) for r in baseline
    ]
    for record in records:  # the action is what the answer text says, under the paper's strict rule
        expected = {"action1": 0, "action2": 1}.get(record.answer.strip(), 2)
        assert record.action == expected
        assert deontological_regret(record) == (
            6.0 if expected == 2 else 4.0 * (expected == 1 and record.opponent_previous_action == 0)
        )


def test_llm_policy_relabels_for_the_test_labels(tiny_llama, tiny_tokenizer):
    agent = LLMAgent(tiny_llama, tiny_tokenizer, labels=TINY_LABELS, generation=GenerationConfig(max_new_tokens=2))
    policy = LLMPolicy(agent)
    swapped = EvaluationConfig(games=("IPD-v0",), episodes=2, rounds=1, labels=("action2", "action1"), other_prompts=())
    records = play(policy, swapped)
    assert policy.agent.labels == ("action2", "action1")
    for record in records:
        assert record.action == {"action2": 0, "action1": 1}.get(record.answer.strip(), 2)


def test_adapter_folder_and_base_model_through_load_llm_policy(tmp_path, tiny_llama_dir, make_lora_model):
    run = tmp_path / "run"
    (run / "checkpoints" / "episode_000002").mkdir(parents=True)
    (run / "config.yaml").write_text("reward: deontological\nopponent: tit_for_tat\nseed: 3\n")
    model = make_lora_model(init_lora_weights=False)
    save_adapter(model, run / "checkpoints" / "episode_000001")
    save_adapter(model, run / "checkpoints" / "episode_000002")
    assert find_adapter(run) == run / "checkpoints" / "episode_000002"
    config = EvaluationConfig(games=("IPD-v0",), episodes=1, rounds=2, labels=TINY_LABELS, other_prompts=())
    fine_tuned = load_llm_policy(model=str(tiny_llama_dir), adapter=run, device="cpu", max_new_tokens=2)
    summary = evaluate(fine_tuned, config, tmp_path / "eval", figures=False)
    assert summary["policy"]["label"] == "Deontological (vs tit_for_tat)"
    assert summary["policy"]["adapter"].endswith("episode_000002")
    assert summary["policy"]["training"] == {"reward": "deontological", "opponent": "tit_for_tat", "seed": 3}
    save_adapter(model, run / "adapters" / "player_0")  # the run's final adapter wins over any checkpoint
    assert find_adapter(run) == run / "adapters" / "player_0"
    base = load_llm_policy(model=str(tiny_llama_dir), preface="utilitarian", device="cpu", max_new_tokens=2)
    assert base.describe()["label"] == "No fine-tuning, utilitarian prompt"
    assert base.agent.prompt.preface_text.startswith("You are a utilitarian moral person")
    assert evaluate(base, config)["games"]["IPD-v0"]["rounds"] == 2
    half = load_llm_policy(model=str(tiny_llama_dir), device="cpu", dtype="bfloat16", max_new_tokens=2)
    assert next(half.agent.model.parameters()).dtype == torch.bfloat16
    assert half.describe()["dtype"] == "bfloat16"


def test_find_adapter_explains_a_folder_without_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="No LoRA adapter"):
        find_adapter(tmp_path)


def test_default_labels_name_the_paper_models():
    run = {"reward": "game:500,utilitarian:500", "opponent": "tit_for_tat"}
    assert default_label(run, Path("adapter"), None) == "Game payoffs, then Utilitarian (vs tit_for_tat)"
    assert default_label(None, None, None) == "No fine-tuning"
    assert default_label(None, None, "deontological") == "No fine-tuning, deontological prompt"


@pytest.mark.slow
def test_embedded_model_evaluation_end_to_end(tmp_path, capsys):
    """The real path on SmolLM2-135M-Instruct: the base model, one episode of two rounds per game, via the CLI."""
    out = tmp_path / "base"
    code = llm_agents_main(
        [
            "evaluate",
            "--model",
            "smollm2-135m-instruct",
            "--out",
            str(out),
            "--episodes",
            "1",
            "--rounds",
            "2",
            "--other-prompts",
            "unrelated_question",
            "--device",
            "cpu",
            "--json",
            "--no-figures",
        ]
    )
    assert code == 0
    headline = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert headline["policy"] == "No fine-tuning"
    summary = json.loads((out / "summary.json").read_text())
    for metrics in summary["games"].values():
        assert metrics["rounds"] == 2
        assert 0.0 <= metrics["illegal_rate"] <= 1.0
    assert summary["policy"]["model"] == "smollm2-135m-instruct"
