"""Queueing theory the model must agree with: Erlang C (M/M/c), Pollaczek–Khinchine (M/G/1), Little.

A crossing open 24 hours, fed by Poisson arrivals of single people, with ``c`` lanes and independent
service times, is a textbook queue. Where theory knows the steady-state answer, the simulation has
to reproduce it within its statistical error (``tests/test_analytic.py``). Notation: arrival rate
``λ`` (households per hour), mean service time ``E[S]`` (hours), ``c`` lanes, offered load
``a = λ·E[S]`` (Erlangs) and load per lane ``ρ = a / c`` (must be < 1 for a steady state).
"""
from __future__ import annotations

import math


def _check_load(arrival_rate: float, mean_service_hours: float, lanes: int) -> float:
    if arrival_rate <= 0 or mean_service_hours <= 0 or lanes < 1:
        raise ValueError("arrival rate, mean service time and lanes must be positive")
    load = arrival_rate * mean_service_hours / lanes
    if load >= 1.0:
        raise ValueError(f"load per lane must be below 1 for a steady state, got {load:.3f}")
    return load


def erlang_c(lanes: int, offered_load: float) -> float:
    """Probability that an arrival has to wait (all ``lanes`` busy) in M/M/c: the Erlang C formula.

    ``C(c, a) = (a^c / c!) · c/(c − a) / (Σ_{k<c} a^k / k! + (a^c / c!) · c/(c − a))`` with ``a`` the
    offered load in Erlangs (``λ·E[S]``), ``a < c``. Computed through the Erlang B recursion
    ``B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))`` and ``C = c·B / (c − a·(1 − B))``, which never
    forms large factorials or powers, so it is exact to rounding for hundreds of lanes.
    """
    if lanes < 1:
        raise ValueError("lanes must be at least 1")
    if not 0 <= offered_load < lanes:
        raise ValueError(f"offered load must lie in [0, lanes), got {offered_load} for {lanes} lanes")
    blocking = 1.0
    for k in range(1, lanes + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return lanes * blocking / (lanes - offered_load * (1.0 - blocking))


def mmc_mean_wait_hours(arrival_rate: float, mean_service_hours: float, lanes: int) -> float:
    """Mean wait in queue (before service starts) in M/M/c: ``W_q = C(c, a) · E[S] / (c − a)``."""
    _check_load(arrival_rate, mean_service_hours, lanes)
    offered = arrival_rate * mean_service_hours
    return erlang_c(lanes, offered) * mean_service_hours / (lanes - offered)


def mg1_mean_wait_hours(arrival_rate: float, mean_service_hours: float, service_sd_hours: float) -> float:
    """Mean wait in queue in M/G/1: the Pollaczek–Khinchine formula ``W_q = λ·E[S²] / (2(1 − ρ))``.

    ``E[S²] = sd² + E[S]²``; with deterministic service (M/D/1, ``sd = 0``) this is
    ``ρ·E[S] / (2(1 − ρ))``, half the M/M/1 wait at the same load.
    """
    load = _check_load(arrival_rate, mean_service_hours, 1)
    second_moment = service_sd_hours ** 2 + mean_service_hours ** 2
    return arrival_rate * second_moment / (2.0 * (1.0 - load))


def utilisation(arrival_rate: float, mean_service_hours: float, lanes: int) -> float:
    """Long-run share of lane time busy: ``ρ = λ·E[S] / c``."""
    return _check_load(arrival_rate, mean_service_hours, lanes)


def littles_law_queue(arrival_rate: float, mean_wait_hours: float) -> float:
    """Little's law for the queue: time-average number waiting ``L_q = λ·W_q``."""
    if arrival_rate < 0 or mean_wait_hours < 0 or math.isnan(mean_wait_hours):
        raise ValueError("arrival rate and wait must be non-negative numbers")
    return arrival_rate * mean_wait_hours


__all__ = ["erlang_c", "littles_law_queue", "mg1_mean_wait_hours", "mmc_mean_wait_hours", "utilisation"]
