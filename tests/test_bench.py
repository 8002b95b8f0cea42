"""The benchmark's smallest size runs (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json

from experiments import bench


def test_benchmark_smoke(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--weeks", "10", "--repeats", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["targets_met"]) == set(bench.TARGETS)
    assert result["model"]["small"]["weeks_per_s"] > 0 and result["floor"]["run_s"] > 0
    assert {"EpsteinCivilViolence", "VirusOnNetwork"} <= set(result["mesa_examples"])
    assert len(result["scaling"]["rows"]) == 2 and result["peak_memory_mb"] > 0
    assert "targets:" in capsys.readouterr().out
