"""Outputs: run directories, terminal tables, traces and graph diagrams."""
