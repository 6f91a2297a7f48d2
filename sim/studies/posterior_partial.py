"""Where a posterior calibration keeps its chain until it is done: ``<folder>.partial``.

``bordersim calibrate`` writes its results folder only at the end, and only once the chain has
converged (or with ``--allow-unconverged``). Meanwhile the sampler saves the whole chain after
every block into the sibling ``<folder>.partial/`` (:mod:`sim.studies.inference.sampler`'s
checkpoint), beside ``calibration.json``: the destination and a fingerprint of what defines the
chain — the resolved scenario, the priors, the observed figures and cutoff, the seed, the walkers,
the simulation replications and independent errors. The same command run again with ``--resume <folder>.partial`` continues the
chain (the samples are identical to an uninterrupted run's), then writes the results folder and
removes the partial one. The stopping rules (``--rhat-max``, ``--ess-min``,
``--max-evaluations``) are not in the fingerprint: a chain that stopped unconverged
can be continued with a larger budget.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
RECORD_FILE = "calibration.json"
CHAIN_DEFINING = ("walkers", "simulation_replications", "independent_errors")
"""The fit options that change the chain itself (the others only stop it or read it)."""


class PartialError(ValueError):
    """A partial folder that is missing, taken, or made by another calibration (exit 2)."""


@dataclass
class PosteriorPartial:
    """The ``.partial`` folder of one calibration and the results folder it will become."""

    folder: Path
    destination: Path
    fingerprint: str

    def record(self) -> None:
        """Write ``calibration.json`` (once: after the first block, so that a calibration that fails
        on its input leaves no folder)."""
        path = self.folder / RECORD_FILE
        if path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps({"destination": str(self.destination), "fingerprint": self.fingerprint},
                                        indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def fingerprint(scenario, priors: Sequence, series: Sequence, error_priors: Mapping, seed: int | None,
                cutoff: dt.date | None, fit_options: Mapping) -> str:
    """SHA-256 over what defines the chain (see the module doc)."""
    from sim.studies.observation import observations_table

    # the figures a report draws (`observed:`) do not define the chain: its own figures are `series`
    model = scenario.model_copy(update={"observed": None}) if getattr(scenario, "observed", None) else scenario
    parts = [model.to_yaml(), repr([prior.describe() for prior in priors]),
             repr(sorted((name, prior.describe()) for name, prior in error_priors.items())),
             observations_table(list(series)).to_csv(index=False), f"seed={seed}", f"cutoff={cutoff}",
             repr([(name, fit_options.get(name)) for name in CHAIN_DEFINING])]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


def new_partial(destination: Path, chain_fingerprint: str) -> PosteriorPartial:
    """The partial folder of a calibration that will write ``destination`` (created when the
    sampler first saves); refuses one left by an earlier calibration."""
    destination = Path(destination)
    folder = destination.with_name(destination.name + PARTIAL_SUFFIX)
    if folder.exists():
        raise PartialError(f"{folder} exists: continue it with --resume {folder}, or remove it")
    return PosteriorPartial(folder, destination, chain_fingerprint)


def resume_partial(folder: Path, chain_fingerprint: str) -> PosteriorPartial:
    """The partial folder ``folder`` (or ``folder.partial``) of the same calibration."""
    folder = Path(folder)
    if not folder.name.endswith(PARTIAL_SUFFIX) and folder.with_name(folder.name + PARTIAL_SUFFIX).is_dir():
        folder = folder.with_name(folder.name + PARTIAL_SUFFIX)
    path = folder / RECORD_FILE
    if not path.is_file():
        raise PartialError(f"--resume {folder}: not the .partial folder of a calibration (no {RECORD_FILE}); give "
                           "the folder printed when the calibration stopped")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        destination = Path(record["destination"])
        saved = record["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PartialError(f"{path}: unreadable ({error})") from None
    if saved != chain_fingerprint:
        raise PartialError(f"--resume {folder}: made by another calibration (a different scenario, priors, observed "
                           "figures, seed, --walkers, --sim-replications or --independent-errors); run the command that made it, "
                           "with --resume")
    return PosteriorPartial(folder, destination, chain_fingerprint)


__all__ = ["PARTIAL_SUFFIX", "PartialError", "PosteriorPartial", "fingerprint", "new_partial", "resume_partial"]
