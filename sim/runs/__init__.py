"""Runs: replications of one scenario, and cheap model evaluations for calibration."""
