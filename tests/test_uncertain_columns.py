"""The values an ``uncertain:`` block draws in each replication are reported in replications.csv."""
from __future__ import annotations

from builders import build
from sim import run


def test_drawn_values_are_columns_of_the_replications_table():
    scenario = build({"uncertain": {"groups.everyone.never_leave": {"dist": "uniform", "low": 0.1, "high": 0.6}},
                      "target": {"people": 1000, "by": "2024-01-05"}}, people=200)
    table = run(scenario, replications=4, seed=3, jobs=1).replications
    column = "uncertain:groups.everyone.never_leave"
    assert column in table.columns
    values = table[column].tolist()
    assert all(0.1 <= value <= 0.6 for value in values)
    assert len(set(values)) == 4  # one draw per replication
    # The draws are the ones the replications ran with: the share that left is 1 - never_leave
    # (200 one-person households: a standard deviation of at most 0.035).
    for share_staying, departed in zip(values, table["departed_by_target_date"]):
        assert abs(departed / 200 - (1 - share_staying)) < 0.15
