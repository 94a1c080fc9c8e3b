"""Behaviour of llm_agents.ppo.PPOTrainer on the tiny offline llama (fixtures in conftest.py)."""

from __future__ import annotations

import io
import math

import pytest
import torch

from llm_agents.ppo import PPOConfig, PPOTrainer
from llm_agents.sequences.forward import pack, response_forward


def make_batch(seed: int, query_lengths, response_lengths, vocab: int = 49):
    g = torch.Generator().manual_seed(seed)
    queries = [torch.randint(7, vocab, (n,), generator=g) for n in query_lengths]
    responses = [torch.randint(7, vocab, (n,), generator=g) for n in response_lengths]
    scores = torch.randn(len(queries), generator=g).tolist()
    return queries, responses, scores


def config(**overrides) -> PPOConfig:
    fields = dict(
        batch_size=4,
        mini_batch_size=4,
        ppo_epochs=1,
        learning_rate=1e-2,
        use_score_scaling=False,
        use_score_norm=False,
    )
    fields.update(overrides)
    return PPOConfig(**fields)


def snapshot(parameters) -> list[torch.Tensor]:
    return [p.detach().clone() for p in parameters]


RAGGED = make_batch(0, (5, 8, 3, 6), (1, 3, 2, 2))


# ---------------------------------------------------------------- the first minibatch, KL and ratio


def test_zero_init_lora_has_zero_kl_and_unit_ratio(make_lora_model):
    trainer = PPOTrainer(make_lora_model(init_lora_weights=True), config())
    stats = trainer.step(*RAGGED)
    assert stats["objective/kl"] == 0.0
    assert stats["ppo/mean_non_score_reward"] == 0.0
    assert stats["ppo/policy/ratio_mean"] == 1.0
    assert stats["ppo/policy/approxkl"] == 0.0
    assert stats["ppo/policy/clipfrac"] == 0.0


def test_equal_returns_report_nan_variance_explained_instead_of_failing(make_lora_model):
    """One-token answers, equal scores and no KL yet (zero-init LoRA): every return is 0, as in a first batch of
    identical illegal answers."""
    queries, responses, _ = make_batch(1, (5, 8, 3, 6), (1, 1, 1, 1))
    stats = PPOTrainer(make_lora_model(init_lora_weights=True), config()).step(queries, responses, [-6.0] * 4)
    assert stats["ppo/returns/var"] == 0.0
    assert math.isnan(stats["ppo/val/var_explained"])
    assert math.isfinite(stats["ppo/loss/total"])


def test_first_minibatch_ratio_is_one_with_random_lora_but_kl_is_live(make_lora_model):
    trainer = PPOTrainer(make_lora_model(init_lora_weights=False), config())
    stats = trainer.step(*RAGGED)
    assert stats["objective/kl"] != 0.0
    assert stats["ppo/policy/ratio_mean"] == 1.0
    assert stats["ppo/policy/approxkl"] == 0.0


def test_full_kl_is_zero_at_zero_init_and_positive_otherwise(make_lora_model):
    zero = PPOTrainer(make_lora_model(init_lora_weights=True), config(kl_penalty="full")).step(*RAGGED)
    live = PPOTrainer(make_lora_model(init_lora_weights=False), config(kl_penalty="full")).step(*RAGGED)
    assert zero["objective/kl"] == pytest.approx(0.0, abs=1e-7)
    assert live["objective/kl"] > 0.0


def test_later_epochs_move_the_ratio(make_lora_model):
    stats = PPOTrainer(make_lora_model(init_lora_weights=False), config(ppo_epochs=3)).step(*RAGGED)
    assert stats["ppo/policy/approxkl"] > 0.0
    assert stats["ppo/epochs"] == 3.0


@pytest.mark.parametrize(("target_kl", "epochs"), [(0.5, 1.0), (1.0, 4.0)])
def test_early_stopping_compares_the_policy_kl_with_one_and_a_half_target_kl(
    make_lora_model, monkeypatch, target_kl, epochs
):
    from llm_agents.ppo import maths

    monkeypatch.setattr(maths, "policy_kl", lambda *args: torch.tensor(1.0))  # 1.0 > 1.5 * 0.5, not > 1.5 * 1.0
    cfg = config(ppo_epochs=4, early_stopping=True, target_kl=target_kl)
    stats = PPOTrainer(make_lora_model(init_lora_weights=False), cfg).step(*RAGGED)
    assert stats["ppo/epochs"] == epochs


# ---------------------------------------------------------------- the forward pass


