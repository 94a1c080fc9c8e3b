"""The exact analysis of LLM policies (docs/analysis.md): the answer distribution against brute-force enumeration of
every token sequence, the prefix rules against the parser, the policy tables, ``evaluate --exact`` and ``analyse``,
and the training diagnostics."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_agents.agent.config import GenerationConfig
from llm_agents.agent.generation import sampling_probabilities
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.parsing import OPEN, answer_outlook, parse_action
from llm_agents.analysis.exact import exact_answers
from llm_agents.analysis.table import PolicyTable, analyse_policy
from llm_agents.analysis.token_texts import ChildClassifier, TokenTexts, split_utf8
from llm_agents.cli import main
from llm_agents.evaluation import EvaluationConfig, StrategyPolicy, evaluate
from llm_agents.evaluation.llm_policy import LLMPolicy
from llm_agents.training import train
from matrix_games.envs.settings import GameSettings

PROMPTS = [[2, 4, 5, 11, 12, 3], [2, 13, 14, 8, 3], [2, 30, 13, 3]]
"""Three prompts of the tiny byte-level vocabulary (token ids; the chat markers are 2 and 3)."""


def brute_force(model, tokenizer, prompt, labels, generation, mode, length) -> np.ndarray:
    """P(C), P(D), P(illegal) by enumerating every answer of up to ``length`` tokens, each decoded by the tokenizer
    and parsed: the definition the walk must equal (the model's logits of every prefix come in one batch a level)."""
    vocabulary, eos = len(tokenizer), {tokenizer.eos_token_id}
    answers: list[tuple[int, ...]] = [()]
    probabilities = [1.0]
    totals = np.zeros(3)
    for depth in range(length):
        with torch.no_grad():
            logits = model(torch.tensor([prompt + list(answer) for answer in answers])).logits[:, -1]
        q = sampling_probabilities(logits, generation, torch.float64).numpy()
        following, weights = [], []
        for answer, probability, row in zip(answers, probabilities, q, strict=True):
            for token in range(vocabulary):
                if row[token] == 0:
                    continue
                longer = (*answer, token)
                if (generation.stop_at_eos and token in eos) or depth + 1 == length:
                    parsed = _parse_decoded(tokenizer, longer, labels, mode)
                    totals[2 if parsed is None else parsed] += probability * row[token]
                else:
                    following.append(longer)
                    weights.append(probability * row[token])
        answers, probabilities = following, weights
    return totals


_DECODED: dict[tuple[int, tuple[int, ...]], str] = {}


def _parse_decoded(tokenizer, tokens, labels, mode):
    key = (id(tokenizer), tokens)
    if key not in _DECODED:
        _DECODED[key] = tokenizer.decode(list(tokens), skip_special_tokens=True)
    return parse_action(_DECODED[key], labels, mode)


SAMPLING = {
    "paper": GenerationConfig(),
    "temperature 0.7": GenerationConfig(temperature=0.7),
    "top-k 5": GenerationConfig(top_k=5),
    "top-p 0.7": GenerationConfig(top_p=0.7),
    "no EOS stop": GenerationConfig(stop_at_eos=False),
}


@pytest.mark.parametrize("labels", [("C", "D"), ("action1", "action2"), ("Cx!", "D")], ids=["1", "2", "3 tokens"])
@pytest.mark.parametrize("mode", ["strict", "lenient"])
@pytest.mark.parametrize("sampling", list(SAMPLING))
def test_the_walk_equals_brute_force_on_a_byte_level_vocabulary(
    make_bytes_llama, tiny_bytes_tokenizer, labels, mode, sampling
):
    """Every sequence of up to 3 tokens of a 38-token byte-level vocabulary, partial UTF-8 tokens and special tokens
    included; the walk prunes by text and must still equal the enumeration (float64 model) to 1e-12."""
    model, generation = make_bytes_llama(seed=3), SAMPLING[sampling]
    with torch.no_grad():  # make labels likely enough to matter: raise the embeddings of C and "action"
        model.model.embed_tokens.weight[[11, 30]] *= 3
    assert TokenTexts.of(tiny_bytes_tokenizer) is not None  # the pruning path, not the fallback
    walked = exact_answers(
        model, tiny_bytes_tokenizer, PROMPTS, [labels] * 3, generation=generation, parse_mode=mode, max_new_tokens=3
    )
    for index, prompt in enumerate(PROMPTS):
        expected = brute_force(model, tiny_bytes_tokenizer, prompt, labels, generation, mode, 3)
        got = np.array([walked.p_c[index], walked.p_d[index], walked.p_illegal[index]])
        assert np.abs(got - expected).max() < 1e-12, (prompt, got, expected)
    assert walked.expanded < len(PROMPTS) * (1 + 38 + 38**2)  # it pruned


@pytest.mark.parametrize("mode", ["strict", "lenient"])
def test_a_tokenizer_not_decoded_by_bytes_is_walked_whole_and_still_exact(tiny_tokenizer, make_tiny_llama, mode):
    """The word-level test tokenizer joins words with spaces: no pruning, every child expanded, leaves decoded."""
    assert TokenTexts.of(tiny_tokenizer) is None
    model = make_tiny_llama(seed=0).double()
    prompts = [tiny_tokenizer("answer with one letter : C or D", add_special_tokens=False)["input_ids"]]
    generation = GenerationConfig(temperature=0.7)
    walked = exact_answers(model, tiny_tokenizer, prompts, [("C", "D")], generation=generation, parse_mode=mode)
    expected = brute_force(model, tiny_tokenizer, prompts[0], ("C", "D"), generation, mode, walked.max_new_tokens)
    assert abs(walked.p_c[0] - expected[0]) < 1e-12 and abs(walked.p_d[0] - expected[1]) < 1e-12


TEXT = st.text(alphabet=[*"actionCD12 .*(x!\n\t", "\u2000", "é"], max_size=8)


@settings(max_examples=400, deadline=None)
@given(prefix=TEXT, more=st.lists(TEXT, min_size=1, max_size=4), mode=st.sampled_from(["strict", "lenient"]))
def test_an_answer_outlook_never_contradicts_the_parse_of_a_continuation(prefix, more, mode):
    """Where the outlook says a label or illegal, every continuation (the empty one included) parses so."""
    for labels in (("C", "D"), ("action1", "action2"), ("C", "CD"), ("*C", "D")):
        outlook = answer_outlook(prefix, labels, mode)
        if outlook == OPEN:
            continue
        for continuation in ["", *more]:
            assert parse_action(prefix + continuation, labels, mode) == outlook, (prefix, continuation, labels)


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=6),
    more=st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=4),
    mode=st.sampled_from(["strict", "lenient"]),
)
def test_the_outlook_of_unfinished_utf8_never_contradicts_a_continuation(tiny_bytes_tokenizer, data, more, mode):
    """Bytes ending inside a character: the outlook must hold for whatever bytes come next."""
    texts = TokenTexts.of(tiny_bytes_tokenizer)
    for labels in (("C", "D"), ("action1", "\u20ac1")):
        classifier = ChildClassifier(texts, labels, mode)
        outlook = classifier.outlook(data, last=False)
        if outlook == OPEN:
            continue
        for continuation in [b"", *more]:
            decoded = (data + continuation).decode("utf-8", "replace")
            assert parse_action(decoded, labels, mode) == outlook, (data, continuation, labels)


