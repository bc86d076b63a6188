"""Running the ML backend: the ``serve`` arguments, in one place, and :func:`serve`.

Three entries share :func:`add_serve_arguments`: ``ls-cleanlab serve``,
``python -m ls_cleanlab.server`` and Label Studio's conventional ``python backend/_wsgi.py``.
Every other setting comes from the environment (:class:`~ls_cleanlab.server.settings.Settings`).
Importing this module imports neither the web framework nor the server, so the ``ls-cleanlab``
command stays quick to start.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ls_cleanlab.server.settings import Settings

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "add_serve_arguments", "main", "serve"]

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 9090  # what Label Studio users expect of an ML backend


def add_serve_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--host``, ``-p/--port`` and ``--debug`` to ``parser`` (returned)."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="default: %(default)s")
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_PORT, help="default: %(default)s")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def serve(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, settings: Settings | None = None
) -> None:
    """Run the backend with uvicorn until interrupted (settings: from the environment)."""
    import uvicorn

    from ls_cleanlab.server.app import create_app
    from ls_cleanlab.server.settings import load_settings

    settings = settings or load_settings()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    logging.captureWarnings(True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower(),
                access_log=settings.log_level == "DEBUG")  # fmt: skip


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Parse the ``serve`` arguments and run the backend; 2 for invalid settings."""
    from ls_cleanlab.errors import InvalidOptionError

    parser = argparse.ArgumentParser(prog=prog, description="Run the ls-cleanlab ML backend.")
    args = add_serve_arguments(parser).parse_args(argv)
    try:
        serve(host=args.host, port=args.port)
    except InvalidOptionError as error:  # SettingsError: the environment's settings
        if args.debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
