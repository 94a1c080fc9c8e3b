"""LoRA adapters through peft: attach, add, save, load, switch, and the reference policy (adapters off).

Every adapter is stored in peft's own format (``adapter_config.json`` + ``adapter_model.safetensors``), so
``peft.PeftModel.from_pretrained(base, folder)`` reads what ``save_adapter`` writes. Several named adapters share one
base model (the two-learner setting), and the reference policy is that same base model with its adapters disabled:
the weights are never copied.

``save_adapter`` also writes ``base_model.json``: the base model's name, layer count and a sample of its input
embeddings. ``load_adapter`` checks the folder before peft reads it (a broken ``adapter_config.json``, a missing or
truncated weights file: a ValueError naming the file and the fix; peft is never left to look for a missing file on
the hub), refuses a base model other than the one the adapter was trained on (by that sample, or by name for an
adapter saved without it), and checks that every LoRA weight of the file was loaded, shape for shape: a LoRA weight
is never dropped silently. ``force=True`` turns the refusal into a warning.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel, get_peft_model, get_peft_model_state_dict, prepare_model_for_kbit_training

from llm_agents.agent.config import LoRAConfig
from llm_agents.runs.folder import writing

DEFAULT_ADAPTER = "default"
CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILES = ("adapter_model.safetensors", "adapter_model.bin")
"""peft's weights file: safetensors (what ``save_adapter`` writes), or the pickle of older peft versions."""
BASE_FILE = "base_model.json"
"""Which base model an adapter was trained on, written by ``save_adapter`` beside peft's files."""
SAMPLE_ROWS, SAMPLE_SIZE = 256, 64
"""The base's fingerprint: ``SAMPLE_SIZE`` values spread over the first ``SAMPLE_ROWS`` rows of its input embeddings
(the first rows: a vocabulary grown by new tokens keeps them)."""


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
    model: torch.nn.Module,
    directory: str | Path,
    adapter_name: str = DEFAULT_ADAPTER,
    *,
    is_trainable: bool = True,
    force: bool = False,
) -> PeftModel:
    """Load a saved adapter onto ``model`` (a base model or a PeftModel that has other adapters) and activate it.

    Returns the PeftModel; on a base model this is a new wrapper around it (no weight copy). The folder is checked
    first, and the adapter is refused on a base model other than its own, or when a LoRA weight of its file would not
    be loaded (the module doc); ``force=True`` warns instead of refusing.

    Raises:
        FileNotFoundError: ``directory`` holds no ``adapter_config.json``.
        ValueError: a damaged or missing file, or another base model (naming both, and the fix).
    """
    directory = Path(directory)
    config = read_adapter_config(directory)
    shapes = adapter_weight_shapes(directory)
    _check_base(model, directory, config, force=force)
    was_peft = isinstance(model, PeftModel)
    if was_peft and adapter_name in model.peft_config:
        raise ValueError(f"Adapter {adapter_name!r} exists already; adapters: {sorted(model.peft_config)}.")
    # local_files_only: the files are here (checked above), so peft never turns to the hub for them
    options: dict[str, Any] = {"is_trainable": is_trainable, "local_files_only": True, "ignore_mismatched_sizes": True}
    with warnings.catch_warnings():  # what these warnings say, _check_loaded says as one error
        warnings.filterwarnings("ignore", message=r"(?s).*(ignore_mismatched_sizes|missing adapter keys)")
        if isinstance(model, PeftModel):
            model.load_adapter(str(directory), adapter_name=adapter_name, **options)
            peft = model
        else:
            peft = PeftModel.from_pretrained(model, str(directory), adapter_name=adapter_name, **options)
    try:
        _check_loaded(peft, adapter_name, directory, config, shapes, force=force)
    except ValueError:
        with contextlib.suppress(Exception):  # leave the model as it was given
            if was_peft:
                peft.delete_adapter(adapter_name)
            else:
                peft.unload()
        raise
    use_adapter(peft, adapter_name)
    peft.eval()
    return peft


