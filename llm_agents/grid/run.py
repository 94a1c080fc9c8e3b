"""``run_grid(spec)``: a whole grid, from its first trial to its report, resumable and exclusive.

The grid holds ``output_dir/grid.lock`` (an OS lock, as a run folder's) for its whole life, so a second grid on the
same ``output_dir`` is refused. A grid that was stopped (its driver killed, the machine rebooted) continues with
``resume=True``: trials whose folders say they are done are skipped, the others resume from their run folders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from llm_agents.grid.backends import require_ray, run_locally, run_on_ray
from llm_agents.grid.progress import Manifest, final_table, relative
from llm_agents.grid.spec import GridFileError, GridSpec
from llm_agents.grid.trial import result_row, trial_state
from llm_agents.runs.folder import folder_lock

Backend = Literal["ray", "local"]


def run_grid(
    spec: GridSpec,
    *,
    backend: Backend = "ray",
    address: str | None = None,
    resume: bool = False,
    dashboard: bool = False,
    emit: Callable[[str], None] = print,
) -> list[dict]:
    """Run every trial of ``spec`` not done yet, then the report; return the final table's rows.

    Raises ``GridFileError`` when ``output_dir`` already holds a grid and ``resume`` is False.
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
        if pending:
            if backend == "local":
                run_locally(spec, pending, manifest, emit)
            else:
                run_on_ray(spec, pending, manifest, emit, address=address, dashboard=dashboard)
        for trial in spec.trials:  # the folders have the last word
            done = trial_state(trial, evaluates) == "done"
            manifest.states[trial.name]["state"] = "done" if done else "failed"
        manifest.write()
        rows = [result_row(trial) for trial in spec.trials]
        emit(final_table(rows, manifest.states))
        if spec.report and all(state["state"] == "done" for state in manifest.states.values()):
            _report(spec, evaluates, emit)
        return rows


def _report(spec: GridSpec, evaluates: bool, emit: Callable[[str], None]) -> None:
    """The report over the trials' run and evaluation folders (and the grid's ``include``)."""
    from llm_agents.reporting.report import ReportConfig, write_report

    folders = [trial.train_dir for trial in spec.trials]
    if evaluates:
        folders += [trial.eval_dir for trial in spec.trials]
    path = write_report(ReportConfig(paths=(*folders, *spec.report_include), out=spec.output_dir / "report"))
    emit(f"report: {relative(path)}")
