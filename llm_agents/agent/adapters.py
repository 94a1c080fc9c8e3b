"""LoRA adapters through peft: attach, add, save, load, switch, and the reference policy (adapters off).

Every adapter is stored in peft's own format (``adapter_config.json`` + ``adapter_model.safetensors``), so
``peft.PeftModel.from_pretrained(base, folder)`` reads what ``save_adapter`` writes. Several named adapters share one
base model (the two-learner setting), and the reference policy is that same base model with its adapters disabled:
the weights are never copied.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import torch
from peft import PeftModel, get_peft_model, prepare_model_for_kbit_training

from llm_agents.agent.config import LoRAConfig

DEFAULT_ADAPTER = "default"


def _is_quantized(model: torch.nn.Module) -> bool:
    return bool(getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False))


def attach_lora(
    model: torch.nn.Module, lora: LoRAConfig | None = None, adapter_name: str = DEFAULT_ADAPTER
) -> PeftModel:
    """Wrap a base model with a new, trainable LoRA adapter (B = 0, so it starts equal to the base model)."""
    if isinstance(model, PeftModel):
        raise TypeError("The model already has LoRA adapters; use add_adapter(model, name) to add another one.")
    if _is_quantized(model):
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    peft_model = get_peft_model(model, (lora or LoRAConfig()).to_peft(), adapter_name=adapter_name)
    peft_model.eval()
    return peft_model


def add_adapter(peft_model: PeftModel, adapter_name: str, lora: LoRAConfig | None = None) -> PeftModel:
    """Add another fresh adapter called ``adapter_name`` to the same base model; the active adapter is unchanged."""
    _check_peft(peft_model)
    if adapter_name in peft_model.peft_config:
        raise ValueError(f"Adapter {adapter_name!r} exists already; adapters: {sorted(peft_model.peft_config)}.")
    peft_model.add_adapter(adapter_name, (lora or LoRAConfig()).to_peft())
    peft_model.eval()
    return peft_model


def load_adapter(
    model: torch.nn.Module, directory: str | Path, adapter_name: str = DEFAULT_ADAPTER, *, is_trainable: bool = True
) -> PeftModel:
    """Load a saved adapter onto ``model`` (a base model or a PeftModel that has other adapters) and activate it.

    Returns the PeftModel; on a base model this is a new wrapper around it (no weight copy).
    """
    directory = Path(directory)
    if not (directory / "adapter_config.json").is_file():
        raise FileNotFoundError(
            f"{directory} is not a LoRA adapter folder (no adapter_config.json); give a folder written by "
            "save_adapter or PeftModel.save_pretrained."
        )
    if isinstance(model, PeftModel):
        if adapter_name in model.peft_config:
            raise ValueError(f"Adapter {adapter_name!r} exists already; adapters: {sorted(model.peft_config)}.")
        model.load_adapter(str(directory), adapter_name=adapter_name, is_trainable=is_trainable)
    else:
        model = PeftModel.from_pretrained(model, str(directory), adapter_name=adapter_name, is_trainable=is_trainable)
    use_adapter(model, adapter_name)
    model.eval()
    return model


def save_adapter(peft_model: PeftModel, directory: str | Path, adapter_name: str | None = None) -> Path:
    """Save one adapter (the active one by default) in peft's format directly in ``directory``.

    peft saves any adapter not called "default" in a sub-folder named after it; this moves those files up, so that
    ``PeftModel.from_pretrained(base, directory)`` reads the folder whatever the adapter's name.
    """
    _check_peft(peft_model)
    name = adapter_name or peft_model.active_adapter
    if name not in peft_model.peft_config:
        raise ValueError(f"No adapter {name!r}; adapters: {sorted(peft_model.peft_config)}.")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".saving-") as staging:
        peft_model.save_pretrained(staging, selected_adapters=[name])
        written = Path(staging) / name if name != DEFAULT_ADAPTER else Path(staging)
        for path in written.iterdir():
            if path.is_file():
                shutil.move(str(path), directory / path.name)
    return directory


def use_adapter(peft_model: PeftModel, adapter_name: str) -> None:
    """Make ``adapter_name`` the active adapter (the one generation and training use)."""
    _check_peft(peft_model)
    if adapter_name not in peft_model.peft_config:
        raise ValueError(f"No adapter {adapter_name!r}; adapters: {sorted(peft_model.peft_config)}.")
    if peft_model.active_adapter != adapter_name:
        peft_model.set_adapter(adapter_name)


@contextlib.contextmanager
def reference_policy(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Inside this block the model is its base model (all adapters off); a model without adapters is unchanged.

    Example:
        >>> with reference_policy(peft_model) as reference:  # doctest: +SKIP
        ...     reference_logits = reference(**batch).logits
    """
    if isinstance(model, PeftModel):
        with model.disable_adapter():
            yield model
    else:
        yield model


def _check_peft(model: object) -> None:
    if not isinstance(model, PeftModel):
        raise TypeError(
            f"Expected a peft PeftModel (a model with LoRA adapters), got {type(model).__name__}; "
            "call attach_lora(model) or load_adapter(model, folder) first."
        )
