"""scripts/browser.sh, the one place that finds (or installs) the browser for the browser tests.

Run with a PATH holding only what each case needs, so the machine's own browser or apt-get never
decide the outcome.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "browser.sh"
SH = "/bin/sh"


def run(path_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([SH, str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": str(path_dir), **env})


def executable(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def test_empty_path_skips_with_one_line_and_fails_under_ci(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run(empty)
    assert proc.returncode == 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("browser tests skipped: no Chromium found")
    assert "apt-get install chromium" in lines[0] and "CARTELSIM_CHROMIUM" in lines[0]
    proc = run(empty, CI="true")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "CI=true" in proc.stderr and "cannot be skipped" in proc.stderr


def test_finds_a_browser_on_path_or_named_by_the_variable(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    chrome = executable(bin_dir / "google-chrome", "exit 0")
    proc = run(bin_dir, CI="true")
    assert (proc.returncode, proc.stdout.strip()) == (0, str(chrome))
    chromium = executable(bin_dir / "chromium", "exit 0")
    assert run(bin_dir).stdout.strip() == str(chromium)  # chromium before google-chrome
    other = executable(tmp_path / "my-chrome", "exit 0")
    assert run(bin_dir, CARTELSIM_CHROMIUM=str(other)).stdout.strip() == str(other)
    proc = run(bin_dir, CARTELSIM_CHROMIUM=str(tmp_path / "missing"))  # a wrong name is not silently replaced
    assert proc.stdout == "" and "CARTELSIM_CHROMIUM" in proc.stderr


def test_installs_with_apt_get_when_root_and_not_with_no_install(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    executable(bin_dir / "id", "echo 0")  # root
    executable(bin_dir / "apt-get", f'echo "$*" >> {log}\n'
               f'case "$*" in *install*chromium*) printf "#!/bin/sh\\nexit 0\\n" > {bin_dir}/chromium; '
               f'/bin/chmod +x {bin_dir}/chromium;; esac')
    proc = run(bin_dir, "--no-install")
    assert proc.stdout == "" and not log.exists()
    proc = run(bin_dir)
    assert proc.returncode == 0 and proc.stdout.strip() == str(bin_dir / "chromium")
    assert proc.stderr.strip().splitlines() == [
        "browser: no Chromium found; installing Debian's chromium package with apt-get (for the page's browser tests)"]
    assert "install -y -qq chromium" in log.read_text()
    os.remove(bin_dir / "chromium")
    executable(bin_dir / "id", "echo 1000")  # not root, no sudo: no install, a skip
    log.unlink()
    proc = run(bin_dir)
    assert proc.stdout == "" and "browser tests skipped" in proc.stderr and not log.exists()
