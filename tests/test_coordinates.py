"""The unconstrained coordinates of the answering chains' random walks: each kind of prior's
support maps onto the real line and back, with the right log-Jacobian."""
from __future__ import annotations

import numpy as np
import pytest

from sim.studies.inference.coordinates import Unconstrained
from sim.studies.priors import Prior

PRIORS = ["loguniform(0.001, 0.1)", "uniform(0.1, 0.9)", "halfnormal(0.2)", "lognormal(0.005, 0.002)",
          "normal(0, 1)"]


@pytest.mark.parametrize("prior", PRIORS)
def test_the_unconstrained_coordinates_invert_with_the_right_jacobian(prior) -> None:
    transform = Unconstrained.of([Prior.from_text("x", prior)])
    z = np.linspace(-4, 4, 9)[:, None]
    x, log_jacobian = transform.inverse(z)
    assert np.allclose(transform.forward(x), z)
    step = 1e-6
    numeric = np.log(np.abs((transform.inverse(z + step)[0] - x) / step))[:, 0]
    assert np.allclose(numeric, log_jacobian, atol=1e-4)


def test_unknowns_of_every_kind_together_add_their_log_jacobians() -> None:
    transform = Unconstrained.of([Prior.from_text(f"x{i}", prior) for i, prior in enumerate(PRIORS)])
    z = np.random.default_rng(0).normal(0, 2, (20, len(PRIORS)))
    x, log_jacobian = transform.inverse(z)
    assert np.allclose(transform.forward(x), z)
    each = [Unconstrained.of([Prior.from_text("x", prior)]).inverse(z[:, [i]])[1] for i, prior in enumerate(PRIORS)]
    assert np.allclose(log_jacobian, np.sum(each, axis=0))
