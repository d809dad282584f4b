"""``python -m escalate``."""

from .cli import main

main()
