"""``ls-cleanlab reasons --project ID --enable|--disable``: the reasons text area of the labeling
view (:mod:`ls_cleanlab.studio.reasons_control`); kept light, as the parser is built before any
heavy import."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_reasons_arguments", "reasons_message", "run_reasons"]


def add_reasons_arguments(parser: argparse.ArgumentParser) -> None:
    """``--project``, ``--enable`` or ``--disable``, ``--json`` and ``--debug`` on ``parser``."""
    parser.add_argument("--project", type=int, metavar="ID", required=True,
                        help="the Label Studio project id")  # fmt: skip
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--enable", action="store_true",
                       help="add a read-only text area that shows each task's reasons (the next "
                       "audit or refresh fills it)")  # fmt: skip
    which.add_argument("--disable", action="store_true",
                       help="remove it, restoring the labeling config as it was")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def run_reasons(args: argparse.Namespace, url: str | None, key: str | None) -> dict[str, Any]:
    """Add or remove the text area; the summary says what changed."""
    from ls_cleanlab.studio import StudioClient
    from ls_cleanlab.studio.reasons_control import disable_reasons, enable_reasons

    assert url is not None and key is not None  # required by the caller's settings check
    with StudioClient(url, key, retries=2) as client:
        change = enable_reasons if args.enable else disable_reasons
        changed = change(client, args.project)
    message = reasons_message(args.project, bool(args.enable), changed)
    return {"project": args.project, "reasons_on_task": bool(args.enable), "changed": changed,
            "message": message}  # fmt: skip


def reasons_message(project: int, enable: bool, changed: bool) -> str:
    """What ``reasons --enable`` / ``--disable`` did, in a sentence."""
    state = {
        (True, True): "now shows",
        (True, False): "already shows",
        (False, True): "no longer shows",
        (False, False): "did not show",
    }[(enable, changed)]
    message = f"project {project} {state} each task's reasons in the labeling view"
    if enable and changed:
        return message + ". The next audit or refresh fills them in."
    return message + ("; nothing changed." if not changed else ".")