def test_split_utf8_keeps_an_unfinished_character_apart():
    assert split_utf8("é".encode() + b"\xe2\x80") == ("é", b"\xe2\x80")
    assert split_utf8(b"a\xff") == ("a\ufffd", b"")


def tiny_agent(model, tokenizer, labels=("C", "D"), **generation) -> LLMAgent:
    return LLMAgent(model.eval(), tokenizer, labels=labels, generation=GenerationConfig(**generation), seed=0)


def test_a_policy_table_lists_every_state_and_label_order_with_its_weight(make_bytes_llama, tiny_bytes_tokenizer):
    tokenizer = tiny_bytes_tokenizer
    tokenizer.chat_template = "{% for m in messages %}<|user|>{{ m['content'] }}{% endfor %}<|assistant|>"
    agent = tiny_agent(make_bytes_llama(), tokenizer)
    table = analyse_policy(agent, GameSettings(observation_type="text", action_labels=("C", "D")), "IPD-v0")
    assert [row.state for row in table.rows] == [s for s in ("CC", "CD", "DC", "DD") for _ in range(4)]
    assert all(row.weight == 0.25 for row in table.rows)
    assert len({row.text for row in table.rows}) == 16 and all(row.input_ids for row in table.rows)
    for row in table.rows:
        assert abs(row.p_c + row.p_d + row.p_illegal - 1) < 1e-12
    states = table.states()
    first = [row for row in table.rows if row.state == "CD"]
    assert states["CD"][0] == pytest.approx(sum(r.weight * r.p_c for r in first), abs=1e-15)
    assert PolicyTable.from_dict(json.loads(json.dumps(table.to_dict()))) == table


