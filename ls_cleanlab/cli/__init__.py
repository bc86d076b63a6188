"""The ``ls-cleanlab`` command: ``audit``, ``annotators``, ``serve``."""

from ls_cleanlab.cli.main import main

__all__ = ["main"]
