"""``python -m sim`` is ``bordersim``."""
from sim.cli import main

main()
