"""Suite-wide: one torch thread for every run the tests start, and the suite's peak memory printed at the end (the
pytest process and its largest child), so CI shows it."""

from __future__ import annotations

import os
import resource
import sys


def pytest_configure(config) -> None:
    """Pin every training the tests start (in-process or a subprocess) to one torch thread.

    The automatic thread count follows the machine's load (``llm_agents.threads``) and may change between two runs
    or within one, and 1 and 2 threads round floats differently (a few 1e-8 in PPO's statistics), so the tests that
    compare two runs bit for bit need a fixed count. The tests of the automatic rule remove the variable themselves.
    """
    os.environ.setdefault("LLM_AGENTS_THREADS", "1")


def pytest_terminal_summary(terminalreporter) -> None:
    scale = 1024 if sys.platform != "darwin" else 1  # ru_maxrss is KiB on Linux, bytes on macOS
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**30
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale / 2**30
    terminalreporter.write_line(f"peak resident memory: {own:.2f} GB (pytest), {child:.2f} GB (largest subprocess)")
