"""Every third-party package the code imports is declared in pyproject.toml, so that a fresh
``pip install -e .`` (no extras) runs every command: a package that happens to be installed on the
developer's machine must not hide a missing requirement (``emcee`` once did)."""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Import name -> distribution name, where they differ.
DISTRIBUTION_OF = {"yaml": "pyyaml", "distributed": "dask", "pydantic_core": "pydantic", "click": "typer",
                   "PIL": "matplotlib"}


def imported_top_level_modules(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"sim", "__future__"}


def declared(requirements: list[str]) -> set[str]:
    return {requirement.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower()
            for requirement in requirements}


def test_the_package_declares_what_it_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = declared(project["dependencies"])
    optional = set().union(*(declared(extra) for extra in project["optional-dependencies"].values()))
    missing = []
    for module in sorted(imported_top_level_modules(ROOT / "sim")):
        distribution = DISTRIBUTION_OF.get(module, module).lower()
        # Dask is optional: imported only when --scheduler or DASK_SCHEDULER_ADDRESS asks for it.
        allowed = runtime | (optional if module in ("distributed", "dask") else set())
        if distribution not in allowed:
            missing.append(f"{module} (distribution {distribution})")
    assert not missing, f"imported by sim/ but not declared in pyproject.toml dependencies: {missing}"
