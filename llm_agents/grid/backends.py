"""Where a grid's trials run: one after another in this process (``local``), or as Ray Tune trials (``ray``).

Ray Tune schedules the trials on the CPUs and GPUs of this machine or of a cluster (``address``), retries a failed
or lost trial up to ``max_failures`` times, and runs at most ``max_concurrent`` at once. It keeps no checkpoints of
its own: a retried trial resumes from its run folder (``trial.run_trial``), which is what a standalone resume does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence

from llm_agents.grid.progress import Manifest, TrialLines, line_due, progress_line
from llm_agents.grid.spec import GridFileError, GridSpec, Trial
from llm_agents.grid.trial import run_trial
from llm_agents.training import Tracker

Emit = Callable[[str], None]


def run_locally(spec: GridSpec, trials: Sequence[Trial], manifest: Manifest, emit: Emit) -> None:
    """Each trial in turn in this process, retried up to ``max_failures`` times."""
    for trial in trials:
        for attempt in range(1, spec.max_failures + 2):
            manifest.set(trial.name, "running", attempts=attempt)
            try:
                run_trial(trial, TrialLines(trial, emit))
            except Exception as error:
                emit(f"{trial.name}: attempt {attempt} failed: {type(error).__name__}: {error}")
                manifest.set(trial.name, "failed", error=f"{type(error).__name__}: {error}")
                continue
            manifest.set(trial.name, "done")
            break


class _TuneReports(Tracker):
    """Sends a trial's progress (episodes done, cooperation and illegal rates of player_0) to Tune."""

    def log(self, values: dict[str, float], step: int) -> None:
        if "player_0/env/cooperation_rate" in values:
            from ray import tune

            tune.report(
                {
                    "episodes_done": step + 1,
                    "cooperation": values["player_0/env/cooperation_rate"],
                    "illegal": values["player_0/env/illegal_rate"],
                }
            )


def _tune_trainable(config: dict, trials: dict[str, Trial]) -> None:
    from ray import tune

    row = run_trial(trials[config["trial"]], _TuneReports())
    tune.report({"finished": True, **{k: v for k, v in row.items() if isinstance(v, (int, float))}})


def require_ray() -> None:
    """Raise an ImportError that names the extra to install when Ray Tune is not there."""
    try:
        import ray.tune  # noqa: F401
    except ImportError:
        raise ImportError(
            "llm-agents grid runs its trials on Ray Tune, which is not installed: pip install "
            "'moral-matrix-games[grid]' (ray[default,tune]); or run them here, one after another, with "
            "--backend local."
        ) from None


def run_on_ray(
    spec: GridSpec, trials: Sequence[Trial], manifest: Manifest, emit: Emit, *, address: str | None, dashboard: bool
) -> bool:
    """The trials as Ray Tune trials, on a local Ray (this machine's CPUs) or the cluster at ``address``; return
    whether Ctrl-C stopped them.

    Tune's own Ctrl-C handler is replaced by ours: the first Ctrl-C stops every trial through a ``Stopper`` (their
    folders keep their last checkpoints) and is remembered, so that the grid can say it was stopped; a second one
    stops at once (``KeyboardInterrupt``).
    """
    require_ray()
    import ray
    from ray import tune

    os.environ.setdefault("RAY_CHDIR_TO_TRIAL_DIR", "0")  # our paths are absolute; keep the working directory
    context = ray.init(
        address=address,
        num_cpus=None if address else os.cpu_count(),
        include_dashboard=dashboard,
        ignore_reinit_error=True,
        logging_level="ERROR",
        configure_logging=True,
    )
    if dashboard and context.dashboard_url:
        emit(f"Ray dashboard: http://{context.dashboard_url}")
    _check_resources(spec, ray.cluster_resources())
    by_name = {trial.name: trial for trial in trials}
    stop = StopFlag()
    trainable = tune.with_resources(
        tune.with_parameters(_tune_trainable, trials=by_name),
        {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial},
    )
    tuner = tune.Tuner(
        trainable,
        param_space={"trial": tune.grid_search(list(by_name))},
        tune_config=tune.TuneConfig(max_concurrent_trials=spec.max_concurrent),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(spec.output_dir / "ray"),
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            stop=_stopper(stop),
            verbose=0,
            callbacks=[_callback(by_name, manifest, emit, stop)],
        ),
    )
    with _interrupt_sets(stop, emit):
        tuner.fit()
    return stop.is_set()


