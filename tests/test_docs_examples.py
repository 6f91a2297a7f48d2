"""The examples of the README, the tutorial and the how-to guides run, and print what the pages say
they print (see tests/docs_examples.py for how blocks are run and compared; after editing a page,
``python tests/docs_examples.py PAGE`` pastes the actual outputs in). The Dask guide's commands need
a running cluster and are not run here; tests/test_run_on_dask.py checks the same path."""
from __future__ import annotations

from pathlib import Path

import pytest
from docs_examples import ROOT, compare_output, line_problem, run_page

PAGES = ["README.md", "docs/tutorial/first-scenario.md", "docs/how-to/compare-capacity-options.md",
         "docs/how-to/sweep-and-sensitivity.md", "docs/how-to/bring-your-own-observed-data.md",
         "docs/how-to/read-results-with-pandas.md", "docs/RELIABILITY.md",
         "docs/how-to/check-calibration-with-sbc.md", "docs/how-to/plan-supplies-for-a-surge.md",
         "docs/how-to/score-forecasts-by-rolling-origin.md"]


@pytest.mark.parametrize("page", PAGES)
def test_the_examples_of_the_page_run_as_shown(page, tmp_path):
    assert run_page(ROOT / page, tmp_path) > 0


def test_output_comparison_is_loose_about_numbers_and_strict_about_words():
    assert line_problem("Crossed: median 1,000 people", "Crossed: median 1,050 people") is None
    assert line_problem("Crossed: median 1,000 people", "Crossed: median 1,200 people") is not None
    assert line_problem("Crossed: median 1,000 people", "Queued: median 1,000 people") is not None
    assert line_problem("P = 0.00 [0.00, 0.16]", "P = 0.00 [0.00, 0.17]") is None
    assert line_problem("P = 1.0", "P = 0.85") is not None
    assert line_problem("results: results/x/run-...", "results: results/x/run-20261201-1a2b") is None
    assert compare_output(["a", "...", "z"], ["a", "b", "c", "z"]) is None
    assert compare_output(["a", "z"], ["a", "b", "z"]) is not None


def test_the_pages_with_examples_exist():
    for page in PAGES:
        assert (ROOT / page).is_file(), page
    assert Path(__file__).with_name("docs_examples.py").is_file()
