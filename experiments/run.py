"""One run (or a sweep with ``-m``) from the command line.

    python -m experiments.run [overrides]            # one run into Hydra's run directory
    python -m experiments.run hydra.run.dir=DIR      # ... into DIR
    python -m experiments.run -m policy=kingpin,prevention seed=0,1,2
    python -m experiments.run -m experiment=guns --dry-run   # runs, time and disk it would take (experiments.plan)

Writes ``timeseries.parquet``, ``summary.json`` and, with ``output.nodes=true``,
``nodes.parquet``, each atomically. Every override is checked before Hydra starts: a bad value
gets one line naming the key and what is allowed, exit status 2, and nothing is written.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import hydra_plugins.cartelsim_launchers as resuming_launchers
import sim
from sim import CartelModel, ParamError

from . import callbacks, guard, io, quiet_mesa
from .config import register, sample_values, to_params, without_hydra
from .store import (FILES_KEY, NODES, REPLACING, RUN_OUTPUTS, SUMMARY, TIMESERIES, check_run, checksums,
                    clean_partials, clean_stale)

register()
resuming_launchers.register()
log = logging.getLogger("cartelsim")


def finished_before(out_dir: Path, config: dict, status=None) -> bool:
    """Whether ``out_dir`` holds a finished run of exactly ``config`` (the model's resolved config)."""
    status = status or check_run(out_dir)
    return status.finished and status.summary.get("config") == config


def run_one(cfg: DictConfig, out_dir: Path, overrides: list[str]) -> dict:
    """Run the model of ``cfg`` and write its results into ``out_dir``; return the summary.

    A run whose files are already complete is not run again; a damaged one is named and re-run. A run
    that replaces another (the folder held a summary.json: a different configuration, or a damaged run)
    marks the folder (:data:`experiments.store.REPLACING`), writes its files atomically, summary.json
    last, and only then removes the outputs of the earlier run that it did not write
    (:func:`experiments.store.clean_stale`; never any other file) and the mark. A folder that held no
    run is never cleaned. Interrupted while simulating, it leaves the earlier run's results whole (Hydra
    has already rewritten ``.hydra/``); interrupted while writing, the earlier summary's checksums no
    longer match, so the folder reads as damaged and the next run replaces it; interrupted after its
    summary, the next identical command finds the mark and finishes the clean-up.
    """
    quiet_mesa()
    status = check_run(out_dir)
    config = OmegaConf.to_container(without_hydra(cfg), resolve=True)
    if finished_before(out_dir, config, status):
        log.info(f"{out_dir}: finished before with the same configuration, skipped")
        if (out_dir / REPLACING).exists():  # a replacing run stopped after its summary.json: finish its clean-up
            figures = [n for n in RUN_OUTPUTS if n.startswith("figures/")]  # drawn from this very run: kept
            clean_stale(out_dir, _outputs(config.get("output") or {}) + figures)
            (out_dir / REPLACING).unlink(missing_ok=True)
        return status.summary
    if status.finished:
        log.warning(f"{out_dir}: holds a finished run of a different configuration; running again and replacing it")
    if status.state == "damaged":
        log.warning(f"{out_dir}: damaged run ({status.reason}); running it again")
    clean_partials(out_dir)
    replacing = status.state in ("finished", "damaged")  # the folder holds an earlier run's summary.json
    params = to_params(cfg)
    model = CartelModel(params=params)
    ts = _run_watched(model)
    summary = model.summary()
    if replacing:  # from here on the folder holds files of two runs until clean_stale
        (out_dir / REPLACING).touch()
    summary.update(seed=params.seed, overrides=overrides, version=sim.__version__, git_commit=io.git_commit(),
                   config=config)
    for event in summary["interventions"]:
        if not event["fired"]:
            log.warning(f"intervention {event['kind']} at week {event['at_step']} did not fire: group "
                        f"{event.get('requested')!r} had no leader or did not exist then")
    if "sample" in cfg:
        summary["sample_values"] = sample_values(OmegaConf.to_container(cfg.sample, resolve=True))
    if params.output.nodes:
        nodes = model.node_table()
        io.write_parquet(nodes, out_dir / NODES)
        if params.output.csv:
            io.write_csv(nodes, out_dir / "nodes.csv")
    if params.output.csv:
        io.write_csv(ts, out_dir / "timeseries.csv")
    io.write_parquet(ts, out_dir / TIMESERIES)
    summary[FILES_KEY] = checksums(out_dir, [TIMESERIES] + ([NODES] if params.output.nodes else []))
    io.write_json(summary, out_dir / SUMMARY)
    if replacing:  # only now, with the new run complete: the earlier run's outputs this one did not
        # write (its node table, CSVs, figures) go, so nothing in the folder describes another configuration
        removed = clean_stale(out_dir, _outputs({"nodes": params.output.nodes, "csv": params.output.csv}))
        if removed:
            log.info(f"{out_dir}: removed the replaced run's {', '.join(removed)}")
        (out_dir / REPLACING).unlink(missing_ok=True)
    return summary


def _outputs(output: dict) -> list[str]:
    """The files a run with these ``output`` settings writes (run_one)."""
    names = [TIMESERIES, SUMMARY]
    if output.get("nodes"):
        names += [NODES] + (["nodes.csv"] if output.get("csv") else [])
    return names + (["timeseries.csv"] if output.get("csv") else [])


PARENT_ENV = "CARTELSIM_PARENT"  # host:pid of the process that started the sweep (set by cli, inherited by workers)


def _parent_gone() -> bool:
    """True when the process that started this sweep no longer exists (killed, e.g. with SIGKILL)."""
    host, _, pid_text = os.environ.get(PARENT_ENV, "").rpartition(":")
    pid = int(pid_text) if pid_text.isdigit() else 0
    if pid <= 0 or pid == os.getpid() or host != socket.gethostname():  # a job on another machine: not ours to watch
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _run_watched(model: CartelModel):
    """Run the model to its last week; a worker whose sweep's parent died stops at once, writing nothing
    (joblib's workers would otherwise run their runs to the end after the parent is killed)."""
    from tqdm.auto import tqdm

    for week in tqdm(range(model.week, model.p.steps), desc="weeks", unit="wk", leave=False, disable=None):
        if week % 4 == 0 and _parent_gone():
            log.error(f"the sweep's parent process ({os.environ[PARENT_ENV]}) is gone; run abandoned at week {week}")
            logging.shutdown()
            os._exit(3)
        model.step()
    return model.timeseries()


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    summary = run_one(cfg, out_dir, list(hc.overrides.task))
    log.info(f"{out_dir}: {summary['homicides_last_year']} homicides in the last {min(52, summary['weeks'])} weeks, "
             f"{summary['members']} members, {summary['groups_active']} groups "
             f"({summary['effective_groups']:.1f} effective)")
    if hc.mode == RunMode.MULTIRUN:
        sweep_dir = Path(hc.sweep.dir)
        try:
            depth = len(out_dir.resolve().relative_to(sweep_dir.resolve()).parts)
        except ValueError:  # a run folder outside its sweep's: count by walking the sweep
            depth = None
        progress = callbacks.report(sweep_dir, depth)
        if progress:
            log.info(f"sweep: {progress}")


def cli(argv: list[str] | None = None) -> int:
    """Check the overrides (every sweep combination) before handing over to Hydra."""
    from hydra._internal.utils import get_args_parser

    argv = sys.argv[1:] if argv is None else argv
    if "--dry-run" in argv:  # size of the sweep, nothing run or written (experiments.plan)
        from .plan import main as plan_main

        return plan_main(argv)
    args, _ = get_args_parser().parse_known_args(argv)
    if not (args.help or args.hydra_help or args.info or args.cfg or args.shell_completion):
        try:
            os.environ[callbacks.TOTAL_ENV] = str(guard.check_command(list(args.overrides), bool(args.multirun)))
        except ParamError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    os.environ[PARENT_ENV] = f"{socket.gethostname()}:{os.getpid()}"
    sys.argv = [sys.argv[0], *argv]
    main()
    return 0


if __name__ == "__main__":
    sys.exit(cli())
