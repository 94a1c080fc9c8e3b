"""The thread rule: an explicit count wins, else the free cores of our affinity mask, at least one."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from llm_agents import threads


@pytest.mark.parametrize(
    ("cores", "busy", "expected"),
    [(2, 0, 2), (2, 1, 1), (2, 2, 1), (2, 7, 1), (16, 3, 13), (4, 0, 4)],
)
def test_the_free_cores_of_the_machine_and_never_zero(cores, busy, expected, monkeypatch):
    monkeypatch.delenv(threads.ENVIRONMENT_VARIABLE, raising=False)
    assert threads.choose_threads(cores=cores, busy=busy, others=[]) == expected


@pytest.mark.parametrize(
    ("cores", "busy", "others", "own", "expected"),
    [
        (2, 0, [2], 0, 1),  # a training started a second ago: the load does not show it yet, its file does
        (2, 2, [2], 0, 1),  # its load is its own, not a stranger's
        (16, 8, [4, 4], 0, 5),
        (16, 12, [4, 4], 0, 4),  # 4 cores of load that no llm_agents process explains
        (2, 2, [], 2, 2),  # re-dividing while running: our own load is not a stranger's either
        (2, 3, [1], 2, 1),
    ],
)
def test_our_processes_share_the_cores(cores, busy, others, own, expected, monkeypatch):
    monkeypatch.delenv(threads.ENVIRONMENT_VARIABLE, raising=False)
    assert threads.choose_threads(cores=cores, busy=busy, others=others, own=own) == expected


def test_each_process_announces_its_threads_while_it_lives(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "REGISTRY", tmp_path)
    code = (
        "import sys; from pathlib import Path; from llm_agents import threads; "
        f"threads.REGISTRY = Path({str(tmp_path)!r}); threads.configure_threads(1); print('ready', flush=True); "
        "sys.stdin.readline()"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert threads.other_processes() == [1]
        assert threads.choose_threads(cores=2, busy=0) == 1
    finally:
        child.communicate("\n")
    assert threads.other_processes() == [] and not (tmp_path / str(child.pid)).exists()
    (tmp_path / "999999999").write_text("2")  # a dead process's file is ignored and removed
    assert threads.other_processes() == [] and list(tmp_path.iterdir()) == []


def test_an_explicit_count_wins_over_the_machine_and_the_environment(monkeypatch):
    monkeypatch.setenv(threads.ENVIRONMENT_VARIABLE, "3")
    assert threads.choose_threads(cores=2, busy=2) == 3
    assert threads.choose_threads(5, cores=2, busy=2) == 5


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None, 10**6])
def test_a_bad_count_is_named(bad):
    with pytest.raises(ValueError, match="threads must be a whole number of threads from 1 to 4096") as error:
        threads.check_threads(bad)
    assert repr(bad) in str(error.value)


def test_a_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv(threads.ENVIRONMENT_VARIABLE, "two")
    with pytest.raises(ValueError, match="LLM_AGENTS_THREADS must be a whole number of threads, got 'two'"):
        threads.choose_threads()


def test_the_affinity_mask_bounds_the_default():
    """Run under a one-core mask (taskset's effect), a fresh process takes one thread whatever the machine has."""
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from llm_agents import threads; import os; os.environ.pop('LLM_AGENTS_THREADS', None); "
        "print(threads.configure_threads(), os.environ['OMP_NUM_THREADS'])"
    )
    if not hasattr(__import__("os"), "sched_setaffinity"):
        pytest.skip("this OS has no affinity masks")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1", "1"]


def test_configure_sets_torch_once_imported_and_warns_once_when_busy(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    monkeypatch.delenv(threads.ENVIRONMENT_VARIABLE, raising=False)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda: 3)
    monkeypatch.setattr(threads, "other_processes", lambda: [])
    monkeypatch.setattr(threads, "_warned", False)
    for name, value in (("REGISTRY", tmp_path), ("_automatic", False), ("_current", 0), ("_registered", True)):
        monkeypatch.setattr(threads, name, value)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (3.2, 0.0, 0.0))
    try:
        with pytest.warns(
            UserWarning,
            match=r"the cores are shared \(load 3.2 on 4 cores, 0 other llm_agents process\(es\)\): using 1 torch",
        ):
            assert threads.configure_threads() == 1
        assert torch.get_num_threads() == 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert threads.configure_threads() == 1  # said once
    finally:
        torch.set_num_threads(before)
