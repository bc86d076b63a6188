"""Reviewers on the command line: ``--reviewer EMAIL`` (repeatable), else
``$LS_CLEANLAB_REVIEWERS``; kept light, as the parser is built before any heavy import."""

from __future__ import annotations

import argparse
import os

__all__ = ["add_reviewer_argument", "reviewers_given"]


def reviewers_given(given: list[str] | None) -> tuple[int | str, ...]:
    """``--reviewer`` values, else ``$LS_CLEANLAB_REVIEWERS`` (comma-separated): emails, or
    user ids (digits)."""
    names = given if given is not None else os.environ.get("LS_CLEANLAB_REVIEWERS", "").split(",")
    return tuple(int(n) if n.strip().isdigit() else n.strip() for n in names if n.strip())


def add_reviewer_argument(parser: argparse.ArgumentParser) -> None:
    """``--reviewer EMAIL`` (repeatable) on ``parser``."""
    parser.add_argument(
        "--reviewer",
        action="append",
        default=None,
        metavar="EMAIL",
        help="a reviewer (email, or user id offline): their annotations are gold, as are ground "
        "truth ones (repeatable; default: $LS_CLEANLAB_REVIEWERS, comma-separated)",
    )
