"""The release of bordersim (pyproject reads it from here; ``bordersim --version`` and every
manifest record it). A module of its own so that any layer can read it without importing the rest."""

__version__ = "0.2.0"
