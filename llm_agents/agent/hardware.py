"""Where a model runs and in which number format: ``resolve_device`` and ``choose_dtype``.

``dtype="auto"`` picks the fastest format the machine runs well:

- CUDA: bfloat16 where the GPU supports it, else float16;
- CPU: bfloat16 only where this CPU multiplies bfloat16 matrices clearly faster than float32, else float32.

CPUs differ here in a way that matters: with the AVX512-BF16 (or AMX) instructions a bfloat16 matmul is about 2-3x
faster than float32; without them torch emulates it and it is about 4x *slower*. ``torch.backends.cpu`` does not tell
the two apart (it reports "AVX512" on both), and CPU flags can lie under virtualisation, so the choice rests on a
measurement: a probe that times one matmul of the size of a SmolLM2 layer in both formats, interleaved so that a
burst of load hits both alike (about 0.2 s), cached per machine (CPU model, flags and torch version) in the model cache
folder with the machine's load at the time. A probe taken on a busy machine is not trusted for later runs: it is taken
again until one is taken on a quiet machine (load below ``QUIET_LOAD`` per core), which then stands. The CPU flags are
reported beside it.

An explicit ``"bfloat16"`` on a CPU where it is slow is honoured, with a warning that says by how much.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import platform
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

PROBE_FILE = "dtype_probe.json"
PROBE_SHAPE = (1024, 576, 1536)
"""(m, k, n) of the probe matmul: a batch of 1024 token positions through a 576 x 1536 projection (SmolLM2's MLP)."""

FAST_ENOUGH = 0.8
"""bfloat16 is chosen when its probe time is below this fraction of float32's."""

QUIET_LOAD = 0.25
"""A cached probe stands for later runs only if the 1-minute load per core was below this when it was taken."""

BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
"""CPU flags that mean native bfloat16 arithmetic (x86 AVX512-BF16 and AMX; ``bf16`` on aarch64)."""


def resolve_device(device: str) -> torch.device:
    """``"auto"`` is the first CUDA device when there is one, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available; use device='auto' or 'cpu'.")
    return torch.device(device)


@dataclass(frozen=True)
class Bf16Probe:
    """How fast this CPU runs a bfloat16 matmul against float32 (the probe of the module docstring).

    Attributes:
        float32_ms: Median time of the probe matmul in float32.
        bfloat16_ms: The same in bfloat16.
        cpu_flags: The bfloat16-related CPU flags found (``BF16_FLAGS``), for the record.
        machine: What the cache entry is keyed by (CPU model, flags digest, torch version).
        load_per_core: The 1-minute load average per usable core when it was taken (None: not recorded).
    """

    float32_ms: float
    bfloat16_ms: float
    cpu_flags: tuple[str, ...]
    machine: str
    load_per_core: float | None = None

    @property
    def quiet(self) -> bool:
        """Taken on a quiet machine, so later runs may trust it."""
        return self.load_per_core is not None and self.load_per_core < QUIET_LOAD

    @property
    def speedup(self) -> float:
        """float32 time / bfloat16 time: above 1 when bfloat16 is faster."""
        return self.float32_ms / self.bfloat16_ms

    @property
    def bf16_is_fast(self) -> bool:
        return self.bfloat16_ms < FAST_ENOUGH * self.float32_ms


@dataclass(frozen=True)
class DtypeChoice:
    """The dtype a model is loaded in, and why (printed once at the start of a run)."""

    dtype: torch.dtype
    reason: str

    @property
    def name(self) -> str:
        return str(self.dtype).removeprefix("torch.")


def cpu_identity() -> tuple[str, tuple[str, ...], str]:
    """(CPU model name, its bfloat16-related flags, a digest of all its flags), from ``/proc/cpuinfo`` if any."""
    model, flags = platform.processor() or platform.machine(), ""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and model in ("", platform.machine()):
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = value.strip()
    names = set(flags.split())
    digest = hashlib.sha256(flags.encode()).hexdigest()[:12]
    return model, tuple(flag for flag in BF16_FLAGS if flag in names), digest


def _elapsed(a: torch.Tensor, b: torch.Tensor) -> float:
    start = time.perf_counter()
    a @ b
    return time.perf_counter() - start


def load_per_core() -> float | None:
    """The 1-minute load average per core this process may use (None where the OS has no load average)."""
    from llm_agents.threads import available_cores

    try:
        return os.getloadavg()[0] / available_cores()
    except (AttributeError, OSError):
        return None


def measure_bf16(seconds: float = 0.1) -> Bf16Probe:
    """Time the probe matmul in both formats now, alternating one of each (about ``2 * seconds`` in all)."""
    m, k, n = PROBE_SHAPE
    generator = torch.Generator().manual_seed(0)
    pairs = [(torch.randn(m, k, generator=generator), torch.randn(k, n, generator=generator))]
    pairs.append((pairs[0][0].bfloat16(), pairs[0][1].bfloat16()))
    for a, b in pairs * 2:  # warm-up: first calls pick kernels and allocate
        a @ b
    times: tuple[list[float], list[float]] = ([], [])
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times[0]) < 3:
        for (a, b), measured in zip(pairs, times, strict=True):
            measured.append(_elapsed(a, b))
    float32_ms, bfloat16_ms = (1000 * sorted(measured)[len(measured) // 2] for measured in times)
    model, flags, digest = cpu_identity()
    machine = f"{model} | {digest} | torch {torch.__version__}"
    return Bf16Probe(float32_ms, bfloat16_ms, flags, machine, load_per_core())


def cached_bf16_probe(cache_dir: Path | None) -> Bf16Probe:
    """The probe of this machine: read from ``cache_dir/dtype_probe.json`` if it was measured here on a quiet
    machine, else measured now and saved there unless the saved one was taken on a quieter machine
    (``cache_dir=None`` measures without caching)."""
    model, _, digest = cpu_identity()
    machine = f"{model} | {digest} | torch {torch.__version__}"
    path = None if cache_dir is None else Path(cache_dir) / PROBE_FILE
    saved_probe = None
    if path is not None and path.is_file():
        try:
            saved = json.loads(path.read_text())
            if saved.get("machine") == machine:
                saved["cpu_flags"] = tuple(saved["cpu_flags"])
                saved_probe = Bf16Probe(**saved)
        except (OSError, ValueError, TypeError, KeyError):
            pass  # a damaged or foreign cache entry is measured again
    if saved_probe is not None and saved_probe.quiet:
        return saved_probe
    probe = measure_bf16()
    quieter = (
        saved_probe is None
        or saved_probe.load_per_core is None
        or (probe.load_per_core is not None and probe.load_per_core <= saved_probe.load_per_core)
    )
    if path is not None and quieter:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            partial.write_text(json.dumps(asdict(probe)))
            os.replace(partial, path)
        except OSError:
            pass  # a read-only cache only costs the probe next time
    return probe


def choose_dtype(
    requested: str, device: torch.device, *, cache_dir: Path | None = None, probe: Bf16Probe | None = None
) -> DtypeChoice:
    """The dtype to load a model in on ``device`` for ``requested`` ("auto", "float32", "bfloat16", "float16").

    Args:
        requested: ``ModelConfig.dtype``.
        device: Where the model runs.
        cache_dir: Where the CPU probe is cached (the model cache folder).
        probe: A probe result to use instead of measuring (tests, or a caller that measured already).

    Example:
        >>> choose_dtype("float32", torch.device("cpu")).name
        'float32'
    """
    if requested not in ("auto", "float32", "bfloat16", "float16"):
        raise ValueError(
            f"dtype must be 'auto', 'float32', 'bfloat16' or 'float16', got {requested!r}; 'auto' picks the fastest "
            "format this machine runs well."
        )
    if device.type == "cuda":
        if requested != "auto":
            return DtypeChoice(getattr(torch, requested), f"{requested}, as configured")
        if torch.cuda.is_bf16_supported():
            return DtypeChoice(torch.bfloat16, "auto: bfloat16, which this GPU supports")
        return DtypeChoice(torch.float16, "auto: float16 (this GPU has no bfloat16)")
    if requested == "float32":
        return DtypeChoice(torch.float32, "float32, as configured")
    if requested == "float16":
        return DtypeChoice(torch.float16, "float16, as configured (slow on most CPUs)")
    probe = probe or cached_bf16_probe(cache_dir)
    flags = ", ".join(probe.cpu_flags) or "no bfloat16 CPU flags"
    measured = f"bfloat16 matmul {probe.bfloat16_ms:.1f} ms vs float32 {probe.float32_ms:.1f} ms; {flags}"
    if requested == "bfloat16":
        if not probe.bf16_is_fast:
            warnings.warn(
                f"dtype='bfloat16' on a CPU without fast bfloat16: matrix products run {1 / probe.speedup:.1f}x "
                f"slower than float32 here ({measured}). Use dtype='auto' (float32 on this CPU) for speed.",
                UserWarning,
                stacklevel=3,
            )
        return DtypeChoice(torch.bfloat16, f"bfloat16, as configured ({measured})")
    if probe.bf16_is_fast:
        return DtypeChoice(
            torch.bfloat16, f"auto: bfloat16, {probe.speedup:.1f}x faster than float32 here ({measured})"
        )
    return DtypeChoice(torch.float32, f"auto: float32, bfloat16 is {1 / probe.speedup:.1f}x slower here ({measured})")


_announced: set[str] = set()


def announce(message: str) -> None:
    """Print ``message`` to stderr once per process (the dtype choice, shown at the start of a run)."""
    if message not in _announced:
        _announced.add(message)
        print(f"llm_agents: {message}", file=sys.stderr, flush=True)


def release_freed_memory() -> None:
    """Hand memory that Python and torch have freed back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    A training episode allocates and frees many short-lived tensors of varying size; without this the process's
    resident memory creeps up by fragmentation over a run. It costs about a millisecond.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
