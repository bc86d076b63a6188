"""The ls-cleanlab ML backend entry in Label Studio's conventional shape (``_wsgi.py``).

``python backend/_wsgi.py --port 9090`` runs the server with settings from the environment
(see ``.env.example``; the arguments are ``ls-cleanlab serve``'s); ``uvicorn backend._wsgi:app``
(or gunicorn with uvicorn workers) serves ``app``, built on first access so importing this file
reads nothing.
"""

from __future__ import annotations

from typing import Any


def make_app() -> Any:
    """The FastAPI app with settings read from the environment now."""
    from ls_cleanlab.server import create_app
    from ls_cleanlab.server.settings import load_settings

    return create_app(load_settings())


def __getattr__(name: str) -> Any:  # ``app`` for ASGI servers, built lazily
    if name == "app":
        return make_app()
    raise AttributeError(name)


if __name__ == "__main__":
    from ls_cleanlab.server.command import main

    raise SystemExit(main(prog="backend/_wsgi.py"))
