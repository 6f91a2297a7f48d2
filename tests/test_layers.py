"""The architecture is enforced, not described: import-linter checks the contracts in pyproject.toml
(each layer imports only the layers below it; the model imports no pandas, outputs or CLI; no
import cycles among the modules of a layer)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["cli", "explorer", "studies", "runs", "analytic", "outputs", "model", "scenario"]


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert result.stdout.count("KEPT") == 4


def test_the_layers_are_what_ls_sim_shows() -> None:
    packages = sorted(path.name for path in (ROOT / "sim").iterdir() if (path / "__init__.py").is_file())
    assert packages == sorted(LAYERS)
    modules = sorted(path.name for path in (ROOT / "sim").glob("*.py"))
    assert len(modules) <= 6, modules
