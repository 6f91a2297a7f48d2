"""Studies built from many runs: variants side by side (compare), parameter grids and Latin
hypercubes (sweep), one-at-a-time tornado (sensitivity), and fitting parameters to observed
series (calibrate: a point fit, or a posterior sample through the observation model)."""
