"""`bordersim run --scheduler` on a real Dask LocalCluster gives the same files as a local run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN_SCENARIO = Path(__file__).parent / "golden" / "small-scenario.yaml"


def bordersim(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *arguments], cwd=cwd, capture_output=True, check=False,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


def test_run_on_a_dask_cluster_matches_a_local_run(tmp_path, cluster):
    local = bordersim("run", str(GOLDEN_SCENARIO), "-n", "4", "-j", "1", "-q", "--format", "csv",
                      "--out", "local", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    remote = bordersim("run", str(GOLDEN_SCENARIO), "-n", "4", "-q", "--format", "csv", "--out", "dask",
                       "--scheduler", cluster.scheduler_address, cwd=tmp_path)
    assert remote.returncode == 0, remote.stderr
    for name in ("projection.csv", "summary.csv", "replications.csv", "daily.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
