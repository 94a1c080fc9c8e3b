"""dtype "auto": bfloat16 only where the CPU runs it fast (a cached probe), with a warning for a slow explicit bf16."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from llm_agents.agent import hardware
from llm_agents.agent.hardware import Bf16Probe, cached_bf16_probe, choose_dtype

CPU = torch.device("cpu")
FAST = Bf16Probe(float32_ms=9.0, bfloat16_ms=3.5, cpu_flags=("avx512_bf16",), machine="fast")
SLOW = Bf16Probe(float32_ms=9.0, bfloat16_ms=35.7, cpu_flags=(), machine="slow")


def test_auto_follows_the_probe_on_cpu():
    assert choose_dtype("auto", CPU, probe=FAST).dtype == torch.bfloat16
    slow = choose_dtype("auto", CPU, probe=SLOW)
    assert slow.dtype == torch.float32
    assert "4.0x slower" in slow.reason and "35.7 ms" in slow.reason


def test_explicit_bfloat16_on_a_slow_cpu_warns_by_how_much():
    with pytest.warns(UserWarning, match=r"4\.0x slower than float32 here"):
        assert choose_dtype("bfloat16", CPU, probe=SLOW).dtype == torch.bfloat16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert choose_dtype("bfloat16", CPU, probe=FAST).dtype == torch.bfloat16
        assert choose_dtype("float32", CPU, probe=SLOW).dtype == torch.float32


def test_a_bad_dtype_names_the_choices():
    with pytest.raises(ValueError, match=r"'float64'.*'auto' picks"):
        choose_dtype("float64", CPU, probe=FAST)


def test_the_probe_is_measured_once_per_machine_and_cached(tmp_path, monkeypatch):
    calls = []

    def fake_measure(seconds: float = 0.05) -> Bf16Probe:
        calls.append(seconds)
        model, _, digest = hardware.cpu_identity()
        return Bf16Probe(9.0, 3.0, (), f"{model} | {digest} | torch {torch.__version__}", load_per_core=0.05)

    monkeypatch.setattr(hardware, "measure_bf16", fake_measure)
    first = cached_bf16_probe(tmp_path)
    second = cached_bf16_probe(tmp_path)
    assert first == second and len(calls) == 1
    saved = json.loads((tmp_path / hardware.PROBE_FILE).read_text())
    assert saved["bfloat16_ms"] == 3.0
    # another machine's (or a damaged) entry is measured again
    (tmp_path / hardware.PROBE_FILE).write_text(json.dumps({**saved, "machine": "elsewhere"}))
    cached_bf16_probe(tmp_path)
    (tmp_path / hardware.PROBE_FILE).write_text("{not json")
    cached_bf16_probe(tmp_path)
    assert len(calls) == 3


def test_a_probe_taken_on_a_busy_machine_is_taken_again_until_one_is_quiet(tmp_path, monkeypatch):
    """A probe taken while other jobs held the cores must not decide every later run."""
    loads = iter([1.6, 2.0, 0.9, 0.1, 0.7])
    taken = []

    def fake_measure(seconds: float = 0.1) -> Bf16Probe:
        model, _, digest = hardware.cpu_identity()
        load = next(loads)
        taken.append(load)
        # under load bfloat16 looked slow; on the quiet machine it is fast
        bf16_ms = 12.0 if load > hardware.QUIET_LOAD else 3.0
        return Bf16Probe(9.0, bf16_ms, (), f"{model} | {digest} | torch {torch.__version__}", load_per_core=load)

    monkeypatch.setattr(hardware, "measure_bf16", fake_measure)
    saved_load = lambda: json.loads((tmp_path / hardware.PROBE_FILE).read_text())["load_per_core"]  # noqa: E731
    assert not cached_bf16_probe(tmp_path).bf16_is_fast and saved_load() == 1.6
    cached_bf16_probe(tmp_path)
    assert saved_load() == 1.6  # a busier probe does not replace a quieter one
    cached_bf16_probe(tmp_path)
    assert saved_load() == 0.9
    assert cached_bf16_probe(tmp_path).bf16_is_fast and saved_load() == 0.1
    assert cached_bf16_probe(tmp_path).bf16_is_fast and taken == [1.6, 2.0, 0.9, 0.1]  # the quiet one stands


def test_an_old_cache_entry_without_its_load_is_taken_again(tmp_path, monkeypatch):
    model, _, digest = hardware.cpu_identity()
    machine = f"{model} | {digest} | torch {torch.__version__}"
    old = {"float32_ms": 9.0, "bfloat16_ms": 30.0, "cpu_flags": [], "machine": machine}
    (tmp_path / hardware.PROBE_FILE).write_text(json.dumps(old))
    monkeypatch.setattr(hardware, "measure_bf16", lambda seconds=0.1: Bf16Probe(9.0, 3.0, (), machine, 0.0))
    assert cached_bf16_probe(tmp_path).bf16_is_fast


def test_the_real_probe_measures_both_formats():
    probe = hardware.measure_bf16(seconds=0.01)
    assert probe.float32_ms > 0 and probe.bfloat16_ms > 0 and probe.speedup > 0
    assert probe.load_per_core is None or probe.load_per_core >= 0
