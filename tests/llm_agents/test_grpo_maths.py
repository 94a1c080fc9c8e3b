"""GRPO's maths against numbers computed by hand (llm_agents/grpo/maths.py)."""

from __future__ import annotations

import math

import pytest
import torch

from llm_agents.grpo.maths import LOSS_TYPES, group_advantages, grpo_loss, k3_kl


def test_group_advantages_by_hand():
    rewards, groups = torch.tensor([1.0, 3.0, 5.0, 7.0]), torch.tensor([0, 0, 1, 1])
    scaled, alone = group_advantages(rewards, groups)
    # each group: mean 2 (or 6), centred -1 and 1, unbiased std sqrt(2)
    expected = 1 / (math.sqrt(2) + 1e-4)
    assert scaled.tolist() == pytest.approx([-expected, expected, -expected, expected]) and alone == 0
    assert group_advantages(rewards, groups, "none")[0].tolist() == [-1.0, 1.0, -1.0, 1.0]


def test_groups_of_any_size_and_singletons():
    advantages, alone = group_advantages(torch.tensor([0.0, 3.0, 6.0, 2.0]), torch.tensor([5, 5, 5, 9]))
    third = 3 / (3 + 1e-4)  # group 5: mean 3, centred -3, 0, 3, std sqrt((9 + 0 + 9) / 2) = 3
    assert advantages.tolist() == pytest.approx([-third, 0.0, third, 0.0]) and alone == 1  # player 9 is alone


def test_loss_variants_normalise_as_trl_names_them():
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    logprobs = torch.zeros(2, 3)
    advantages = torch.tensor([1.0, -2.0])  # ratio 1: each token's loss is -A
    losses = {kind: grpo_loss(logprobs, logprobs, advantages, mask, loss_type=kind).item() for kind in LOSS_TYPES}
    # grpo: answer means -1 and 2, averaged; bnpo/dapo: token sum 2 x -1 + 3 x 2 = 4 over 5 tokens; dr_grpo: 4 / (2 x 3)
    assert losses == pytest.approx({"grpo": 0.5, "bnpo": 0.8, "dapo": 0.8, "dr_grpo": 4 / 6})


def test_clipping_and_the_kl_term_by_hand():
    mask = torch.ones(2, 1)
    old = torch.zeros(2, 1)
    logprobs = torch.full((2, 1), math.log(1.5))  # ratio 1.5
    loss = grpo_loss(logprobs, old, torch.tensor([1.0, -1.0]), mask, loss_type="bnpo")
    # A = 1: -min(1.5, 1.2) = -1.2; A = -1: -min(-1.5, -1.2) = 1.5 (clipping never helps the objective)
    assert loss.item() == pytest.approx((-1.2 + 1.5) / 2)
    assert k3_kl(torch.zeros(1), torch.tensor([math.log(2.0)])).item() == pytest.approx(2 - math.log(2) - 1)
    with_kl = grpo_loss(old, old, torch.zeros(2), mask, ref_logprobs=torch.full((2, 1), math.log(2)), beta=0.5)
    assert with_kl.item() == pytest.approx(0.5 * (1 - math.log(2)))


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_weights_of_duplicate_answers_give_the_full_batchs_loss_and_gradient(loss_type):
    generator = torch.Generator().manual_seed(0)
    full_logprobs = torch.randn(2, 4, generator=generator)
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    advantages, old = torch.tensor([0.7, -1.3]), torch.randn(2, 4, generator=generator)
    rows = [0, 0, 1]  # answer 0 twice

    def loss_and_grad(index, weights):
        logprobs = full_logprobs.clone().requires_grad_(True)
        loss = grpo_loss(
            logprobs[index], old[index], advantages[index], mask[index], loss_type=loss_type, weights=weights
        )
        loss.backward()
        return loss.item(), logprobs.grad

    full = loss_and_grad(rows, None)
    packed = loss_and_grad([0, 1], torch.tensor([2.0, 1.0]))
    assert full[0] == pytest.approx(packed[0])
    assert torch.allclose(full[1], packed[1])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Unknown loss_type 'ppo'"):
        grpo_loss(torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1), torch.ones(1, 1), loss_type="ppo")
    with pytest.raises(ValueError, match="beta > 0 needs ref_logprobs"):
        grpo_loss(torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1), torch.ones(1, 1), beta=0.1)
    with pytest.raises(ValueError, match="must be equal 1-d"):
        group_advantages(torch.zeros(3), torch.zeros(2))
