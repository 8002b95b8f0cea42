"""The benchmark's smallest size runs (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json

import pytest

from experiments import bench


def test_benchmark_smoke(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--weeks", "10", "--repeats", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["targets_met"]) == set(bench.TARGETS)
    assert result["model"]["small"]["weeks_per_s"] > 0 and result["floor"]["run_s"] > 0
    assert {"EpsteinCivilViolence", "VirusOnNetwork"} <= set(result["mesa_examples"])
    assert len(result["scaling"]["rows"]) == 2 and result["peak_memory_mb"] > 0
    sweep = result["sweep"]  # --quick: 2 runs of small through the default launcher, as a separate process
    assert sweep["runs"] == 2 and sweep["wall_s"] > 0
    assert result["figures"]["sweep_runs_per_min"] == pytest.approx(60 * 2 / sweep["wall_s"])
    assert result["figures"]["national_s_per_run"] == result["model"]["small"]["total_s"]
    assert bench.TARGETS["sweep_runs_per_min"] == (">=", 40.0) and bench.TARGETS["national_over_floor"] == ("<=", 3.0)
    out = capsys.readouterr().out
    assert "targets (issue 18 first):" in out and "runs per minute" in out
    for key in bench.TARGETS:
        assert key in out


def test_benchmark_bad_sweep_runs(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--sweep-runs", "-1", "--out", str(out)]) == 2
    assert "--sweep-runs" in capsys.readouterr().err and not out.exists()
