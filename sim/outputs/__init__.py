"""Outputs: statistics, tables, results folders, figures and reports made from model runs."""
