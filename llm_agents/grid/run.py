"""``run_grid(spec)``: a whole grid, from its first trial to its report, resumable and exclusive.

The grid holds ``output_dir/grid.lock`` (an OS lock, as a run folder's) for its whole life, so a second grid on the
same ``output_dir`` is refused. A grid that was stopped (its driver killed, the machine rebooted, Ctrl-C) continues
with ``resume=True``: trials whose folders say they are done are skipped, the others resume from their run folders.

When it ends, every trial has one of four states, the folders having the last word: ``done``; ``failed`` (it ran and
failed after its retries); ``interrupted`` (it was running when Ctrl-C stopped the grid); ``pending`` (it never
started). Unless every trial is done, the grid prints the exact command that continues it (``resume_command``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import yaml

from llm_agents.grid.backends import require_ray, run_locally, run_on_ray
from llm_agents.grid.progress import Manifest, final_table, relative
from llm_agents.grid.spec import GridFileError, GridSpec
from llm_agents.grid.trial import result_row, trial_state
from llm_agents.runs.folder import folder_lock

Backend = Literal["ray", "local"]
STOPPED_STATES = ("interrupted", "pending")
"""The final states of a grid that was stopped before it finished (``llm-agents grid`` exits 130)."""


def run_grid(
    spec: GridSpec,
    *,
    backend: Backend = "ray",
    address: str | None = None,
    resume: bool = False,
    dashboard: bool = False,
    emit: Callable[[str], None] = print,
) -> list[dict]:
    """Run every trial of ``spec`` not done yet, then the report; return the final table's rows, each with the
    trial's final ``state`` (see the module docstring).

    Ctrl-C stops the grid: the trial that runs is ``interrupted``, those never started stay ``pending``, and the
    rows are returned as after any other end. Raises ``GridFileError`` when ``output_dir`` already holds a grid and
    ``resume`` is False.
    """
    if backend == "ray":
        require_ray()  # before anything is written
    spec.output_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(spec.output_dir, spec.output_dir / "grid.lock"):
        manifest = Manifest(spec)
        evaluates = any(trial.evaluation is not None for trial in spec.trials)
        started = any(trial_state(trial, evaluates) != "pending" for trial in spec.trials)
        if manifest.path.exists() and started and not resume:
            raise GridFileError(
                f"{relative(spec.output_dir)} holds a grid already ({manifest.path.name}); continue it with --resume, "
                "or choose another output_dir."
            )
        pending = []
        for trial in spec.trials:
            if trial_state(trial, evaluates) == "done":
                manifest.states[trial.name]["state"] = "done"
            else:
                pending.append(trial)
        manifest.write()
        emit(
            f"grid {spec.path}: {len(spec.trials)} trials, {len(spec.trials) - len(pending)} done, "
            f"{len(pending)} to run ({backend}); folders under {relative(spec.output_dir)}"
        )
        interrupted = False
        try:
            if pending and backend == "local":
                run_locally(spec, pending, manifest, emit)
            elif pending:
                interrupted = run_on_ray(spec, pending, manifest, emit, address=address, dashboard=dashboard)
        except KeyboardInterrupt:
            interrupted = True
        for trial in spec.trials:  # the folders have the last word
            state = manifest.states[trial.name]
            state["state"] = _final_state(trial_state(trial, evaluates) == "done", state, interrupted)
        manifest.write()
        rows = [{**result_row(trial), "state": manifest.states[trial.name]["state"]} for trial in spec.trials]
        emit(final_table(rows, manifest.states))
        unfinished = [row for row in rows if row["state"] != "done"]
        if interrupted:
            emit(
                "stopped (Ctrl-C): the running trials are interrupted (they resume from their last checkpoint), the "
                "others pending"
            )
        if unfinished:
            counts = {state: sum(row["state"] == state for row in rows) for state in ("failed", *STOPPED_STATES)}
            summary = ", ".join(f"{count} {state}" for state, count in counts.items() if count)
            emit(
                f"{len(unfinished)} of {len(rows)} trials not done ({summary}); continue with: "
                f"{resume_command(spec, backend, address)}"
            )
            if spec.report:
                emit("report: not written, as some trials are not done")
        elif spec.report:
            _report(spec, evaluates, emit)
        return rows


def _final_state(done: bool, state: dict, interrupted: bool) -> str:
    if done:
        return "done"
    if state["state"] == "failed":
        return "failed"
    if not state.get("attempts"):
        return "pending"  # never started in this grid's run
    return "interrupted" if interrupted else "failed"  # it ran, and its folders say it did not finish


def resume_command(spec: GridSpec, backend: Backend, address: str | None) -> str:
    """The command line that continues ``spec``'s grid: the same file, backend, cluster and settings, ``--resume``."""
    parts = ["llm-agents", "grid", str(spec.path), "--resume"]
    if backend != "ray":
        parts += ["--backend", backend]
    if address:
        parts += ["--address", address]
    if spec.quick:
        parts.append("--quick")
    for key, value in spec.overrides.items():
        text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip().removesuffix("...").strip()
        parts += ["--set", f"{key}={text}"]
    return shlex.join(parts)


def _report(spec: GridSpec, evaluates: bool, emit: Callable[[str], None]) -> None:
    """The report over the trials' run and evaluation folders and the grid's ``include``; an ``include`` that matches
    no folder is a warning, printed and written at the end of ``report.md``."""
    from llm_agents.reporting.report import ReportConfig, write_report

    folders = [trial.train_dir for trial in spec.trials]
    if evaluates:
        folders += [trial.eval_dir for trial in spec.trials]
    included, missing = spec.include_folders()
    warnings = [
        f"report.include {pattern!r} matches no folder (patterns are read from {Path.cwd()}); the report leaves "
        "it out: make that folder first, or fix the pattern."
        for pattern in missing
    ]
    for warning in warnings:
        emit(f"warning: {warning}")
    path = write_report(ReportConfig(paths=(*folders, *included), out=spec.output_dir / "report"))
    if warnings:
        text = path.read_text(encoding="utf-8").rstrip("\n")
        path.write_text(text + "\n\n## Warnings\n\n" + "".join(f"- {w}\n" for w in warnings), encoding="utf-8")
    emit(f"report: {relative(path)}")
