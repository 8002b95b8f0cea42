"""One run (or a sweep with ``-m``) from the command line.

    python -m experiments.run [overrides]            # one run into Hydra's run directory
    python -m experiments.run hydra.run.dir=DIR      # ... into DIR
    python -m experiments.run -m policy=kingpin,prevention seed=0,1,2

Writes ``timeseries.parquet``, ``summary.json`` and, with ``output.nodes=true``,
``nodes.parquet``, each atomically. Every override is checked before Hydra starts: a bad value
gets one line naming the key and what is allowed, exit status 2, and nothing is written.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import hydra_plugins.cartelsim_launchers as resuming_launchers
import sim
from sim import CartelModel, ParamError

from . import callbacks, io, quiet_mesa
from .config import check_overrides, register, sample_values, to_params, without_hydra
from .store import check_run, clean_partials

register()
resuming_launchers.register()
log = logging.getLogger("cartelsim")


def finished_before(out_dir: Path, config: dict, status=None) -> bool:
    """Whether ``out_dir`` holds a finished run of exactly ``config`` (the model's resolved config)."""
    status = status or check_run(out_dir)
    return status.finished and status.summary.get("config") == config


def run_one(cfg: DictConfig, out_dir: Path, overrides: list[str]) -> dict:
    """Run the model of ``cfg`` and write its results into ``out_dir``; return the summary.

    A run whose files are already complete is not run again; a damaged one is named and re-run.
    """
    quiet_mesa()
    status = check_run(out_dir)
    config = OmegaConf.to_container(without_hydra(cfg), resolve=True)
    if finished_before(out_dir, config, status):
        log.info(f"{out_dir}: finished before with the same configuration, skipped")
        return status.summary
    if status.finished:
        log.warning(f"{out_dir}: holds a finished run of a different configuration; running again and replacing it")
    if status.state == "damaged":
        log.warning(f"{out_dir}: damaged run ({status.reason}); running it again")
    clean_partials(out_dir)
    params = to_params(cfg)
    model = CartelModel(params=params)
    ts = model.run(progress=True)
    summary = model.summary()
    summary.update(seed=params.seed, overrides=overrides, version=sim.__version__, git_commit=io.git_commit(),
                   config=config)
    for event in summary["interventions"]:
        if not event["fired"]:
            log.warning(f"intervention {event['kind']} at week {event['at_step']} did not fire: group "
                        f"{event.get('requested')!r} had no leader or did not exist then")
    if "sample" in cfg:
        summary["sample_values"] = sample_values(OmegaConf.to_container(cfg.sample, resolve=True))
    if params.output.nodes:
        io.write_parquet(model.node_table(), out_dir / "nodes.parquet")
    io.write_parquet(ts, out_dir / "timeseries.parquet")
    io.write_json(summary, out_dir / "summary.json")
    return summary


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    summary = run_one(cfg, out_dir, list(hc.overrides.task))
    log.info(f"{out_dir}: {summary['homicides_last_year']} homicides in the last {min(52, summary['weeks'])} weeks, "
             f"{summary['members']} members, {summary['groups_active']} groups "
             f"({summary['effective_groups']:.1f} effective)")
    if hc.mode == RunMode.MULTIRUN:
        progress = callbacks.report(Path(hc.sweep.dir))
        if progress:
            log.info(f"sweep: {progress}")


def cli(argv: list[str] | None = None) -> int:
    """Check the overrides (every sweep combination) before handing over to Hydra."""
    from hydra._internal.utils import get_args_parser

    argv = sys.argv[1:] if argv is None else argv
    args, _ = get_args_parser().parse_known_args(argv)
    if not (args.help or args.hydra_help or args.info or args.cfg or args.shell_completion):
        try:
            os.environ[callbacks.TOTAL_ENV] = str(check_overrides(list(args.overrides)))
        except ParamError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    sys.argv = [sys.argv[0], *argv]
    main()
    return 0


if __name__ == "__main__":
    sys.exit(cli())
