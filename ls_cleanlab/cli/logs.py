"""The package's log records and Python warnings as ``warning:`` lines of the command. Private
to :mod:`.main`."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

__all__ = ["warnings_on"]


@contextmanager
def warnings_on(err: IO[str], debug: bool) -> Iterator[None]:
    """The package's log records and Python warnings as ``warning:`` lines on ``err`` while the
    command runs (a warning repeated word for word, once); records carrying an exception show
    its type, the traceback only with ``debug``."""
    from ls_cleanlab.server.command import BriefFormatter

    class Lines(BriefFormatter):
        def format(self, record: logging.LogRecord) -> str:
            text = logging.Formatter.format(self, record) if debug else super().format(record)
            return f"warning: {text}"  # the command's own error is the one error: line

    logger = logging.getLogger("ls_cleanlab")
    handler = logging.StreamHandler(err)
    handler.setFormatter(Lines("%(message)s"))
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if debug else logging.WARNING)
    logger.propagate = False
    shown: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        line = f"warning: {message}" + (f" ({category.__name__})" if debug else "")
        if line not in shown:  # the same warning from each fold or stage, once
            shown.add(line)
            print(line, file=err)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
