"""Suite-wide: print the suite's peak memory at the end (the pytest process and its largest child), so CI shows it."""

from __future__ import annotations

import resource
import sys


def pytest_terminal_summary(terminalreporter) -> None:
    scale = 1024 if sys.platform != "darwin" else 1  # ru_maxrss is KiB on Linux, bytes on macOS
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**30
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale / 2**30
    terminalreporter.write_line(f"peak resident memory: {own:.2f} GB (pytest), {child:.2f} GB (largest subprocess)")
