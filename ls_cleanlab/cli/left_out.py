"""The "Left out" lines of an audit summary, shared by the classification and the box summary
(:func:`ls_cleanlab.pipeline.skip_report`, as ``--json``'s ``skipped_reasons``), and the line
naming the config's tags the audit left alone (``--json``'s ``schema.not_audited``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

from ls_cleanlab.cli.fields import printable

__all__ = ["print_left_out", "print_not_audited"]


def print_left_out(entries: Sequence[Mapping[str, Any]], out: IO[str]) -> None:
    """One line per reason: count, what was left out, the reason, its meaning and an example."""
    if not entries:
        return
    print("Left out (nothing is dropped without a count):", file=out)
    for entry in entries:
        example = f": {printable(str(entry['example']))}" if entry["example"] else ""  # a choice
        print(f"  {entry['count']:>6} {entry['items']:<11} {entry['reason']} "
              f"({entry['meaning']}){example}"[:300], file=out)  # fmt: skip


def print_not_audited(schema: Mapping[str, Any], out: IO[str]) -> None:
    """The config's other control tags the audit left alone (nothing when it has one)."""
    others = schema.get("not_audited") or []
    if others:
        print(
            f"The label config has other tags this audit left alone: {', '.join(others)}; audit "
            "one of them with --choices NAME.",
            file=out,
        )