def test_forward_matches_a_full_right_padded_forward(make_lora_model):
    """Left padding + logits_to_keep gives trl's numbers: right padding and a full-vocabulary log-softmax."""
    model = make_lora_model(init_lora_weights=False)
    queries, responses, _ = RAGGED
    batch = pack(queries, responses, pad_token_id=0, device=torch.device("cpu"))
    with torch.no_grad():
        ours = response_forward(model, batch, value_head=None)
        for row, (query, response) in enumerate(zip(queries, responses, strict=True)):
            sequence = torch.cat([query, response]).unsqueeze(0)
            padded = torch.cat([sequence, torch.zeros(1, 3, dtype=torch.long)], dim=1)  # right pads
            attention = torch.cat([torch.ones_like(sequence), torch.zeros(1, 3, dtype=torch.long)], dim=1)
            logits = model(input_ids=padded, attention_mask=attention).logits
            full = torch.log_softmax(logits[0, :-1], dim=-1).gather(-1, padded[0, 1:].unsqueeze(-1)).squeeze(-1)
            expected = full[len(query) - 1 : len(query) - 1 + len(response)]
            got = ours.logprobs[row, batch.response_width - len(response) :]
            torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def lm_head_positions(model, trainer, batch) -> list[int]:
    """How many positions each forward pass sent through the LM head during one step."""
    seen_positions = []
    lm_head = model.get_base_model().get_output_embeddings()
    handle = lm_head.register_forward_hook(lambda module, args, output: seen_positions.append(args[0].shape[1]))
    try:
        trainer.step(*batch)
    finally:
        handle.remove()
    return seen_positions


@pytest.mark.parametrize(("mini_batch_size", "forwards"), [(4, 3), (2, 6)])
def test_lm_head_sees_only_the_response_positions(make_lora_model, mini_batch_size, forwards):
    """Padded: every pass projects R + 1 = 4 positions (longest response 3); with one minibatch per epoch the first
    training forward is the old-log-probs pass itself: old + reference + 1 more epoch = 3 passes for 2 epochs,
    against old + reference + 2 epochs x 2 minibatches = 6 with two minibatches."""
    model = make_lora_model()
    trainer = PPOTrainer(model, config(ppo_epochs=2, mini_batch_size=mini_batch_size), batching="padded")
    assert lm_head_positions(model, trainer, RAGGED) == [4] * forwards


def test_tree_batches_project_each_predicting_position_once(make_lora_model):
    """Tree: the 8 answer tokens of RAGGED (1 + 3 + 2 + 2) are predicted by 8 distinct positions; the reference pass
    runs on the first step only (its log-probs are memoised), so a repeated step projects old + 1 more epoch."""
    model = make_lora_model()
    trainer = PPOTrainer(model, config(ppo_epochs=2))
    assert lm_head_positions(model, trainer, RAGGED) == [8, 8, 8]
    assert lm_head_positions(model, trainer, RAGGED) == [8, 8]
    doubled = ([*RAGGED[0], *RAGGED[0]], [*RAGGED[1], *RAGGED[1]], [*RAGGED[2], *RAGGED[2]])
    trainer = PPOTrainer(make_lora_model(), config(ppo_epochs=1, batch_size=8, mini_batch_size=8))
    assert lm_head_positions(trainer.model, trainer, doubled) == [8, 8]  # each row twice, each position once


# ---------------------------------------------------------------- adapters


def test_gradients_reach_only_the_active_adapter_and_its_value_head(make_lora_model):
    model = make_lora_model(("alice", "bob"), init_lora_weights=False)
    seen: list[set[int]] = []

    class RecordingSGD(torch.optim.SGD):
        def step(self, closure=None):
            seen.append({id(p) for p in model.parameters() if p.grad is not None and p.grad.abs().sum() > 0})
            seen.append({id(p) for p in trainer.value_head.parameters() if p.grad is not None})
            return super().step(closure)

    trainer = PPOTrainer(model, config(), adapter_name="alice", optimizer=lambda params: RecordingSGD(params, lr=0.1))
    trainer.step(*RAGGED)
    adapter_a = {id(p) for p in trainer.adapter_params.values()}
    assert seen[0] == adapter_a
    assert seen[1] == {id(p) for p in trainer.value_head.parameters()}
    assert all(".alice." in name for name in trainer.adapter_params)
    assert all(p.grad is None for p in model.parameters())  # nothing left behind outside the optimizer


