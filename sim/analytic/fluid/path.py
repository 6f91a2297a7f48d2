"""The fluid path of a scenario as daily series, named like the simulation's daily table."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analytic.fluid.capacity import BINS_PER_DAY
from sim.analytic.fluid.flow import HourlyFlows, group_streams, propagate
from sim.analytic.fluid.network import FluidNetwork, compile_network


@dataclass
class FluidPath:
    """The expected path of a scenario without household randomness."""

    network: FluidNetwork
    hourly: HourlyFlows

    @property
    def n_days(self) -> int:
        return self.network.world.clock.n_days

    def daily(self, hourly_rows: np.ndarray) -> np.ndarray:
        """Sum hourly bins into PKT days (rows kept)."""
        return hourly_rows.reshape(*hourly_rows.shape[:-1], self.n_days, BINS_PER_DAY).sum(axis=-1)

    def crossed_per_day(self) -> dict[str, np.ndarray]:
        """People crossed per day at each crossing, and their sum under ``all``."""
        daily = self.daily(self.hourly.crossed)
        result = {name: daily[c] for c, name in enumerate(self.network.world.crossing_names)}
        result["all"] = daily.sum(axis=0)
        return result


def run_network(network: FluidNetwork) -> HourlyFlows:
    """One pass of the fluid path through a compiled network."""
    return propagate(network, group_streams(network.groups, network.n_bins))


def fluid_path(scenario) -> FluidPath:
    """The fluid (mean-field) path of ``scenario`` over its whole period."""
    network = compile_network(scenario)
    return FluidPath(network, run_network(network))
