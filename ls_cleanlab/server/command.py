"""Running the ML backend: the ``serve`` arguments, in one place, and :func:`serve`.

Three entries share :func:`add_serve_arguments`: ``ls-cleanlab serve``,
``python -m ls_cleanlab.server`` and Label Studio's conventional ``python backend/_wsgi.py``.
Every other setting comes from the environment (:class:`~ls_cleanlab.server.settings.Settings`).
Importing this module imports neither the web framework nor the server, so the ``ls-cleanlab``
command stays quick to start.

Without ``--debug`` no traceback is ever printed: invalid settings are one ``error:`` and one
``fix:`` line (exit 2), and log records that carry an exception (the server's, uvicorn's, a
library's) are written as one line naming the exception's type (:class:`BriefFormatter`).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ls_cleanlab.server.settings import Settings

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "BriefFormatter",
    "add_serve_arguments",
    "configure_logging",
    "main",
    "serve",
]

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 9090  # what Label Studio users expect of an ML backend


def add_serve_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--host``, ``-p/--port``, ``--dask`` and ``--debug`` to ``parser`` (returned)."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="default: %(default)s")
    parser.add_argument(
        "-p", "--port", type=_port, default=DEFAULT_PORT, help="default: %(default)s"
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run audits on Dask: 'local', 'local:N' or a scheduler address "
        "(default: $LS_CLEANLAB_DASK_SCHEDULER, else in the backend's process)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _port(text: str) -> int:
    """A TCP port, 1 to 65535 (the socket's bind refused others with an OverflowError)."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port number from 1 to 65535, not {text!r}")
    return port


class BriefFormatter(logging.Formatter):
    """A formatter that writes a record's exception as its type on the same line, never as a
    traceback (whose frames and messages may carry anything); ``--debug`` uses the standard one.
    """

    def format(self, record: logging.LogRecord) -> str:
        if not (record.exc_info or record.exc_text or record.stack_info):
            return super().format(record)
        brief = logging.makeLogRecord(record.__dict__)
        kind = record.exc_info[1] if record.exc_info else None
        brief.exc_info = brief.exc_text = brief.stack_info = None
        text = super().format(brief)
        if kind is not None:
            text += f" ({type(kind).__name__}; --debug shows the traceback)"
        return text


def configure_logging(level: str, debug: bool) -> None:
    """Log to stderr at ``level`` (the root logger, so uvicorn's and ours); tracebacks only with
    ``debug``."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(fmt) if debug else BriefFormatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    threading.excepthook = _thread_crashed  # a thread's uncaught error: a log record, not stderr


def _thread_crashed(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    logging.getLogger("ls_cleanlab").error(
        "%s crashed: %s", name, args.exc_type.__name__,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )  # fmt: skip


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    settings: Settings | None = None,
    *,
    debug: bool = False,
    dask: str | None = None,
) -> None:
    """Run the backend with uvicorn until interrupted (settings: from the environment; ``dask``
    overrides ``LS_CLEANLAB_DASK_SCHEDULER``).

    Raises
    ------
    SettingsError
        For invalid settings, and a data dir that cannot be created or opened.
    EngineError
        When the Dask cluster cannot run the audits (opened before the server starts).
    """
    import uvicorn

    from ls_cleanlab.engine import ADDRESS_FORMS, open_engine, parse_address
    from ls_cleanlab.errors import InvalidOptionError
    from ls_cleanlab.server.app import create_app
    from ls_cleanlab.server.settings import SettingsError, load_settings

    if dask is not None:  # named as the option typed, not as the variable it overrides
        try:
            parse_address(dask)
        except InvalidOptionError as error:
            raise SettingsError(f"--dask: {error}", f"--dask: {ADDRESS_FORMS}") from None
    settings = settings or load_settings(**({"dask_scheduler": dask} if dask else {}))
    configure_logging(settings.log_level, debug)
    # opened before the server starts, so a cluster that cannot run the audits is refused with
    # a plain error instead of a failed startup
    with open_engine(settings.dask_scheduler) as engine:
        try:
            app = create_app(settings, engine=engine)
        except OSError as error:  # the data dir: no permission, a file in the way, a full disk
            raise SettingsError(
                f"invalid settings: LS_CLEANLAB_DATA_DIR: cannot create or open the data dir "
                f"{str(settings.data_dir)!r} ({type(error).__name__}: {error.strerror}).",
                "LS_CLEANLAB_DATA_DIR: a directory the backend may write",
            ) from error
        # log_config=None: uvicorn's loggers go through the root handler configured above
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(),
                    log_config=None, access_log=settings.log_level == "DEBUG")  # fmt: skip


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Parse the ``serve`` arguments and run the backend; 2 for invalid settings."""
    from ls_cleanlab.errors import EngineError, InvalidOptionError

    parser = argparse.ArgumentParser(prog=prog, description="Run the ls-cleanlab ML backend.")
    args = add_serve_arguments(parser).parse_args(argv)
    try:
        serve(host=args.host, port=args.port, debug=args.debug, dask=args.dask)
    except (InvalidOptionError, EngineError) as error:  # settings; a cluster that cannot run
        if args.debug:
            traceback.print_exc()
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        fix = getattr(error, "fix", "") or (
            "check --dask (or LS_CLEANLAB_DASK_SCHEDULER) and the workers named above."
            if isinstance(error, EngineError) else "correct the setting named above."
        )  # fmt: skip
        print(f"fix: {fix}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception as error:  # one line, not a traceback (its frames may carry anything)
        if args.debug:
            traceback.print_exc()
        print(f"error: the backend stopped: {type(error).__name__}", file=sys.stderr)
        print("fix: run again with --debug for the traceback, and report it.", file=sys.stderr)
        return 1
    return 0