def test_a_label_pool_table_weighs_each_pair_equally(make_bytes_llama, tiny_bytes_tokenizer):
    tokenizer = tiny_bytes_tokenizer
    tokenizer.chat_template = "{% for m in messages %}<|user|>{{ m['content'] }}{% endfor %}<|assistant|>"
    agent = tiny_agent(make_bytes_llama(), tokenizer, max_new_tokens=2)
    pairs = [("C", "D"), ("1", "2")]
    settings = GameSettings(observation_type="text", action_labels=pairs[0])
    table = analyse_policy(agent, settings, "IPD-v0", label_pairs=pairs, states=["CC"])
    assert {row.labels for row in table.rows} == set(pairs)
    assert sum(row.weight for row in table.rows) == pytest.approx(1.0)
    assert {row.weight for row in table.rows} == {0.125}


def test_exact_evaluation_of_a_strategy_has_the_sampled_summary_shape(tmp_path):
    config = EvaluationConfig(games=("IPD-v0", "PublicGoods-v0"), other_prompts=("poetic",))
    exact = evaluate(StrategyPolicy("tit_for_tat"), config, tmp_path / "exact", exact=True)
    sampled = evaluate(StrategyPolicy("tit_for_tat"), config)
    assert exact["exact"] is True and exact["protocol"]["exact"] is True
    for game, metrics in sampled["games"].items():
        assert set(exact["games"][game]) == set(metrics)
    assert exact["games"]["IPD-v0"]["cooperation_rate"] == 0.5  # TFT copies a uniformly random move
    assert exact["games"]["IPD-v0"]["deontological_regret"] == 0.0
    assert set(exact["other_prompts"]["poetic"]) == set(sampled["other_prompts"]["poetic"])
    assert (tmp_path / "exact" / "analysis.json").is_file() and not (tmp_path / "exact" / "rounds.csv").exists()


def test_exact_evaluation_of_an_llm_writes_its_tables(make_bytes_llama, tiny_bytes_tokenizer, tmp_path):
    tokenizer = tiny_bytes_tokenizer
    tokenizer.chat_template = "{% for m in messages %}<|user|>{{ m['content'] }}{% endfor %}<|assistant|>"
    policy = LLMPolicy(tiny_agent(make_bytes_llama(), tokenizer), description={"label": "tiny"})
    config = EvaluationConfig(games=("IPD-v0",), labels=("C", "D"), other_prompts=("unrelated_question",))
    summary = evaluate(policy, config, tmp_path, exact=True, figures=False)
    analysis = json.loads((tmp_path / "analysis.json").read_text())
    game = analysis["games"]["IPD-v0"]
    states = game["states"]
    assert set(states) == {"CC", "CD", "DC", "DD"}
    assert game["exact"] == summary["games"]["IPD-v0"]
    # every round is in some state with probability 1/4 at the start, and the policy's C comes from the states
    assert summary["games"]["IPD-v0"]["illegal_rate"] == pytest.approx(
        np.mean([s["p_illegal"] for s in states.values()]), rel=0.2
    )
    assert analysis["generation"]["temperature"] == 1.0
    first = game["prompts"][0]
    assert set(first) >= {"state", "input_ids", "weight", "p_c", "p_d", "p_illegal"}


