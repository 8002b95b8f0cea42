"""A sweep on a local Ray cluster (``make ray-test``): the ``ray`` extra's launcher gives the same
results as joblib. Marked ``ray``: left out of ``make test``; skipped where the extra is not installed,
except under ``make ray-test`` (``CARTELSIM_RAY_REQUIRED=1``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.store import check_run, run_dirs

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """``ray start --head`` with 2 CPUs in a temp folder; stopped (its process group) afterwards."""
    ray = Path(sys.executable).with_name("ray")
    try:
        import hydra_plugins.hydra_ray_launcher  # noqa: F401
    except ImportError:
        message = "the ray extra is not installed (make ray-test installs it)"
        if os.environ.get("CARTELSIM_RAY_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("ray")
    ray_tmp = Path("/tmp") / f"ray-{tmp.name}"  # Ray's session folder: short (socket paths are limited)
    port = _free_port()
    log = open(tmp / "head.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([str(ray), "start", "--head", "--block", "--num-cpus=2", f"--port={port}",
                             "--node-ip-address=127.0.0.1", "--include-dashboard=false", "--disable-usage-stats",
                             f"--temp-dir={ray_tmp}"],
                            stdout=log, stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while subprocess.run([str(ray), "status", f"--address={address}"], capture_output=True, env=ENV).returncode:
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail("ray start --head did not come up:\n" + (tmp / "head.log").read_text()[-3000:])
            time.sleep(1)
        yield address
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        shutil.rmtree(ray_tmp, ignore_errors=True)


def sweep(sweep_dir: Path, *overrides: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "territory=small", "steps=26",
                           "policy=kingpin,prevention", "seed=0,1", *overrides, f"hydra.sweep.dir={sweep_dir}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=ENV)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


def test_a_sweep_on_a_local_ray_cluster_matches_joblib(tmp_path, ray_head):
    start = time.perf_counter()
    sweep(tmp_path / "ray", "hydra/launcher=ray", f"+hydra.launcher.ray.init.address={ray_head}",
          "+hydra.launcher.ray.init.object_store_memory=null")  # the plugin sets it, which ray.init refuses here
    print(f"4-run sweep through Ray: {time.perf_counter() - start:.1f} s")
    sweep(tmp_path / "joblib", "hydra/launcher=joblib")
    dirs = run_dirs(tmp_path / "ray")
    assert len(dirs) == 4 and all(check_run(d).finished for d in dirs)
    for d in dirs:
        pd.testing.assert_frame_equal(pd.read_parquet(d / "timeseries.parquet"),
                                      pd.read_parquet(tmp_path / "joblib" / d.name / "timeseries.parquet"))
