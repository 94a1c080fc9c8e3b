"""Golden tests for llm_agents.ppo.maths: every expected number below is worked out by hand in the comments."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_agents.ppo import controllers, maths
from llm_agents.sequences.forward import logprobs_of_tokens


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


VALUES = t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
MASK = t([[1, 1, 0], [0, 1, 1]])  # picks 1, 2, 5, 6: mean 3.5, squared deviations 6.25 + 2.25 + 2.25 + 6.25 = 17


def test_masked_mean_averages_only_masked_positions():
    assert maths.masked_mean(VALUES, MASK).item() == pytest.approx(3.5)
    # per row: (1 + 2) / 2 and (5 + 6) / 2
    assert maths.masked_mean(VALUES, MASK, dim=1).tolist() == pytest.approx([1.5, 5.5])


def test_masked_var_is_unbiased_by_default():
    assert maths.masked_var(VALUES, MASK).item() == pytest.approx(17 / 3)
    assert maths.masked_var(VALUES, MASK, unbiased=False).item() == pytest.approx(17 / 4)


def test_masked_var_rejects_empty_and_single_position_masks():
    with pytest.raises(ValueError, match="empty mask"):
        maths.masked_var(VALUES, torch.zeros_like(MASK))
    with pytest.raises(ValueError, match="at least 2"):
        maths.masked_var(VALUES, t([[1, 0, 0], [0, 0, 0]]))


def test_masked_whiten_golden_and_shift_mean():
    # (x - 3.5) / sqrt(17/3 + 1e-8): 1 -> -2.5 / 2.3804761 = -1.0502100
    whitened = maths.masked_whiten(VALUES, MASK)
    std = math.sqrt(17 / 3 + 1e-8)
    assert whitened[0, 0].item() == pytest.approx(-2.5 / std)
    assert whitened[1, 2].item() == pytest.approx(2.5 / std)
    assert whitened[0, 0].item() == pytest.approx(-1.0502100, abs=1e-6)
    assert maths.masked_mean(whitened, MASK).item() == pytest.approx(0.0, abs=1e-6)
    kept = maths.masked_whiten(VALUES, MASK, shift_mean=False)
    assert kept[0, 0].item() == pytest.approx(-2.5 / std + 3.5)


def test_logprobs_of_tokens_golden():
    # logits (0, ln 2, ln 3) -> probabilities (1/6, 2/6, 3/6)
    logits = t([[[0.0, math.log(2), math.log(3)], [0.0, math.log(2), math.log(3)]]])
    logprobs = logprobs_of_tokens(logits, torch.tensor([[2, 0]]))
    assert logprobs.tolist()[0] == pytest.approx([math.log(0.5), math.log(1 / 6)])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), vocab=st.integers(2, 40))
def test_logprobs_of_tokens_equals_log_softmax_gather(seed, vocab):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(3, 4, vocab, generator=g) * 5
    tokens = torch.randint(0, vocab, (3, 4), generator=g)
    expected = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(logprobs_of_tokens(logits, tokens), expected, atol=1e-5, rtol=1e-5)


def test_entropy_from_logits_golden():
    assert maths.entropy_from_logits(torch.zeros(4)).item() == pytest.approx(math.log(4))
    # p = (1/4, 3/4): H = 0.25 ln 4 + 0.75 ln(4/3) = 0.5623351
    assert maths.entropy_from_logits(t([0.0, math.log(3)])).item() == pytest.approx(0.5623351, abs=1e-6)


def test_kl_penalty_kinds_golden():
    logprobs, ref = t([[-1.0, -2.0]]), t([[-1.5, -1.0]])
    assert maths.kl_penalty(logprobs, ref, "kl").tolist()[0] == pytest.approx([0.5, -1.0])
    assert maths.kl_penalty(logprobs, ref, "abs").tolist()[0] == pytest.approx([0.5, 1.0])
    assert maths.kl_penalty(logprobs, ref, "mse").tolist()[0] == pytest.approx([0.125, 0.5])


def test_kl_penalty_full_is_the_exact_kl():
    # KL((1/4, 3/4) || (1/2, 1/2)) = 0.25 ln 0.5 + 0.75 ln 1.5 = 0.1308121
    p, q = t([[[0.25, 0.75]]]).log(), t([[[0.5, 0.5]]]).log()
    kl = maths.kl_penalty(t([[0.0]]), t([[0.0]]), "full", full_logprobs=p, full_ref_logprobs=q)
    assert kl.item() == pytest.approx(0.1308121, abs=1e-6)
    with pytest.raises(ValueError, match="full_logprobs"):
        maths.kl_penalty(t([[0.0]]), t([[0.0]]), "full")
    with pytest.raises(ValueError, match="Unknown kl_penalty"):
        maths.kl_penalty(t([[0.0]]), t([[0.0]]), "reverse")


def test_per_token_rewards_adds_score_on_last_masked_token():
    kl = t([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    rewards, non_score = maths.per_token_rewards(t([1.0, -2.0]), kl, MASK, kl_coef=0.5)
    assert non_score.tolist()[0] == pytest.approx([-0.05, -0.1, -0.15])
    # row 0's last response token is column 1: -0.1 + 1; row 1's is column 2: -0.3 - 2
    assert rewards.tolist()[0] == pytest.approx([-0.05, 0.9, -0.15])
    assert rewards.tolist()[1] == pytest.approx([-0.2, -0.25, -2.3])
    with pytest.raises(ValueError, match="at least one response token"):
        maths.per_token_rewards(t([1.0, 1.0]), kl, t([[1, 0, 0], [0, 0, 0]]), kl_coef=0.5)


def test_gae_golden_with_whitening():
    # row 0: V = (0.5, 1.0), r = (0, 2), gamma 1, lam 0.5
    #   t=1: delta = 2 + 0 - 1 = 1 -> A = 1;  t=0: delta = 0 + 1 - 0.5 = 0.5 -> A = 0.5 + 0.5 * 1 = 1
    # row 1: V = (0, 0), r = (0, -1): t=1: A = -1;  t=0: A = 0 + 0.5 * -1 = -0.5
    # returns = A + V = (1.5, 2.0), (-0.5, -1.0)
    # whitening (1, 1, -0.5, -1): mean 0.125, unbiased var 3.1875 / 3 = 1.0625
    values, rewards, mask = t([[0.5, 1.0], [0.0, 0.0]]), t([[0.0, 2.0], [0.0, -1.0]]), torch.ones(2, 2)
    masked_values, advantages, returns = maths.gae_advantages(values, rewards, mask, gamma=1.0, lam=0.5)
    assert returns.flatten().tolist() == pytest.approx([1.5, 2.0, -0.5, -1.0])
    std = math.sqrt(1.0625 + 1e-8)
    expected = [(a - 0.125) / std for a in (1.0, 1.0, -0.5, -1.0)]
    assert advantages.flatten().tolist() == pytest.approx(expected, abs=1e-6)
    assert masked_values.tolist() == values.tolist()


def test_gae_discounts_with_gamma_and_ignores_masked_prefix():
    # gamma 0.5, lam 1, zero values, reward 1 at the end: A = (0.25, 0.5, 1); a masked prefix changes nothing
    values, rewards = t([[7.0, 0.0, 0.0, 0.0]]), t([[5.0, 0.0, 0.0, 1.0]])
    mask = t([[0, 1, 1, 1]])
    _, _, returns = maths.gae_advantages(values, rewards, mask, gamma=0.5, lam=1.0)
    assert returns[0, 1:].tolist() == pytest.approx([0.25, 0.5, 1.0])


def test_gae_whiten_rewards_keeps_the_mean():
    values, rewards, mask = torch.zeros(1, 3), t([[1.0, 2.0, 3.0]]), torch.ones(1, 3)
    # rewards whitened without the mean shift: (r - 2) / 1 + 2 = r (unbiased var of 1, 2, 3 is 1)
    _, _, plain = maths.gae_advantages(values, rewards, mask, 1.0, 1.0)
    _, _, whitened = maths.gae_advantages(values, rewards, mask, 1.0, 1.0, whiten_rewards=True)
    torch.testing.assert_close(plain, whitened, atol=1e-6, rtol=0)


def test_policy_loss_golden():
    # ratios (1.5, 0.5, 1.1), advantages (1, 1, -1), eps 0.2:
    #   max(-1.5, -1.2) = -1.2 (clipped), max(-0.5, -0.8) = -0.5, max(1.1, 1.1) = 1.1  -> mean -0.2, clipfrac 1/3
    logprobs = t([[math.log(1.5), math.log(0.5), math.log(1.1)]])
    loss, clipfrac, ratio = maths.policy_loss(logprobs, torch.zeros(1, 3), t([[1.0, 1.0, -1.0]]), torch.ones(1, 3), 0.2)
    assert loss.item() == pytest.approx(-0.2, abs=1e-6)
    assert clipfrac.item() == pytest.approx(1 / 3)
    assert ratio.tolist()[0] == pytest.approx([1.5, 0.5, 1.1])


def test_value_loss_golden():
    # v = (1, 0), v_old = (0.5, 0.1), R = (2, 0), eps 0.2: clip(1) = 0.7 -> errors (1, 1.69) -> 1.69 (clipped);
    # clip(0) = 0 -> errors (0, 0) -> 0.  loss = 0.5 * (1.69 + 0) / 2 = 0.4225, clipfrac 0.5
    loss, clipfrac = maths.value_loss(t([[1.0, 0.0]]), t([[0.5, 0.1]]), t([[2.0, 0.0]]), torch.ones(1, 2), 0.2)
    assert loss.item() == pytest.approx(0.4225)
    assert clipfrac.item() == pytest.approx(0.5)


def test_approx_kl_and_policy_kl_golden():
    logprobs, old, mask = t([[0.1, -0.2, 9.0]]), torch.zeros(1, 3), t([[1, 1, 0]])
    assert maths.approx_kl(logprobs, old, mask).item() == pytest.approx(0.5 * (0.01 + 0.04) / 2)
    assert maths.policy_kl(logprobs, old, mask).item() == pytest.approx((-0.1 + 0.2) / 2)


def test_adaptive_kl_controller_golden():
    controller = controllers.AdaptiveKLController(0.2, target=6.0, horizon=10000.0)
    controller.update(12.0, n_steps=5)  # error clipped to +0.2: x (1 + 0.2 * 5 / 10000)
    assert controller.value == pytest.approx(0.2 * 1.0001)
    controller = controllers.AdaptiveKLController(0.2, target=6.0, horizon=10000.0)
    controller.update(6.6, n_steps=100)  # error 0.1: x 1.001
    assert controller.value == pytest.approx(0.2002)
    controller.update(0.0, n_steps=100)  # error clipped to -0.2: x 0.998
    assert controller.value == pytest.approx(0.2002 * 0.998)
    restored = controllers.AdaptiveKLController(1.0, 6.0, 10000.0)
    restored.load_state_dict(controller.state_dict())
    assert restored.value == controller.value


def test_fixed_kl_controller_never_moves():
    controller = controllers.FixedKLController(0.3)
    controller.update(100.0, n_steps=1000)
    assert controller.value == 0.3


def test_running_moments_golden():
    running = controllers.RunningMoments()
    # first batch (1, 2, 3, 4): the prior's count 1e-24 vanishes: mean 2.5, var 1.25, std sqrt(1.25 * 4 / 3)
    batch_mean, batch_std = running.update(t([1.0, 2.0, 3.0, 4.0]))
    assert (batch_mean, batch_std) == pytest.approx((2.5, math.sqrt(5 / 3)))
    assert (running.mean, running.var, running.std) == pytest.approx((2.5, 1.25, math.sqrt(5 / 3)))
    # then (6, 8): all six values have mean 4 and squared deviations 9+4+1+0+4+16 = 34
    running.update(t([6.0, 8.0]))
    assert (running.mean, running.var, running.std) == pytest.approx((4.0, 34 / 6, math.sqrt(34 / 5)))
    assert running.count == pytest.approx(6.0)


def test_scale_scores_norm_scale_and_clip():
    scores = t([1.0, 2.0, 3.0, 4.0])
    std = math.sqrt(5 / 3)  # the first batch is normalised by its own mean 2.5 and unbiased std
    normed = maths.scale_scores(scores, controllers.RunningMoments(), use_score_norm=True, score_clip=None)
    assert normed.tolist() == pytest.approx([(x - 2.5) / std for x in (1, 2, 3, 4)], abs=1e-6)
    scaled = maths.scale_scores(scores, controllers.RunningMoments(), use_score_norm=False, score_clip=None)
    assert scaled.tolist() == pytest.approx([x / std for x in (1, 2, 3, 4)], abs=1e-6)
    clipped = maths.scale_scores(scores, controllers.RunningMoments(), use_score_norm=True, score_clip=1.0)
    assert clipped.tolist() == pytest.approx([-1.0, -0.5 / std, 0.5 / std, 1.0], abs=1e-6)
    assert maths.scale_scores(scores, None, use_score_norm=False, score_clip=2.5).tolist() == [1.0, 2.0, 2.5, 2.5]


def test_scale_scores_identical_first_batch_gives_zeros():
    """docs/paper.md: a first episode of identical rewards gives zero scores (std 0, divided by eps)."""
    assert maths.scale_scores(
        t([2.0, 2.0, 2.0]), controllers.RunningMoments(), use_score_norm=True, score_clip=None
    ).tolist() == [
        0.0,
        0.0,
        0.0,
    ]
