"""The pure tensor maths of token-level PPO, with the exact semantics of trl 0.11's ``PPOTrainer``.

Every function here is small and stateless and works on ``(batch, response_length)`` tensors with a 0/1 ``mask``
marking the real response tokens. We write these by hand because trl removed its PPO in version 1.13 (PR #7020) and
its remaining helpers are not public API; each is a few lines and is pinned by golden tests against hand-computed
numbers. At the end, the few numbers PPO carries from step to step: the KL coefficient's controllers and the running
score moments.

Conventions (as trl's): ``masked_var`` is unbiased (Bessel-corrected over the mask count); ``masked_whiten`` adds
``1e-8`` to the variance; the policy ratio is ``exp(logprob - old_logprob)``; the value loss carries the factor
``0.5``; ``approx_kl`` is ``0.5 * mean((logprob - old_logprob) ** 2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from llm_agents.ppo.config import KL_PENALTIES, KLPenalty

WHITEN_EPS = 1e-8


def masked_mean(values: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Mean of ``values`` over the positions where ``mask`` is 1 (over all of them, or along ``dim``)."""
    if dim is None:
        return (values * mask).sum() / mask.sum()
    return (values * mask).sum(dim=dim) / mask.sum(dim=dim)


def masked_var(values: torch.Tensor, mask: torch.Tensor, unbiased: bool = True) -> torch.Tensor:
    """Variance of ``values`` over the masked positions; unbiased (divides by ``n - 1``) by default, as trl.

    Raises:
        ValueError: if the mask is empty, or holds a single position while ``unbiased`` is asked for.
    """
    mask_sum = mask.sum()
    if mask_sum == 0:
        raise ValueError("masked_var got an empty mask: there are no response tokens to take a variance over.")
    mean = masked_mean(values, mask)
    variance = masked_mean((values - mean) ** 2, mask)
    if unbiased:
        if mask_sum == 1:
            raise ValueError(
                "masked_var(unbiased=True) needs at least 2 masked positions, got 1; use a larger (mini)batch "
                "or longer responses."
            )
        variance = variance * (mask_sum / (mask_sum - 1))
    return variance


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    """Normalise ``values`` to zero mean and unit (unbiased) variance over the mask.

    With ``shift_mean=False`` the mean is added back, so only the scale changes (trl's ``whiten_rewards``).
    Positions outside the mask are transformed too; callers mask them out later.
    """
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + WHITEN_EPS)
    if not shift_mean:
        whitened = whitened + mean
    return whitened


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the categorical distribution given by ``logits`` over the last dimension (trl's formula)."""
    logits = logits.float()
    probs = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - (probs * logits).sum(dim=-1)


def kl_penalty(
    logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    kind: KLPenalty = "kl",
    *,
    full_logprobs: torch.Tensor | None = None,
    full_ref_logprobs: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-token KL estimate between the policy and the reference, as trl's ``_kl_penalty``.

    Args:
        logprobs: ``(B, T)`` log-probabilities of the sampled tokens under the policy.
        ref_logprobs: ``(B, T)`` the same under the reference.
        kind: ``"kl"`` (``logp - ref``), ``"abs"`` (``|logp - ref|``), ``"mse"`` (``0.5 (logp - ref)^2``) or ``"full"``
            (the exact KL over the vocabulary at each position, which needs ``full_logprobs`` and
            ``full_ref_logprobs`` of shape ``(B, T, vocab)``).

    Returns:
        ``(B, T)`` per-token penalties (unmasked).
    """
    if kind == "kl":
        return logprobs - ref_logprobs
    if kind == "abs":
        return (logprobs - ref_logprobs).abs()
    if kind == "mse":
        return 0.5 * (logprobs - ref_logprobs).square()
    if kind == "full":
        if full_logprobs is None or full_ref_logprobs is None:
            raise ValueError("kl_penalty 'full' needs full_logprobs and full_ref_logprobs over the vocabulary.")
        return F.kl_div(full_ref_logprobs, full_logprobs, log_target=True, reduction="none").sum(-1)
    raise ValueError(f"Unknown kl_penalty {kind!r}; expected one of {KL_PENALTIES}.")


def per_token_rewards(
    scores: torch.Tensor, kl: torch.Tensor, mask: torch.Tensor, kl_coef: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token rewards: ``-kl_coef * kl`` on every token plus each score on its row's last masked token.

    Args:
        scores: ``(B,)`` one scalar score per sample.
        kl: ``(B, T)`` per-token KL penalties.
        mask: ``(B, T)`` 1 on response tokens; each row needs at least one.
        kl_coef: the current KL coefficient beta.

    Returns:
        ``(rewards, non_score_rewards)``, both ``(B, T)`` and unmasked, as trl's ``compute_rewards``.
    """
    if bool((mask.sum(dim=-1) == 0).any()):
        raise ValueError("Every sample needs at least one response token; got an empty response mask.")
    non_score = -kl_coef * kl
    rewards = non_score.clone()
    last = mask.shape[-1] - 1 - torch.flip(mask, dims=[-1]).argmax(dim=-1)
    rows = torch.arange(rewards.shape[0], device=rewards.device)
    rewards[rows, last] += scores.to(rewards.dtype)
    return rewards, non_score


def gae_advantages(
    values: torch.Tensor,
    rewards: torch.Tensor,
    mask: torch.Tensor,
    gamma: float,
    lam: float,
    *,
    whiten_rewards: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over the token axis, as trl's ``compute_advantages``.

    Values and rewards are zeroed outside the mask first, so the value after a row's last response token is 0.

    Returns:
        ``(values, advantages, returns)``: the masked values, the advantages whitened over the mask (detached) and
        the returns ``A + V`` (before whitening), all ``(B, T)``.
    """
    values = values * mask
    rewards = rewards * mask
    if whiten_rewards:
        rewards = masked_whiten(rewards, mask, shift_mean=False)
    length = rewards.shape[-1]
    last_gae = torch.zeros_like(rewards[:, 0])
    reversed_advantages = []
    for t in reversed(range(length)):
        next_values = values[:, t + 1] if t < length - 1 else torch.zeros_like(values[:, t])
        delta = rewards[:, t] + gamma * next_values - values[:, t]
        last_gae = delta + gamma * lam * last_gae
        reversed_advantages.append(last_gae)
    advantages = torch.stack(reversed_advantages[::-1], dim=1)
    returns = advantages + values
    return values, masked_whiten(advantages, mask).detach(), returns


def policy_loss(
    logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, cliprange: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate loss.

    Returns:
        ``(loss, clipfrac, ratio)``: the masked mean of ``max(-A r, -A clip(r, 1-eps, 1+eps))``, the masked fraction
        of tokens where the clipped term is the larger one, and the per-token ratio ``r``.
    """
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - cliprange, 1.0 + cliprange)
    loss = masked_mean(torch.max(unclipped, clipped), mask)
    clipfrac = masked_mean(torch.gt(clipped, unclipped).float(), mask)
    return loss, clipfrac, ratio


def value_loss(
    values_pred: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    cliprange_value: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped value loss, ``0.5 * masked_mean(max((v - R)^2, (clip(v, v_old +- eps) - R)^2))``.

    Returns:
        ``(loss, clipfrac)``: the loss and the masked fraction of tokens where the clipped error is the larger.
    """
    clipped_pred = torch.max(torch.min(values_pred, old_values + cliprange_value), old_values - cliprange_value)
    unclipped_error = (values_pred - returns) ** 2
    clipped_error = (clipped_pred - returns) ** 2
    loss = 0.5 * masked_mean(torch.max(unclipped_error, clipped_error), mask)
    clipfrac = masked_mean(torch.gt(clipped_error, unclipped_error).float(), mask)
    return loss, clipfrac


def approx_kl(logprobs: torch.Tensor, old_logprobs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """trl's ``ppo/policy/approxkl``: ``0.5 * masked_mean((logp - logp_old)^2)``."""
    return 0.5 * masked_mean((logprobs - old_logprobs) ** 2, mask)


def policy_kl(logprobs: torch.Tensor, old_logprobs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """trl's ``ppo/policy/policykl``: ``masked_mean(logp_old - logp)`` (drives early stopping)."""
    return masked_mean(old_logprobs - logprobs, mask)


def scale_scores(
    scores: torch.Tensor,
    running: RunningMoments | None,
    *,
    use_score_norm: bool,
    score_clip: float | None,
) -> torch.Tensor:
    """trl's score preprocessing: optional running scaling (and normalisation), then optional clipping.

    Args:
        scores: ``(B,)`` raw scores.
        running: the running moments to update and scale by, or None for no scaling (``use_score_scaling=False``).
        use_score_norm: subtract the running mean too (only with ``running``).
        score_clip: clip to ``[-score_clip, score_clip]`` when set.
    """
    if running is not None:
        running.update(scores)
        factor = running.std + torch.finfo(scores.dtype).eps
        scores = (scores - running.mean) / factor if use_score_norm else scores / factor
    if score_clip is not None:
        scores = torch.clamp(scores.float(), -score_clip, score_clip).to(scores.dtype)
    return scores


# ------------------------------------------------------------------ what PPO carries from step to step


class AdaptiveKLController:
    """Ziegler et al. (2019)'s proportional controller: ``beta *= 1 + clip(KL/target - 1, +-0.2) * n / horizon``."""

    def __init__(self, init_kl_coef: float, target: float, horizon: float) -> None:
        self.value = float(init_kl_coef)
        self.target = float(target)
        self.horizon = float(horizon)

    def update(self, current_kl: float, n_steps: int) -> None:
        """Move beta towards the target after a batch of ``n_steps`` samples whose mean summed KL is ``current_kl``."""
        proportional_error = min(max(current_kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + proportional_error * n_steps / self.horizon

    def state_dict(self) -> dict[str, float]:
        return {"value": self.value}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.value = float(state["value"])


class FixedKLController:
    """A constant KL coefficient (trl's ``adap_kl_ctrl=False``)."""

    def __init__(self, kl_coef: float) -> None:
        self.value = float(kl_coef)

    def update(self, current_kl: float, n_steps: int) -> None:
        """Does nothing: the coefficient is fixed."""

    def state_dict(self) -> dict[str, float]:
        return {"value": self.value}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.value = float(state["value"])


@dataclass
class RunningMoments:
    """Running mean and standard deviation of all scores seen so far (trl's ``RunningMoments``).

    Starts at mean 0, variance 1 and a count of ``1e-24``, so the first batch is normalised by its own mean and
    (unbiased) std. ``std`` is ``sqrt(var * count / (count - 1))``, the unbiased running std (docs/paper.md). trl 0.11.4
    stores it as a Python float and then crashes calling ``.to`` on it; we keep floats and do not crash.
    """

    mean: float = 0.0
    std: float = 1.0
    var: float = 1.0
    count: float = 1e-24

    @torch.no_grad()
    def update(self, xs: torch.Tensor) -> tuple[float, float]:
        """Fold the batch ``xs`` into the running moments; return the batch's mean and unbiased std."""
        xs_count = xs.numel()
        xs_var, xs_mean = torch.var_mean(xs, unbiased=False)
        xs_mean, xs_var = xs_mean.float(), xs_var.float()
        delta = xs_mean - self.mean
        total_count = self.count + xs_count
        new_sum = xs_var * xs_count
        old_sum = self.var * self.count + delta**2 * self.count * xs_count / total_count
        new_var = (old_sum + new_sum) / total_count
        self.mean += (delta * xs_count / total_count).item()
        self.std = (new_var * total_count / (total_count - 1)).float().sqrt().item()
        self.var = new_var.item()
        self.count = total_count
        batch_std = math.sqrt(xs_var.item() * xs_count / (xs_count - 1)) if xs_count > 1 else float("nan")
        return xs_mean.item(), batch_std

    def state_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std, "var": self.var, "count": self.count}

    def load_state_dict(self, state: dict[str, float]) -> None:
        for key in ("mean", "std", "var", "count"):
            setattr(self, key, float(state[key]))
