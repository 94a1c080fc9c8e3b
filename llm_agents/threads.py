"""How many CPU threads torch may use: the cores this process may run on, fewer when the machine is already busy.

torch's default is every core of the machine, whatever else runs on it. On a small CPU this collapses as soon as two
jobs share it: two trainings with 2 threads each on 2 cores ran 10-13x slower per update than one alone, because
each OpenMP team spins waiting for cores the other holds. One thread each costs only ~2x. So the rule here is:

- an explicit request (``--threads N``, ``threads:`` in a config, ``LLM_AGENTS_THREADS``) wins;
- otherwise the cores in this process's affinity mask (``os.sched_getaffinity``, which honours ``taskset``, cgroups'
  cpusets and Ray's per-trial CPUs), less the cores other programs keep busy (the 1-minute load average, rounded,
  less what our own processes account for), shared equally with the other ``llm_agents`` processes running now, and
  at least one. When that lowers the count we say so once, with the fix.

The load average lags by a minute, so it cannot see a training that started a second ago. Our own processes therefore
announce themselves: each writes its thread count to a small file named by its pid in a per-user folder of the
temporary directory (``REGISTRY``), removed at exit (a dead pid's file is ignored and removed by the next reader), and
``refresh_threads`` (called by the training loop once per episode) re-divides the cores when others start or stop.

The environment variables ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` are set too, so that an OpenMP runtime loaded
later starts with the same team size; ``configure_threads`` therefore belongs before the first heavy import, and
also works after it (``torch.set_num_threads``). It imports nothing heavy itself.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

ENVIRONMENT_VARIABLE = "LLM_AGENTS_THREADS"
REGISTRY = Path(tempfile.gettempdir()) / f"llm-agents-threads-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
"""The folder where each running ``llm_agents`` process records its torch thread count (a file named by its pid)."""


def available_cores() -> int:
    """The cores this process may run on (its affinity mask), or the machine's count where the OS has no masks."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS and Windows have no affinity masks
        return os.cpu_count() or 1


def busy_cores() -> int:
    """The cores other processes keep busy now: the 1-minute load average, rounded (0 where the OS has none)."""
    try:
        return round(os.getloadavg()[0])
    except (AttributeError, OSError):
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process with that pid
        return True
    return True


def other_processes() -> list[int]:
    """The thread counts of the other live ``llm_agents`` processes (removing the files of dead ones)."""
    counts = []
    with contextlib.suppress(OSError):
        for path in REGISTRY.iterdir():
            if not path.name.isdigit() or int(path.name) == os.getpid():
                continue
            if not _alive(int(path.name)):
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            with contextlib.suppress(OSError, ValueError):
                counts.append(max(1, int(path.read_text() or 1)))
    return counts


def _announce(threads: int) -> None:
    """Record our thread count for the other processes (best effort: a read-only temp folder only loses sharing)."""
    global _registered
    path = REGISTRY / str(os.getpid())
    with contextlib.suppress(OSError):
        REGISTRY.mkdir(exist_ok=True)
        path.write_text(str(threads))
        if not _registered:
            _registered = True
            atexit.register(_forget, path)


def _forget(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def choose_threads(
    requested: int | None = None,
    *,
    cores: int | None = None,
    busy: int | None = None,
    others: list[int] | None = None,
    own: int = 0,
) -> int:
    """The thread count to use: ``requested`` if given, else our share of the free cores of our affinity mask.

    ``cores``, ``busy`` (the rounded load average) and ``others`` (the other llm_agents processes' thread counts)
    default to the machine's; tests pass them. ``own`` is the load this process already adds (its threads, when
    it re-divides while running).
    """
    if requested is None:
        from_environment = os.environ.get(ENVIRONMENT_VARIABLE)
        if from_environment:
            requested = parse_threads(from_environment, source=ENVIRONMENT_VARIABLE)
    if requested is not None:
        return check_threads(requested)
    cores = available_cores() if cores is None else cores
    busy = busy_cores() if busy is None else busy
    others = other_processes() if others is None else others
    external = max(0, busy - sum(others) - own)  # the load our own processes do not explain
    share = (cores - external) // (len(others) + 1)
    return max(1, min(cores, share))


def check_threads(threads: object, source: str = "threads") -> int:
    """``threads`` as a positive int, or a ValueError that names it."""
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 4096:
        raise ValueError(
            f"{source} must be a whole number of threads from 1 to 4096, got {threads!r}; "
            "leave it unset to use the free cores of this machine"
        )
    return threads


def parse_threads(text: str, source: str = "--threads") -> int:
    """Parse a thread count given as text (a command-line option or an environment variable)."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(
            f"{source} must be a whole number of threads, got {text!r}; "
            "leave it unset to use the free cores of this machine"
        ) from None
    return check_threads(value, source)


_registered = False
_warned = False
_automatic = False
_current = 0


def configure_threads(requested: int | None = None) -> int:
    """Set the thread count for this process (before or after torch is imported), announce it, and return it.

    Warns once when the load or other llm_agents processes made us take fewer threads than our cores, with the fix.
    """
    global _warned, _automatic
    threads = choose_threads(requested)
    cores = available_cores()
    _automatic = requested is None and not os.environ.get(ENVIRONMENT_VARIABLE)
    if _automatic and threads < cores and not _warned:
        _warned = True
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        warnings.warn(
            f"the cores are shared (load {load:.1f} on {cores} cores, {len(other_processes())} other llm_agents "
            f"process(es)): using {threads} torch thread(s) instead of {cores}; pass --threads {cores} "
            f"(or threads: {cores}) to use them all anyway",
            stacklevel=2,
        )
    _apply(threads)
    return threads


def refresh_threads() -> int | None:
    """Re-divide the cores after other llm_agents processes started or stopped (automatic counts only); the new
    count, or None when the count was set explicitly or never configured."""
    if not _automatic:
        return None
    threads = choose_threads(None, own=_current)
    _apply(threads)
    return threads


def _apply(threads: int) -> None:
    global _current
    _current = threads
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _announce(threads)
