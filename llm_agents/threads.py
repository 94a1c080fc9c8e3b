"""How many CPU threads torch may use: the cores this process may run on, fewer when the machine is already busy.

torch's default is every core of the machine, whatever else runs on it. On a small CPU this collapses as soon as two
jobs share it: two trainings with 2 threads each on 2 cores ran 10-13x slower per update than one alone, because
each OpenMP team spins waiting for cores the other holds. One thread each costs only ~2x. So the rule here is:

- an explicit request (``--threads N``, ``threads:`` in a config, ``LLM_AGENTS_THREADS``) wins;
- otherwise the cores in this process's affinity mask (``os.sched_getaffinity``, which honours ``taskset``, cgroups'
  cpusets and Ray's per-trial CPUs), minus the cores other processes already keep busy (the 1-minute load average,
  rounded), and at least one. When that lowers the count we say so once, with the fix.

The environment variables ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` are set too, so that an OpenMP runtime loaded
later starts with the same team size; ``configure_threads`` therefore belongs before the first heavy import, and
also works after it (``torch.set_num_threads``). It imports nothing heavy itself.
"""

from __future__ import annotations

import os
import sys
import warnings

ENVIRONMENT_VARIABLE = "LLM_AGENTS_THREADS"


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


def choose_threads(requested: int | None = None, *, cores: int | None = None, busy: int | None = None) -> int:
    """The thread count to use: ``requested`` if given, else the free cores of our affinity mask (at least 1).

    ``cores`` and ``busy`` default to the machine's; tests pass them.
    """
    if requested is None:
        from_environment = os.environ.get(ENVIRONMENT_VARIABLE)
        if from_environment:
            requested = parse_threads(from_environment, source=ENVIRONMENT_VARIABLE)
    if requested is not None:
        return check_threads(requested)
    cores = available_cores() if cores is None else cores
    busy = busy_cores() if busy is None else busy
    return max(1, min(cores, cores - busy))


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


_warned = False


def configure_threads(requested: int | None = None) -> int:
    """Set the thread count for this process (before or after torch is imported) and return it.

    Warns once when the machine's load made us take fewer threads than our cores, naming the fix.
    """
    global _warned
    threads = choose_threads(requested)
    cores = available_cores()
    if requested is None and not os.environ.get(ENVIRONMENT_VARIABLE) and threads < cores and not _warned:
        _warned = True
        warnings.warn(
            f"the machine is busy (load {os.getloadavg()[0]:.1f} on {cores} cores): using {threads} torch "
            f"thread(s) instead of {cores}; pass --threads {cores} (or threads: {cores}) to use them all anyway",
            stacklevel=2,
        )
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return threads
