"""Submitit launchers (SLURM, local) that submit only the runs a sweep still needs.

Hydra's submitit launchers submit every combination of a sweep; a re-run then spends a job (and, on a
cluster, a place in the queue) on each run that finished before, only for it to notice and exit. These
subclasses look first: a combination whose run directory holds a finished run of the same
configuration (``experiments.run.finished_before``) is not submitted, so re-running the same sweep
command after a cancelled, timed-out or preempted job submits only the unfinished runs, as one job
array. ``conf/hydra/launcher/slurm.yaml`` and ``local.yaml`` select them. Hydra takes launchers only from the
``hydra_plugins`` namespace package, hence this module's place.

:class:`CheckedSweeper` (``conf/hydra/sweeper/checked.yaml``, the default of conf/config.yaml) is Hydra's
basic sweeper, except that it does not compose once more, before launching, the jobs that
``experiments.run``'s checks (``experiments.guard.check_command``) composed and validated in this
process: Hydra's sweeper would compose every job twice in the parent (once to validate it, once in the
launcher), about 0.05 to 0.1 s each. A job those checks did not cover is validated as Hydra does.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hydra._internal.core_plugins import basic_sweeper
from hydra.core.utils import JobReturn, JobStatus
from hydra_plugins.hydra_submitit_launcher import submitit_launcher as base
from omegaconf import OmegaConf

log = logging.getLogger("cartelsim")


def run_dir(sweep_config) -> Path:
    """The run directory of one job's composed sweep config (sweep dir / subdir)."""
    return Path(str(sweep_config.hydra.sweep.dir)) / str(sweep_config.hydra.sweep.subdir)


class _Resuming:
    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from experiments.config import without_hydra
        from experiments.run import finished_before

        todo, skipped = [], []
        if not hasattr(self, "_had_runs"):  # at the sweep's first batch: did its folder hold any finished run?
            sweep_dir = Path(str(self.config.hydra.sweep.dir))
            self._had_runs = sweep_dir.is_dir() and next(sweep_dir.rglob("summary.json"), None) is not None
        if not self._had_runs:  # a new sweep: nothing finished before to skip, so no job is composed here to look
            todo, job_overrides = list(job_overrides), []
        for overrides in job_overrides:
            cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            config = OmegaConf.to_container(without_hydra(cfg), resolve=True)
            (skipped if finished_before(run_dir(cfg), config) else todo).append(overrides)
        if skipped:
            log.info(f"{len(skipped)} of {len(job_overrides)} runs finished before with the same configuration: "
                     f"not submitted; submitting {len(todo)}")
        returns = list(super().launch(todo, initial_job_idx)) if todo else []
        for overrides in skipped:
            ret = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)
            ret.return_value = None
            returns.append(ret)
        return returns


class SlurmLauncher(_Resuming, base.SlurmLauncher):
    pass


class LocalLauncher(_Resuming, base.LocalLauncher):
    pass


class CheckedSweeper(basic_sweeper.BasicSweeper):
    """Hydra's basic sweeper; a job already composed and validated by experiments.guard in this process is
    not composed again before launch (see the module's docstring)."""

    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None) -> None:
        # BasicSweeper.__init__ calls super(BasicSweeper, self) with its module's current class, which Hydra's plugin
        # scan may have replaced by executing that module once more: the same attributes, set here
        self.overrides = None
        self.batch_index = 0
        self.max_batch_size = max_batch_size
        self.params = {} if params is None else params
        self.hydra_context = None
        self.config = None
        self.launcher = None

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        from experiments.guard import was_checked

        unchecked = [job for job in batch if not was_checked(job)]
        if unchecked:
            super().validate_batch_is_legal(unchecked)


def register() -> None:
    """Make these launchers known to Hydra also where its plugin scan does not see this folder (an editable
    install run from outside the repository); ``experiments.run`` calls it."""
    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()  # the first call scans hydra_plugins, which executes this module (and Hydra's
    module = sys.modules[__name__]  # basic_sweeper) once more: register the classes that scan left, not older ones
    for name in ("SlurmLauncher", "LocalLauncher", "CheckedSweeper"):
        plugins.register(getattr(module, name))