def test_two_adapters_on_one_model_train_independently(make_lora_model):
    batch_a, batch_b, batch_a2 = (
        RAGGED,
        make_batch(1, (4, 4, 7, 2), (2, 1, 3, 2)),
        make_batch(2, (6, 3, 5, 4), (2, 2, 2, 1)),
    )
    shared = make_lora_model(("alice", "bob"), init_lora_weights=False)
    alone = make_lora_model(("alice",), init_lora_weights=False)
    base_before = snapshot(p for n, p in shared.named_parameters() if "lora_" not in n)
    a_shared = PPOTrainer(shared, config(seed=3), adapter_name="alice")
    b_shared = PPOTrainer(shared, config(seed=4), adapter_name="bob")
    a_alone = PPOTrainer(alone, config(seed=3), adapter_name="alice")
    b_before = snapshot(b_shared.adapter_params.values())

    stats_shared = [a_shared.step(*batch_a)]
    b_stats = b_shared.step(*batch_b)
    stats_shared.append(a_shared.step(*batch_a2))
    stats_alone = [a_alone.step(*batch_a), a_alone.step(*batch_a2)]

    for ours, reference in zip(stats_shared, stats_alone, strict=True):
        assert ours["objective/kl"] == pytest.approx(reference["objective/kl"], abs=1e-6)
        assert ours["ppo/loss/total"] == pytest.approx(reference["ppo/loss/total"], abs=1e-6)
    for p_shared, p_alone in zip(a_shared.adapter_params.values(), a_alone.adapter_params.values(), strict=True):
        torch.testing.assert_close(p_shared, p_alone, atol=1e-6, rtol=0)
    assert b_stats["objective/kl"] != 0.0
    changed = [not torch.equal(before, p) for before, p in zip(b_before, b_shared.adapter_params.values(), strict=True)]
    assert any(changed)  # b trained on its own step...
    after_a = snapshot(b_shared.adapter_params.values())
    a_shared.step(*batch_a)
    assert all(torch.equal(x, y) for x, y in zip(after_a, b_shared.adapter_params.values(), strict=True))  # ...only
    base_after = [p for n, p in shared.named_parameters() if "lora_" not in n]
    assert all(torch.equal(x, y) for x, y in zip(base_before, base_after, strict=True))


def test_step_restores_the_active_adapter_and_train_mode(make_lora_model):
    model = make_lora_model(("alice", "bob"))
    trainer = PPOTrainer(model, config(), adapter_name="bob")
    model.set_adapter("alice")
    model.train()
    trainer.step(*RAGGED)
    assert model.active_adapter == "alice"
    assert model.training


# ---------------------------------------------------------------- gradient accumulation


def sgd(params):
    return torch.optim.SGD(params, lr=1.0)


def final_parameters(make_lora_model, **overrides) -> list[torch.Tensor]:
    equal_lengths = make_batch(5, (6, 6, 6, 6), (2, 2, 2, 2))
    trainer = PPOTrainer(make_lora_model(init_lora_weights=False), config(**overrides), optimizer=sgd)
    trainer.step(*equal_lengths)
    return snapshot(trainer.trainable_parameters)


def test_gradient_accumulation_equals_one_big_batch(make_lora_model):
    big = final_parameters(make_lora_model, mini_batch_size=4)
    accumulated = final_parameters(make_lora_model, mini_batch_size=2, gradient_accumulation_steps=2)
    accumulated_by_one = final_parameters(make_lora_model, mini_batch_size=1, gradient_accumulation_steps=4)
    two_updates = final_parameters(make_lora_model, mini_batch_size=2, gradient_accumulation_steps=1)
    for x, y, z in zip(big, accumulated, accumulated_by_one, strict=True):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(x, z, atol=1e-5, rtol=1e-5)
    assert any(not torch.allclose(x, w, atol=1e-5) for x, w in zip(big, two_updates, strict=True))


def test_max_grad_norm_bounds_every_update(make_lora_model):
    free = final_parameters(make_lora_model)
    clipped = final_parameters(make_lora_model, max_grad_norm=1e-3)
    initial = snapshot(PPOTrainer(make_lora_model(init_lora_weights=False), config()).trainable_parameters)
    clipped_step = torch.sqrt(sum(((c - i) ** 2).sum() for c, i in zip(clipped, initial, strict=True)))
    free_step = torch.sqrt(sum(((f - i) ** 2).sum() for f, i in zip(free, initial, strict=True)))
    assert clipped_step.item() == pytest.approx(1e-3, rel=1e-3)  # SGD with lr 1: the step is the clipped gradient
    assert free_step.item() > 1e-2


# ---------------------------------------------------------------- checkpoints


def test_state_dict_round_trip_resumes_identically(make_lora_model):
    cfg = config(ppo_epochs=2, mini_batch_size=2, use_score_scaling=True, use_score_norm=True)
    second = make_batch(7, (3, 9, 4, 5), (2, 3, 1, 2))
    original = PPOTrainer(make_lora_model(init_lora_weights=False), cfg)
    original.step(*RAGGED)
    buffer = io.BytesIO()
    torch.save(original.state_dict(), buffer)
    expected = original.step(*second)

    resumed = PPOTrainer(make_lora_model(init_lora_weights=False, seed=99), cfg)  # other LoRA weights, untouched state
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=False))
    assert resumed.step_count == 1
    got = resumed.step(*second)
    assert resumed.step_count == original.step_count == 2
    assert {k: v for k, v in got.items() if not k.startswith("time/")} == {
        k: v for k, v in expected.items() if not k.startswith("time/")
    }
    for x, y in zip(original.trainable_parameters, resumed.trainable_parameters, strict=True):
        assert torch.equal(x, y)