def read_adapter_config(directory: Path) -> dict[str, Any]:
    """``directory/adapter_config.json`` as a dict; a missing one raises FileNotFoundError, a damaged one a
    ValueError naming it and the fix."""
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{directory} is not a LoRA adapter folder (no {CONFIG_FILE}); give a folder written by save_adapter or "
            "PeftModel.save_pretrained."
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(
            f"{path} is damaged (not JSON: {error}); copy the adapter again, or use another of the run's adapters "
            "(its checkpoints/episode_*/adapters/ hold one per checkpoint)."
        ) from None
    if not isinstance(config, dict) or "peft_type" not in config:
        raise ValueError(
            f"{path} is not a peft adapter config (no 'peft_type'); copy the adapter again, or use another of the "
            "run's adapters (its checkpoints/episode_*/adapters/ hold one per checkpoint)."
        )
    return config


def adapter_weight_shapes(directory: Path) -> dict[str, tuple[int, ...]]:
    """Each weight of the adapter's weights file and its shape, read (and so checked) without loading the weights.

    Raises:
        ValueError: no weights file, or a damaged one (truncated, empty, not safetensors), naming it and the fix.
    """
    found = [directory / name for name in WEIGHTS_FILES if (directory / name).is_file()]
    if not found:
        raise ValueError(
            f"{directory} holds {CONFIG_FILE} but no weights ({WEIGHTS_FILES[0]}): the adapter was not saved whole. "
            "Copy it again, or use another of the run's adapters (checkpoints/episode_*/adapters/)."
        )
    path = found[0]
    try:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as weights:
                return {key: tuple(weights.get_slice(key).get_shape()) for key in weights.keys()}  # noqa: SIM118
        state = torch.load(path, map_location="cpu", weights_only=True)
        return {key: tuple(value.shape) for key, value in state.items()}
    except Exception as error:  # safetensors' SafetensorError, torch's unpickling errors: the file is damaged
        raise ValueError(
            f"{path} is damaged ({error}): it was cut short or overwritten. Copy the adapter again, or use another "
            "of the run's adapters (checkpoints/episode_*/adapters/)."
        ) from None


def base_fingerprint(model: torch.nn.Module) -> dict[str, Any]:
    """Which base model ``model`` is (a PeftModel's base): its name, layer count, hidden size and a sample of its
    input embeddings (``SAMPLE_SIZE`` values, equal across dtypes up to rounding)."""
    base = model.get_base_model() if isinstance(model, PeftModel) else model
    config = getattr(base, "config", None)
    fingerprint: dict[str, Any] = {
        "format": 1,
        "name": getattr(base, "name_or_path", None) or None,
        "layers": getattr(config, "num_hidden_layers", None),
    }
    embeddings = base.get_input_embeddings() if hasattr(base, "get_input_embeddings") else None
    weight = getattr(embeddings, "weight", None)
    if isinstance(weight, torch.Tensor) and weight.dim() == 2 and weight.device.type != "meta":
        block = weight.detach()[:SAMPLE_ROWS].reshape(-1)
        positions = torch.linspace(0, block.numel() - 1, SAMPLE_SIZE).long().to(block.device)
        fingerprint["hidden_size"] = int(weight.shape[1])
        fingerprint["embedding_sample"] = block[positions].float().cpu().tolist()
    return fingerprint


def _same_base(recorded: dict[str, Any], current: dict[str, Any]) -> tuple[bool, str]:
    """Whether two fingerprints are one base model, and how they differ when not. The embedding sample decides when
    both have one (the name may differ: the same model in another folder); else the names do."""
    for key, what in (("layers", "layers"), ("hidden_size", "hidden size")):
        if recorded.get(key) is not None and current.get(key) is not None and recorded[key] != current[key]:
            return False, f"{what} {recorded[key]} against {current[key]}"
    if recorded.get("embedding_sample") and current.get("embedding_sample"):
        same = torch.allclose(
            torch.tensor(recorded["embedding_sample"]), torch.tensor(current["embedding_sample"]), rtol=1e-2, atol=1e-6
        )
        return same, "" if same else "the same shapes, but other weights"
    return _same_name(recorded.get("name"), current.get("name")), "another name"


def _same_name(recorded: object, current: object) -> bool:
    """Two names of base models that may be one model: unknown, equal, the same folder, or the same last part (one
    model in two checkouts or caches)."""
    if not recorded or not current:
        return True
    a, b = str(recorded).rstrip("/"), str(current).rstrip("/")
    if a == b or Path(a).name == Path(b).name:
        return True
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except (OSError, RuntimeError):
        return False


