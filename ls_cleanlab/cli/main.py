"""The ``ls-cleanlab`` command.

``ls-cleanlab audit --project ID`` audits a Label Studio project (and pushes the review queues
unless ``--dry-run``); ``ls-cleanlab audit EXPORT.json`` audits a JSON export offline;
``ls-cleanlab annotators`` shows annotator quality and agreement; ``ls-cleanlab reasons`` adds
(or removes) the reasons text area of the labeling view; ``ls-cleanlab serve`` runs the ML
backend. Settings: ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY`` or ``--url`` / ``--api-key``.

Exit codes: 0 done, 1 unexpected failure, 2 bad input, 3 Label Studio unreachable or refused the
key. Errors are one ``error:`` line and one ``fix:`` line on stderr (the traceback too with
``--debug``); warnings logged on the way are ``warning:`` lines, never with a traceback unless
``--debug``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import IO, Any
from urllib.parse import urlsplit

from ls_cleanlab.cli.fixes import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STUDIO,
    UsageError,
    report_error,
)
from ls_cleanlab.cli.logs import warnings_on
from ls_cleanlab.cli.reasons import add_reasons_arguments, run_reasons
from ls_cleanlab.cli.reviewers import add_reviewer_argument
from ls_cleanlab.errors import LsCleanlabError, StudioRequestError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "EXIT_STUDIO", "build_parser", "main"]


def _connection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Label Studio connection")
    group.add_argument(
        "--url",
        "--studio-url",
        dest="url",
        metavar="URL",
        help="Label Studio's URL (default: $LABEL_STUDIO_URL)",
    )
    group.add_argument(
        "--api-key",
        metavar="KEY",
        help="API key or personal access token (default: $LABEL_STUDIO_API_KEY)",
    )


def _source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "export",
        nargs="?",
        metavar="EXPORT.json",
        help="a Label Studio JSON export to work on offline",
    )
    parser.add_argument("--project", type=int, metavar="ID", help="the Label Studio project id")
    parser.add_argument(
        "--label-config",
        metavar="FILE.xml",
        help="the labeling config of an export (default: inferred from its tasks)",
    )
    parser.add_argument("--choices", metavar="NAME", help="the Choices or RectangleLabels tag")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout and nothing else"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    _connection(parser)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ls-cleanlab``."""
    from ls_cleanlab import __version__

    parser = argparse.ArgumentParser(
        prog="ls-cleanlab",
        description="Find label errors in Label Studio classification and bounding-box projects.",
    )
    parser.add_argument("--version", action="version", version=f"ls-cleanlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    audit = commands.add_parser("audit", help="audit a project or an export; write the report")
    _source(audit)
    audit.add_argument("--dry-run", action="store_true", help="write nothing to Label Studio")
    audit.add_argument(
        "--from-model-version",
        metavar="V",
        help="use that model version's predictions as probabilities (no model fit)",
    )
    audit.add_argument(
        "--pred-probs",
        metavar="FILE.npy",
        help="probabilities (tasks, classes), rows in task order (no model fit)",
    )
    audit.add_argument("--predictions", metavar="FILE.json", help="detector boxes, COCO-style")
    audit.add_argument("--rules", metavar="rules.yaml", help="implies/excludes rules (YAML)")
    audit.add_argument(
        "--out",
        metavar="DIR",
        default="ls-cleanlab-report",
        help="where report.html and the CSV files go (default: %(default)s)",
    )
    audit.add_argument(
        "--model-version",
        default="ls-cleanlab",
        help="version our predictions are stored under: 1-100 letters, digits, '-', '_' or "
        "'.' (default: %(default)s)",
    )
    _feature_arguments(audit)
    audit.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    audit.add_argument("--seed", type=int, default=0)
    audit.add_argument("--threshold", type=float, help="fixed issue probability in (0, 1); "
                       "default: each error tab as large as its expected count")  # fmt: skip
    audit.add_argument("--local-files-root", metavar="DIR",
                       help="Label Studio's LOCAL_FILES_DOCUMENT_ROOT if readable")  # fmt: skip
    audit.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="another host media may come from (repeatable)",
    )
    add_reviewer_argument(audit)
    audit.add_argument(
        "--data-dir", metavar="DIR", help="keep task snapshots, feature cache and models here"
    )
    audit.add_argument("--top", type=int, default=100, help="tasks listed in the report")
    _run_arguments(audit)

    annotators = commands.add_parser("annotators", help="annotator quality and agreement")
    _source(annotators)
    reasons = commands.add_parser("reasons", help="show each task's reasons when it is opened")
    add_reasons_arguments(reasons)
    _connection(reasons)

    # the server's own arguments (shared with python -m ls_cleanlab.server and backend/_wsgi.py);
    # the module imports no web framework
    from ls_cleanlab.server.command import add_serve_arguments

    add_serve_arguments(commands.add_parser("serve", help="run the Label Studio ML backend"))
    return parser