def test_load_state_dict_rejects_another_adapter(make_lora_model):
    a = PPOTrainer(make_lora_model(("alice",)), config(), adapter_name="alice")
    b = PPOTrainer(make_lora_model(("bob",)), config(), adapter_name="bob")
    with pytest.raises(ValueError, match="do not match adapter 'bob'"):
        b.load_state_dict(a.state_dict())


# ---------------------------------------------------------------- learning and input checks


def test_ppo_raises_the_probability_of_rewarded_answers(make_lora_model):
    """Reward answer token 20, punish token 30, on the same prompts: log p(20) - log p(30) must grow."""
    model = make_lora_model()
    trainer = PPOTrainer(model, config(learning_rate=3e-2, ppo_epochs=2, use_score_scaling=True, use_score_norm=True))
    queries = [
        torch.tensor([9, 10, 11, 12]),
        torch.tensor([13, 14, 15]),
        torch.tensor([9, 10, 11, 12]),
        torch.tensor([13, 14, 15]),
    ]
    responses = [torch.tensor([20]), torch.tensor([20]), torch.tensor([30]), torch.tensor([30])]

    def preference() -> float:
        with torch.no_grad():
            logits = model(input_ids=queries[0].unsqueeze(0)).logits[0, -1]
        return float(torch.log_softmax(logits, -1)[20] - torch.log_softmax(logits, -1)[30])

    before = preference()
    for _ in range(5):
        trainer.step(queries, responses, [1.0, 1.0, -1.0, -1.0])
    assert preference() > before + 0.5


@pytest.mark.parametrize(
    ("queries", "responses", "scores", "message"),
    [
        (RAGGED[0][:3], RAGGED[1], RAGGED[2], "got 3 queries"),
        (RAGGED[0], [*RAGGED[1][:3], torch.tensor([], dtype=torch.long)], RAGGED[2], r"responses\[3\] is empty"),
        (RAGGED[0], [*RAGGED[1][:3], torch.tensor([1.5])], RAGGED[2], "1-D tensor of token ids"),
        (RAGGED[0], RAGGED[1], [1.0, 2.0], "got 2 scores"),
        (RAGGED[0], RAGGED[1], [1.0, 2.0, float("nan"), 0.0], "finite"),
    ],
)
def test_step_rejects_bad_batches(make_lora_model, queries, responses, scores, message):
    trainer = PPOTrainer(make_lora_model(), config())
    with pytest.raises(ValueError, match=message):
        trainer.step(queries, responses, scores)


def test_trainer_rejects_non_peft_models_and_unknown_adapters(tiny_llama, make_lora_model):
    with pytest.raises(TypeError, match="peft PeftModel"):
        PPOTrainer(tiny_llama, config())
    with pytest.raises(ValueError, match="no adapter 'other'"):
        PPOTrainer(make_lora_model(), config(), adapter_name="other")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(batch_size=5, mini_batch_size=2), "multiple of mini_batch_size"),
        (dict(batch_size=0), "batch_size must be a positive integer"),
        (dict(ppo_epochs=1.5), "ppo_epochs must be a positive integer"),
        (dict(learning_rate=0.0), "learning_rate must be a finite number > 0"),
        (dict(lam=1.5), r"lam must be in \[0, 1\]"),
        (dict(kl_penalty="reverse"), "kl_penalty must be one of"),
        (dict(use_score_scaling=False, use_score_norm=True), "use_score_norm=True only has an effect"),
        (dict(score_clip=-1.0), "score_clip must be a finite number > 0"),
        (dict(ratio_threshold=0.5), "ratio_threshold must be a number > 1"),
        (dict(init_kl_coef=-0.1), "init_kl_coef must be a finite number >= 0"),
    ],
)
def test_config_rejects_bad_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        PPOConfig(**overrides)


def test_config_defaults_are_the_papers():
    cfg = PPOConfig()
    assert (cfg.learning_rate, cfg.ppo_epochs, cfg.init_kl_coef, cfg.target, cfg.horizon) == (1.41e-5, 4, 0.2, 6, 10000)
    assert (cfg.gamma, cfg.lam, cfg.cliprange, cfg.cliprange_value, cfg.vf_coef) == (1.0, 0.95, 0.2, 0.2, 0.1)
    assert cfg.adap_kl_ctrl and cfg.use_score_scaling and cfg.use_score_norm and cfg.kl_penalty == "kl"
    assert cfg.score_clip is None and cfg.max_grad_norm is None and cfg.ratio_threshold == 10.0
