"""What every ``llm-agents`` command does around its work: stop cleanly on SIGTERM as on Ctrl-C, and keep third-party
libraries quiet unless ``--verbose``.

SIGTERM (a job scheduler's stop, ``kill``, ``timeout``) raises ``Terminated``, a ``KeyboardInterrupt``, so every place
that stops cleanly on Ctrl-C (training prints where to resume) serves it too; the exit status is then 143 (128 +
SIGTERM) instead of Ctrl-C's 130.

transformers, huggingface_hub, peft, trl, accelerate, datasets, torch and Ray print deprecation warnings, weight-loading
progress bars and banners on every run. ``quiet_libraries`` turns them down through their own switches: environment
variables read when a library is first imported (so also by Ray's workers, which inherit them; a value the user set
wins), the loggers' levels, warning filters by module, and the progress-bar APIs of libraries already imported. It
restores all of it on exit, so a command run inside another program (a test) leaves that program as it was. Our own
warnings (``llm_agents``, ``matrix_games``) are messages for the user: ``one_line_warnings`` prints each as one line,
without the source line Python adds. A warning raised while a command is set up (the thread count's "the cores are
shared") is held (``held_warnings``) until the command's arguments passed their checks (``release_warnings``), so a
refused command line prints only its error. This module imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

NOISY_LIBRARIES = ("transformers", "huggingface_hub", "peft", "trl", "accelerate", "datasets", "torch", "ray")
"""The libraries whose logs and warnings are turned down (their loggers and the modules their warnings come from)."""

QUIET_ENVIRONMENT = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRL_EXPERIMENTAL_SILENCE": "1",
}
"""Each library's own switch, read when it is first imported; set only where the user has not set it."""

OUR_PACKAGES = tuple(str(Path(__file__).resolve().parents[1] / name) for name in ("llm_agents", "matrix_games"))
"""The folders of our own packages: a warning raised from a file in them is ours."""

INTERRUPTED = 130
TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as a ``KeyboardInterrupt`` so that what stops cleanly on Ctrl-C stops cleanly on it too."""

    exit_status = TERMINATED


def exit_status(interrupt: BaseException) -> int:
    """The exit status of a process stopped by ``interrupt``: 143 for SIGTERM, 130 for Ctrl-C."""
    return getattr(interrupt, "exit_status", INTERRUPTED)


def describe(interrupt: BaseException) -> str:
    """``"terminated (SIGTERM)"`` or ``"interrupted (Ctrl-C)"``, for the one line a stopped command prints."""
    return "terminated (SIGTERM)" if isinstance(interrupt, Terminated) else "interrupted (Ctrl-C)"


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread; the previous handler is restored after.

    Only the main thread can install signal handlers: elsewhere the block changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def quiet_libraries(enabled: bool = True) -> Iterator[None]:
    """Within the block, third-party libraries log errors only, warn nothing and draw no progress bars.

    ``enabled=False`` (``--verbose``) changes nothing. Everything changed is put back on exit.
    """
    if not enabled:
        yield
        return
    added = {name: value for name, value in QUIET_ENVIRONMENT.items() if name not in os.environ}
    loggers = {name: logging.getLogger(name) for name in NOISY_LIBRARIES}
    levels = {name: logger.level for name, logger in loggers.items()}
    os.environ.update(added)
    for logger in loggers.values():
        logger.setLevel(logging.ERROR)
    undo = _quiet_imported_libraries()
    try:
        with warnings.catch_warnings():
            modules = "|".join(NOISY_LIBRARIES)
            warnings.filterwarnings("ignore", module=rf"({modules})(\.|$)")
            yield
    finally:
        for action in reversed(undo):
            action()
        for name, logger in loggers.items():
            logger.setLevel(levels[name])
        for name in added:
            os.environ.pop(name, None)


def _quiet_imported_libraries() -> list:
    """Turn down the libraries already imported (their environment variables were read then) through their APIs;
    return what undoes it."""
    undo = []
    transformers = sys.modules.get("transformers")
    if transformers is not None:
        from transformers.utils import logging as transformers_logging

        verbosity, bars = transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled()
        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
        undo.append(lambda: transformers_logging.set_verbosity(verbosity))
        if bars:
            undo.append(transformers_logging.enable_progress_bar)
    if "huggingface_hub" in sys.modules:
        from huggingface_hub import utils as hub_utils

        if not hub_utils.are_progress_bars_disabled():
            hub_utils.disable_progress_bars()
            undo.append(hub_utils.enable_progress_bars)
    return undo


@contextlib.contextmanager
def one_line_warnings(prefix: str = "llm-agents") -> Iterator[None]:
    """Within the block, a warning from our own packages prints as ``PREFIX: warning: MESSAGE`` on stderr (one line,
    no file and source line); any other warning prints as Python prints it."""
    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if str(Path(filename).resolve()).startswith(OUR_PACKAGES):
            print(f"{prefix}: warning: {message}", file=sys.stderr if file is None else file)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


_held: list[warnings.WarningMessage] = []


@contextlib.contextmanager
def held_warnings() -> Iterator[None]:
    """Hold the warnings raised in the block (those the filters let through) until ``release_warnings``."""
    with warnings.catch_warnings(record=True) as caught:
        yield
    _held.extend(caught)


def release_warnings() -> None:
    """Issue the held warnings: a command calls this once its arguments passed their checks, before its work."""
    held = list(_held)
    _held.clear()
    for warning in held:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def drop_held_warnings() -> None:
    """Forget the held warnings (the command ended, or was refused, without releasing them)."""
    _held.clear()