def _run_arguments(audit: argparse.ArgumentParser) -> None:
    """How ``audit`` runs: the engine, earlier runs, progress bars."""
    audit.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run features, folds, predictions and the audit on Dask: 'local', 'local:N' "
        "(a LocalCluster of N workers) or a scheduler address (tcp://host:8786)",
    )
    audit.add_argument(
        "--keep-old-runs",
        action="store_true",
        help="leave earlier runs' predictions in the project (the next run removes them); by "
        "default they are deleted in the background once the tabs show this run",
    )
    audit.add_argument("--progress", action="store_true",
                       help="show progress bars even when stderr is not a terminal")  # fmt: skip


def _feature_arguments(audit: argparse.ArgumentParser) -> None:
    """The options choosing the features: embedders and precomputed embeddings."""
    audit.add_argument(
        "--embedder",
        default="auto",
        help="image features: auto (EfficientNet-Lite0 with the embed extra, else descriptors), "
        "efficientnet_lite0, descriptors, torchvision, open_clip (default: %(default)s)",
    )
    audit.add_argument(
        "--text-embedder",
        default="auto",
        help="sentence embeddings beside TF-IDF for text: auto (MiniLM with the embed extra), "
        "minilm_l6, none (default: %(default)s)",
    )
    audit.add_argument("--embedding-field", metavar="FIELD", help="task data field of embeddings")
    audit.add_argument("--embeddings-file", metavar="FILE", help="embeddings .npy or .npz")


def _check_url(url: str, given: bool) -> str:
    """``url`` when it is an http(s) URL with a host; a usage error naming where it came from."""
    where = "--url" if given else "LABEL_STUDIO_URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        scheme = f" (scheme {parts.scheme!r})" if parts is not None and parts.scheme else ""
        raise UsageError(
            f"{where} is not an http:// or https:// URL of a host{scheme}.",
            f"give Label Studio's address with {where}, e.g. http://localhost:8080.",
        )
    return url


def _settings(args: argparse.Namespace, *, required: bool) -> tuple[str | None, str | None]:
    url = args.url or os.environ.get("LABEL_STUDIO_URL") or None
    key = args.api_key or os.environ.get("LABEL_STUDIO_API_KEY") or None
    if url is not None:
        url = _check_url(url, given=bool(args.url))
    if required and not url:
        raise UsageError(
            "no Label Studio URL given.", "pass --url http://host:8080 or set LABEL_STUDIO_URL."
        )
    if required and not key:
        raise UsageError(
            "no Label Studio API key given.",
            "pass --api-key or set LABEL_STUDIO_API_KEY (Account & Settings in Label Studio).",
        )
    return url, key


def _check_source(args: argparse.Namespace) -> None:
    if (args.project is None) == (args.export is None):
        raise UsageError(
            "give either --project ID or an EXPORT.json file, not both or neither.",
            f"ls-cleanlab {args.command} --project 12, or ls-cleanlab {args.command} export.json",
        )


def _serve(args: argparse.Namespace) -> int:
    from ls_cleanlab.server.command import serve

    try:
        serve(host=args.host, port=args.port, debug=args.debug, dask=args.dask)
    except ImportError as exc:  # the web framework or the server is missing
        raise UsageError(
            f"the ML backend server is not available ({exc}).",
            "reinstall ls-cleanlab with its dependencies: pip install ls-cleanlab.",
        ) from exc
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run ``ls-cleanlab`` with ``argv`` (default: the process arguments); return the exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, usage errors (argparse exits with 2)
        return int(exit_.code) if isinstance(exit_.code, int) else EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help(err)
        return EXIT_BAD_INPUT
    debug = bool(getattr(args, "debug", False))
    try:
        if args.command == "serve":
            return _serve(args)
        from ls_cleanlab.cli import commands as _cli_commands

        if args.command != "reasons":
            _check_source(args)
        url, key = _settings(args, required=args.project is not None)
        with warnings_on(err, debug):
            summary: dict[str, Any]
            if args.command == "reasons":
                summary = run_reasons(args, url, key)
            elif args.command == "audit":
                summary = _cli_commands.audit(args, url, key, err)
            else:
                summary = _cli_commands.annotators(args, url, key)
    except (LsCleanlabError, StudioRequestError) as error:
        return report_error(error, err, debug)
    except KeyboardInterrupt:
        print("error: interrupted.", file=err)
        return EXIT_FAILED
    except Exception as error:  # one line and a hint, not a traceback, unless --debug
        return report_error(error, err, debug)
    from ls_cleanlab.cli import output as _cli_output

    if args.json:
        print(json.dumps(summary, indent=2, default=str), file=out)
    elif args.command == "audit":
        _cli_output.print_audit(summary, out)
    elif args.command == "reasons":
        print(summary["message"], file=out)
    else:
        _cli_output.print_annotators(summary, out)
    return EXIT_OK


def _entry() -> None:  # pragma: no cover - the console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _entry()
