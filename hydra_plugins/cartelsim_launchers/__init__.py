"""Submitit launchers (SLURM, local) that submit only the runs a sweep still needs.

Hydra's submitit launchers submit every combination of a sweep; a re-run then spends a job (and, on a
cluster, a place in the queue) on each run that finished before, only for it to notice and exit. These
subclasses look first: a combination whose run directory holds a finished run of the same
configuration (``experiments.run.finished_before``) is not submitted, so re-running the same sweep
command after a cancelled, timed-out or preempted job submits only the unfinished runs, as one job
array. ``conf/hydra/launcher/slurm.yaml`` and ``local.yaml`` select them. Hydra takes launchers only from the
``hydra_plugins`` namespace package, hence this module's place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

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


def register() -> None:
    """Make these launchers known to Hydra also where its plugin scan does not see this folder (an editable
    install run from outside the repository); ``experiments.run`` calls it."""
    from hydra.core.plugins import Plugins

    for cls in (SlurmLauncher, LocalLauncher):
        Plugins.instance().register(cls)
