"""The closed-form prior densities equal scipy's everywhere: inside, on the edges, outside."""
import numpy as np
import pytest

from sim.studies.prior_density import CLOSED_FORMS
from sim.studies.priors import Prior

FAMILIES = ["uniform(0.3, 0.7)", "loguniform(0.001, 0.05)", "triangular(0, 0.38, 1)", "triangular(0, 0, 1)", "triangular(0.2, 0.7, 0.7)", "normal(0.5, 0.1)",
            "lognormal(1700, 1700)", "lognormal(0.005, 0.002)", "gamma(0.005, 0.002)", "gamma(2, 3)",
            "halfnormal(0.2)", "beta(1, 4)", "beta(0.5, 0.5)", "beta(2, 2)"]


@pytest.mark.parametrize("text", FAMILIES)
def test_closed_form_equals_scipy(text):
    prior = Prior.from_text("x", text)
    low, high = prior.range(1e-4)
    values = np.concatenate([np.linspace(low, high, 401), [-1.0, 0.0, 1.0, 1e6, low, high],
                             prior.dist.support()])
    values = values[np.isfinite(values)]
    mine = prior.log_density(values)
    with np.errstate(divide="ignore"):
        scipys = prior.dist.logpdf(values)
    assert np.array_equal(np.isfinite(mine), np.isfinite(scipys))
    finite = np.isfinite(scipys)
    np.testing.assert_allclose(mine[finite], scipys[finite], rtol=1e-10, atol=1e-10)
    assert np.array_equal(mine[~finite], scipys[~finite])


def test_closed_form_is_the_path_taken_inside_the_support(monkeypatch):
    prior = Prior.from_text("x", "lognormal(0.005, 0.002)")
    calls = []
    original = CLOSED_FORMS["lognormal"]
    monkeypatch.setitem(CLOSED_FORMS, "lognormal", lambda *a: calls.append(1) or original(*a))
    prior.log_density(np.array([0.004, 0.005, 0.006, 0.007]))
    assert calls == [1]