def _check_base(model: torch.nn.Module, directory: Path, config: dict[str, Any], *, force: bool) -> None:
    """Refuse (or, with ``force``, warn about) a base model other than the one the adapter was trained on."""
    recorded: dict[str, Any] = {"name": config.get("base_model_name_or_path")}
    base_file = directory / BASE_FILE
    if base_file.is_file():
        try:
            recorded = {**recorded, **json.loads(base_file.read_text(encoding="utf-8"))}
        except (UnicodeDecodeError, ValueError, TypeError):
            raise ValueError(
                f"{base_file} is damaged (not a JSON object); copy the adapter again, or delete that file to check "
                "the base model by name only."
            ) from None
    current = base_fingerprint(model)
    same, difference = _same_base(recorded, current)
    if not same:
        _refuse_or_warn(
            f"The adapter {directory} was trained on base model {recorded.get('name') or '(unnamed)'!r}, not on "
            f"{current.get('name') or '(unnamed)'!r}, the model it is being loaded onto ({difference}): its LoRA "
            "weights would be dropped or meaningless there.",
            recorded.get("name"),
            force=force,
        )


def _check_loaded(
    peft: PeftModel,
    adapter_name: str,
    directory: Path,
    config: dict[str, Any],
    shapes: dict[str, tuple[int, ...]],
    *,
    force: bool,
) -> None:
    """Every LoRA weight of the file is in the model now, shape for shape, and the model has no LoRA weight of this
    adapter that the file lacks."""
    state = get_peft_model_state_dict(peft, adapter_name=adapter_name)
    loaded = {key: tuple(value.shape) for key, value in state.items()}
    dropped = sorted(key for key in shapes if key not in loaded)
    missing = sorted(key for key in loaded if key not in shapes)
    misfit = sorted(key for key in shapes if key in loaded and loaded[key] != shapes[key])
    problems = []
    if dropped:
        problems.append(f"{len(dropped)} LoRA weights of the file have no place in it (e.g. {dropped[0]})")
    if misfit:
        key = misfit[0]
        problems.append(f"{len(misfit)} have another shape (e.g. {key}: {shapes[key]} in the file, {loaded[key]})")
    if missing:
        problems.append(f"{len(missing)} LoRA weights it has are not in the file (e.g. {missing[0]})")
    if problems:
        recorded = config.get("base_model_name_or_path")
        current = getattr(peft.get_base_model(), "name_or_path", "") or "(unnamed)"
        _refuse_or_warn(
            f"The adapter {directory} (trained on {recorded or 'an unnamed base model'}) does not fit the model it "
            f"is being loaded onto, {current}: {'; '.join(problems)}.",
            recorded,
            force=force,
        )


def _refuse_or_warn(problem: str, recorded: object, *, force: bool) -> None:
    own = f"load it onto its own base model (--model {recorded})" if recorded else "load it onto its own base model"
    if force:
        warnings.warn(f"{problem} Loading it anyway (force=True).", UserWarning, stacklevel=4)
        return
    raise ValueError(f"{problem} {own[0].upper()}{own[1:]}, or pass force=True (--force) to load it anyway.")


def save_adapter(peft_model: PeftModel, directory: str | Path, adapter_name: str | None = None) -> Path:
    """Save one adapter (the active one by default) in peft's format directly in ``directory``, with
    ``base_model.json`` (which base it was trained on: ``base_fingerprint``).

    peft saves any adapter not called "default" in a sub-folder named after it; this moves those files up, so that
    ``PeftModel.from_pretrained(base, directory)`` reads the folder whatever the adapter's name. A write that fails
    for a reason outside the program (a full disk, a read-only folder) raises ``runs.folder.WriteFailed``.
    """
    _check_peft(peft_model)
    name = adapter_name or peft_model.active_adapter
    if name not in peft_model.peft_config:
        raise ValueError(f"No adapter {name!r}; adapters: {sorted(peft_model.peft_config)}.")
    directory = Path(directory)
    with writing(directory):
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".saving-") as staging:
            peft_model.save_pretrained(staging, selected_adapters=[name])
            written = Path(staging) / name if name != DEFAULT_ADAPTER else Path(staging)
            (written / BASE_FILE).write_text(json.dumps(base_fingerprint(peft_model)) + "\n", encoding="utf-8")
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
