"""Analyses over results: what reports and comparisons compute from runs, not how they look."""
