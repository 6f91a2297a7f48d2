"""The benchmark's yardstick, ``bench/naive.py``, runs from the repository alone and means what the
benchmark says: the naive model of the reference workload, reproducible, serving every household."""
from __future__ import annotations

from bench import naive, workloads


def test_the_naive_model_is_always_a_yardstick_and_comes_first():
    models = workloads.naive_models()
    assert next(iter(models.values())) is naive


def test_a_seed_gives_the_same_replication():
    assert naive.run(3_000, seed=4) == naive.run(3_000, seed=4)
    assert naive.run(3_000, seed=4) != naive.run(3_000, seed=5)


def test_everyone_who_arrives_is_served_and_waits_are_plausible():
    result = naive.run(20_000, seed=2)
    # Poisson total with mean 20,000: within 5 standard deviations (~ +-707).
    assert abs(result["households"] - 20_000) < 710
    # Load 0.85 on average and ~1.36 in the 30-day surge: queues build, so waits are hours, not zero.
    assert all(wait > 1.0 for wait in result["mean_wait_hours"])


def test_service_means_give_the_stated_load():
    expected = 1_000_000
    arrivals_per_hour = expected / (naive.DAYS * naive.HOURS_PER_DAY)
    for lanes, share, mean in zip(naive.LANES_PER_CROSSING, naive.SHARE_PER_CROSSING,
                                  naive.mean_service_hours(expected), strict=True):
        assert abs(share * arrivals_per_hour * mean / lanes - naive.MEAN_LOAD) < 1e-12
    segments = naive.arrival_rate_segments(expected)
    surge_end, surge_rate = segments[0]
    horizon, base_rate = segments[1]
    assert surge_rate == 2 * base_rate
    assert abs(surge_rate * surge_end + base_rate * (horizon - surge_end) - expected) < 1e-6


def test_the_benchmark_runs_from_a_copy_of_the_repository_alone(tmp_path):
    """A clone has no ../shared/ beside it: the reference section still runs, against bench/naive.py."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    clone = tmp_path / "clone"
    for folder in ("bench", "sim", "scenarios"):
        shutil.copytree(root / folder, clone / folder, ignore=shutil.ignore_patterns("__pycache__", "out"))
    assert not (tmp_path / "shared").exists()
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "reference", "--runs", "1", "--output", "out.md"],
        cwd=clone, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(clone)}, capture_output=True, text=True,
        timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = (clone / "out.md").read_text(encoding="utf-8")
    assert "naive SimPy (bench/naive.py)" in results
    assert "naive_reference.py" not in results.split("## Reference workload", 1)[1].split("\n", 2)[2]
