"""When a chain counts as converged, by default (no imports: the command line reads these for its
``--help`` without loading numpy).

R-hat ≤ 1.01 and bulk ESS ≥ 400 are the recommendations of Vehtari, Gelman, Simpson, Carpenter
& Bürkner (2021), *Rank-normalization, folding, and localization: an improved R-hat*, Bayesian
Analysis 16(2). The budget bounds a calibration that never gets there."""

DEFAULT_RHAT_MAX = 1.01
DEFAULT_ESS_MIN = 400.0
DEFAULT_MAX_EVALUATIONS = 200_000