@contextlib.contextmanager
def _interrupt_sets(stop: StopFlag, emit: Emit) -> Iterator[None]:
    """While inside, the first SIGINT (Ctrl-C) sets ``stop`` instead of raising; the next one raises as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: object) -> None:
        stop.set()
        signal.signal(signal.SIGINT, previous)
        emit("Ctrl-C: stopping the trials (press it again to stop at once)")

    tune_handler = os.environ.get("TUNE_DISABLE_SIGINT_HANDLER")
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # Tune's handler would stop the trials without telling us
    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if tune_handler is None:
            os.environ.pop("TUNE_DISABLE_SIGINT_HANDLER", None)
        else:
            os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = tune_handler


class StopFlag:
    """A threading event that Tune can pickle: Tune pickles its run settings (the stopper, the callbacks) into the
    experiment's state, and an event holds a lock, so a pickled copy (only read back by a resume) starts unset."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self._event = threading.Event()


def _stopper(stop: StopFlag):
    from ray import tune

    class StopAll(tune.Stopper):
        """Stops every trial once ``stop`` is set (Ctrl-C)."""

        def __init__(self, event: StopFlag) -> None:
            self.event = event

        def __call__(self, trial_id: str, result: dict) -> bool:
            return self.event.is_set()

        def stop_all(self) -> bool:
            return self.event.is_set()

    return StopAll(stop)


def _check_resources(spec: GridSpec, available: dict) -> None:
    wanted_resources = (("cpus_per_trial", "CPU", spec.cpus_per_trial), ("gpus_per_trial", "GPU", spec.gpus_per_trial))
    for name, key, wanted in wanted_resources:
        if wanted > available.get(key, 0):
            raise GridFileError(
                f"grid file {spec.path}: resources.{name}={wanted:g}, but the Ray cluster has "
                f"{available.get(key, 0):g} {key}s; lower it or connect to a larger cluster (--address)."
            )


def _callback(by_name: dict[str, Trial], manifest: Manifest, emit: Emit, stop: StopFlag):
    from ray import tune

    class Lines(tune.Callback):
        """Progress lines and manifest states from Tune's events (in the driver)."""

        def on_trial_start(self, iteration, trials, trial, **info):
            name = trial.config["trial"]
            attempts = manifest.states[name].get("attempts", 0) + 1
            manifest.set(name, "running", attempts=attempts)

        def on_trial_result(self, iteration, trials, trial, result, **info):
            name = trial.config["trial"]
            if "episodes_done" in result and not result.get("finished"):
                values = {
                    "player_0/env/cooperation_rate": result["cooperation"],
                    "player_0/env/illegal_rate": result["illegal"],
                }
                done, total = result["episodes_done"], by_name[name].episodes
                if line_due(done, total):
                    emit(progress_line(name, done, total, values))

        def on_trial_recover(self, iteration, trials, trial, **info):
            name = trial.config["trial"]
            emit(f"{name}: its worker failed; retrying from its last checkpoint")
            manifest.set(name, "retrying")

        def on_trial_complete(self, iteration, trials, trial, **info):
            manifest.set(trial.config["trial"], "done")

        def on_trial_error(self, iteration, trials, trial, **info):
            name = trial.config["trial"]
            if stop.is_set():  # its worker got the Ctrl-C too
                manifest.set(name, "interrupted")
                return
            emit(f"{name}: failed after {manifest.states[name].get('attempts', 1)} attempt(s)")
            manifest.set(name, "failed")

    return Lines()