def test_analyse_and_evaluate_exact_from_the_command_line(tiny_llama_dir, tmp_path, capsys):
    main(["analyse", "--policy", "win_stay_lose_shift", "--games", "IPD-v0", "--other-prompts", "none",
          "--out", str(tmp_path / "a")])  # fmt: skip
    printed = capsys.readouterr().out
    assert "CD" in printed and "expected: cooperation" in printed
    analysis = json.loads((tmp_path / "a" / "analysis.json").read_text())
    assert analysis["games"]["IPD-v0"]["states"]["CD"] == {"p_c": 0.0, "p_d": 1.0, "p_illegal": 0.0}
    assert (tmp_path / "a" / "analysis.png").is_file()
    main(["evaluate", "--exact", "--model", str(tiny_llama_dir), "--device", "cpu", "--dtype", "float32",
          "--games", "IPD-v0", "--labels", "C,D", "--other-prompts", "none", "--out", str(tmp_path / "e")])  # fmt: skip
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())
    assert summary["exact"] and 0.0 <= summary["games"]["IPD-v0"]["cooperation_rate"] <= 1.0
    main(["report", str(tmp_path / "e"), "--out", str(tmp_path / "r")])
    assert (tmp_path / "r" / "report.md").is_file()


def test_a_run_logs_its_exact_state_table_and_resumes_to_the_same_log(make_config):
    config = make_config("run", episodes=4, analysis_every=2, checkpoint_every=2)
    reference = train(config.replace(output_dir=config.output_dir.with_name("reference")))
    lines = [json.loads(line) for line in (reference.output_dir / "analysis.jsonl").read_text().splitlines()]
    assert [line["episode"] for line in lines] == [0, 2, 4]
    for line in lines:
        assert set(line["states"]) == {"CC", "CD", "DC", "DD"}
        for p in line["states"].values():
            assert abs(p["p_c"] + p["p_d"] + p["p_illegal"] - 1) < 1e-6
    assert lines[0]["states"] != lines[-1]["states"]  # training moved the policy
    train(config.replace(episodes=2))
    train(config.replace(resume=True))  # continues from episode 2
    assert (config.output_dir / "analysis.jsonl").read_text() == (reference.output_dir / "analysis.jsonl").read_text()


def test_a_run_without_diagnostics_writes_no_analysis_log(make_config):
    result = train(make_config("quiet", episodes=1, analysis_every=0))
    assert not (result.output_dir / "analysis.jsonl").exists()


def test_the_walk_draws_no_random_number(make_bytes_llama, tiny_bytes_tokenizer):
    state = torch.random.get_rng_state()
    python = random.getstate()
    exact_answers(make_bytes_llama(), tiny_bytes_tokenizer, PROMPTS, [("C", "D")] * 3, max_new_tokens=2)
    assert torch.equal(torch.random.get_rng_state(), state) and random.getstate() == python


def test_a_walk_too_large_is_refused_and_a_probability_floor_bounds_it(make_bytes_llama, tiny_bytes_tokenizer):
    model = make_bytes_llama()
    kwargs = dict(parse_mode="lenient", max_new_tokens=3)
    with pytest.raises(ValueError, match=r"over 50 answer nodes .*min_probability"):
        exact_answers(model, tiny_bytes_tokenizer, PROMPTS, [("C", "D")] * 3, max_expansions=50, **kwargs)
    exact = exact_answers(model, tiny_bytes_tokenizer, PROMPTS, [("C", "D")] * 3, **kwargs)
    floored = exact_answers(model, tiny_bytes_tokenizer, PROMPTS, [("C", "D")] * 3, min_probability=1e-3, **kwargs)
    assert floored.expanded < exact.expanded and (floored.p_unresolved > 0).all()
    assert (exact.p_unresolved == 0).all()
    for walked in ("p_c", "p_d"):  # what was left unexpanded bounds the error
        error = np.abs(getattr(exact, walked) - getattr(floored, walked))
        assert (error <= floored.p_unresolved + 1e-15).all()
