"""The scenario language: YAML source, models, expressions, validation."""
