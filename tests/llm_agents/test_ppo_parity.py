"""Parity of ``llm_agents.ppo.PPOTrainer.step`` with trl 0.11.4's ``PPOTrainer.step`` (the PPO the paper used).

Each case folder (format: ``shared/README.md``) holds a tiny llama, the LoRA and PPO config, the trainable tensors
before (``init``) and after (``final``) one trl step, the batch, and trl's stats. We rebuild the same policy, run
one ``step`` on the same batch and compare:

- every recorded stat to within ``1e-4 * max(1, |trl|)``;
- every trainable tensor ``w`` (each LoRA A/B matrix and the value head's weight and bias) to within 1e-3 of its
  own update: ``||w_ours - w_trl|| <= 1e-3 * ||w_trl - w_init||`` (Frobenius norms), a relative error on the
  update rather than on the weights, which would hide a wrong update behind the large initial weights.

Cases come from two places: the shared fixtures (the folder named by ``PPO_PARITY_FIXTURES``, by default
``../shared/fixtures/ppo_parity`` from the repository root) and ``tests/fixtures/ppo_parity`` (ragged lengths, several
epochs, clipping engaged), recorded with ``shared/fixtures/ppo_parity/make_parity_fixture.py`` in a side venv with
``trl==0.11.4 transformers==4.46.3 peft==0.13.2 accelerate==1.0.1 rich``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CASES = Path(os.environ.get("PPO_PARITY_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures" / "ppo_parity"))
OWN_CASES = REPO_ROOT / "tests" / "fixtures" / "ppo_parity"
STAT_TOLERANCE = 1e-4
UPDATE_TOLERANCE = 1e-3
NOT_PPO_FIELDS = {"optimizer"}  # documented in fixture.json; trl's default Adam is ours too


def _case_dirs() -> list[Path]:
    cases: dict[str, Path] = {}
    for root in (SHARED_CASES, OWN_CASES):
        if root.is_dir():
            for folder in sorted(root.iterdir()):
                if (folder / "fixture.json").is_file():
                    cases.setdefault(folder.name, folder)
    return list(cases.values())


CASES = _case_dirs()


def test_parity_cases_are_found():
    """The repository's own cases are always there; the shared one too when ../shared is laid out."""
    names = {case.name for case in CASES}
    assert {"ragged_three_epochs", "ragged_two_epochs_kl"} <= names
    if SHARED_CASES.is_dir():
        assert "equal_lengths_one_epoch" in names


def _run_case(case: Path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from llm_agents.ppo import PPOConfig, PPOTrainer, ValueHead, value_head_state_from_trl

    meta = json.loads((case / "fixture.json").read_text())
    recorded = torch.load(case / "fixture.pt", weights_only=False)
    base = AutoModelForCausalLM.from_pretrained(case / "model", dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(**meta["lora"]))
    ppo_fields = {k: v for k, v in meta["config"].items() if k not in NOT_PPO_FIELDS}
    config = PPOConfig(**ppo_fields)

    value_head = ValueHead(model.config.hidden_size, dropout=0.0)
    value_head.load_state_dict(value_head_state_from_trl(recorded["init"]))
    trainer = PPOTrainer(model, config, value_head=value_head)
    ours_by_trl_name = {f"pretrained_model.{name}": p for name, p in trainer.adapter_params.items()}
    ours_by_trl_name.update({f"v_head.{name}": p for name, p in value_head.named_parameters()})
    assert set(ours_by_trl_name) == set(recorded["init"]), "trainable tensors differ from trl's"
    with torch.no_grad():
        for name, parameter in ours_by_trl_name.items():
            parameter.copy_(recorded["init"][name])

    stats = trainer.step(recorded["queries"], recorded["responses"], recorded["scores"])
    update_errors = {}
    for name, parameter in ours_by_trl_name.items():
        init, final = recorded["init"][name], recorded["final"][name]
        update = torch.linalg.norm(final - init)
        update_errors[name] = float(torch.linalg.norm(parameter.detach() - final) / update)
    return recorded["stats"], stats, update_errors


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_step_matches_trl_0_11_4(case: Path):
    trl_stats, stats, update_errors = _run_case(case)
    stat_errors = {key: abs(stats[key] - value) for key, value in trl_stats.items()}
    worst_stat = max(stat_errors, key=stat_errors.get)
    worst_tensor = max(update_errors, key=update_errors.get)
    print(
        f"\n{case.name}: worst stat {worst_stat} |diff|={stat_errors[worst_stat]:.2e}; "
        f"worst tensor {worst_tensor} ||diff||/||update||={update_errors[worst_tensor]:.2e}"
    )
    for key, value in trl_stats.items():
        assert abs(stats[key] - value) <= STAT_TOLERANCE * max(1.0, abs(value)), (key, stats[key], value)
    for name, error in update_errors.items():
        assert error <= UPDATE_TOLERANCE, (name, error)
