"""The explorer: a scenario's key assumptions in a browser page, a quick preview as they change,
and runs of the edited scenario against the unchanged one (``bordersim explore``).

Its parts, each one concept:

* :mod:`~sim.explorer.workspace` — the scenario the app was started on, read once; every edit is
  checked as ``bordersim validate --set`` would check it, with the same one-line messages;
* :mod:`~sim.explorer.form` — which assumptions the page shows, their inputs generated from the
  scenario format's JSON Schema (its pydantic models), and the edits read back from the page;
* :mod:`~sim.explorer.preview` — the fast path drawn while editing (one function to swap);
* :mod:`~sim.explorer.jobs` — a run of N replications of the edited and the unchanged scenario with
  common random numbers, in a thread, with progress, reduced to what the page draws;
* :mod:`~sim.explorer.child_yaml` — the edited scenario as a small file that ``extends`` the original;
* :mod:`~sim.explorer.server` — the local HTTP server: a page and a JSON API, nothing else.

This layer sits between the command line and the studies: it runs scenarios (``sim.runs``) and
reduces their outcomes (``sim.outputs``), and the CLI only parses ``--port``/``--host`` and serves.
"""
