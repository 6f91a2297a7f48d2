"""What ``calibrate --method posterior`` and ``sbc`` share: the posterior fit's options and inputs.

``sbc`` must fit every data set exactly as ``calibrate`` fits real figures, so the options of the
fit are declared once, here (:data:`FIT_OPTIONS`), and added to both commands by
:func:`with_fit_options`: a command so decorated receives them as one dict ``fit_options`` of
:func:`sim.studies.posterior.fit_posterior`'s keywords. A new option of the fit is one more
:class:`FitOption` line, and both commands have it.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from sim.cli.common import BadInput


@dataclass(frozen=True)
class FitOption:
    """One command-line option of the posterior fit: the command's parameter, its typer annotation
    and default, and the keyword of ``fit_posterior`` it is passed as."""

    parameter: str
    annotation: Any
    default: Any
    keyword: str


FIT_OPTIONS: tuple[FitOption, ...] = (
    FitOption("walkers", Annotated[int | None, typer.Option(
        "--walkers", min=2, help="posterior: emcee walkers, even, >= 4 and >= 2 x unknowns (fitted parameters and "
                                 "error terms; default 2 x unknowns + 2).")], None, "walkers"),
    # The defaults of these three are sim.studies.inference.defaults' (not imported here: --help loads no library;
    # tests/test_calibrate_convergence.py checks that the help states them).
    FitOption("rhat_max", Annotated[float | None, typer.Option(
        "--rhat-max", min=1.0, help="posterior: converged when every unknown's rank-normalized split R-hat is "
                                    "at most this (default 1.01) and its bulk ESS at least --ess-min.")],
        None, "rhat_max"),
    FitOption("ess_min", Annotated[float | None, typer.Option(
        "--ess-min", min=1.0, help="posterior: converged when every unknown's bulk effective sample size is at "
                                   "least this (default 400) and its R-hat at most --rhat-max.")],
        None, "ess_min"),
    FitOption("max_evaluations", Annotated[int | None, typer.Option(
        "--max-evaluations", min=2, help="Model evaluations at most (posterior: default 200,000 per chain, then it "
                                         "stops unconverged; point: default 120).")],
        None, "max_evaluations"),
    FitOption("max_rounds", Annotated[int | None, typer.Option(
        "--max-rounds", min=1, max=2, help="posterior: correction rounds at most (default 2: a second one when the "
                                           "answer left the region the first one measured).")],
        None, "max_rounds"),
    FitOption("sim_replications", Annotated[int | None, typer.Option(
        "--sim-replications", min=2, help="posterior: simulation replications per correction round (each at its "
                                          "own posterior draw, with its own households; default 2 x figures + "
                                          "4 x (fitted values + 1), at least 48).")],
        None, "simulation_replications"),
    FitOption("independent_errors", Annotated[bool, typer.Option(
        "--independent-errors", help="posterior: a reporter's errors on successive running totals are "
                                     "independent (default: their correlation is fitted).")],
        False, "independent_errors"),
)
"""The options of the posterior fit, in the order ``--help`` lists them."""

TRAILING = ("out", "quiet", "debug")
"""The fit's options are listed before these (the options every command ends with)."""


def default_fit_options() -> dict[str, Any]:
    """The ``fit_options`` dict when no fit option is given."""
    return {option.keyword: option.default for option in FIT_OPTIONS}


def with_fit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with the :data:`FIT_OPTIONS` added to its options (typer reads the signature);
    it is called with them gathered into ``fit_options`` (a dict of ``fit_posterior`` keywords)."""
    signature = inspect.signature(command, eval_str=True)
    own = [parameter for parameter in signature.parameters.values() if parameter.name != "fit_options"]
    added = [inspect.Parameter(option.parameter, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=option.default,
                               annotation=option.annotation) for option in FIT_OPTIONS]
    cut = next((index for index, parameter in enumerate(own) if parameter.name in TRAILING), len(own))
    parameters = own[:cut] + added + own[cut:]

    @functools.wraps(command)
    def wrapper(**values: Any) -> Any:
        fit_options = {option.keyword: values.pop(option.parameter, option.default) for option in FIT_OPTIONS}
        return command(**values, fit_options=fit_options)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    del wrapper.__wrapped__  # typer must see the signature above, not the command's own
    return wrapper


def posterior_inputs(fit: list[str], prior: list[str], observed_files: list[str]):
    """The priors (fitted key paths), the error terms' priors (``error_scale.SERIES``,
    ``error_correlation.SERIES``) and the observed series."""
    from sim.studies.calibrate import CalibrationError, FitParameter
    from sim.studies.observation import ObservationError, combine, read_observations
    from sim.studies.posterior import ERROR_CORRELATION_PREFIX, ERROR_SCALE_PREFIX
    from sim.studies.priors import Prior, PriorError

    try:
        priors = [Prior.uniform(p.key, p.low, p.high) for p in map(FitParameter.parse, fit)]
        parsed = [Prior.parse(text) for text in prior]
    except (CalibrationError, PriorError) as error:
        raise BadInput(str(error)) from None
    error_terms = (ERROR_SCALE_PREFIX, ERROR_CORRELATION_PREFIX)
    error_priors = {p.key: p for p in parsed if p.key.startswith(error_terms)}
    priors += [p for p in parsed if not p.key.startswith(error_terms)]
    try:
        series = combine([read_observations(source) for source in observed_files])
    except ObservationError as error:
        raise BadInput(str(error)) from None
    return priors, error_priors, series


__all__ = ["FIT_OPTIONS", "FitOption", "default_fit_options", "posterior_inputs", "with_fit_options"]
