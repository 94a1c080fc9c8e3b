"""The few numbers PPO carries from step to step: the KL coefficient's controllers and the running score moments."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


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
