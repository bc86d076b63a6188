"""The ML backend: a FastAPI app speaking Label Studio's ML backend protocol.

``create_app(settings)`` builds the app (nothing is created at import time); ``serve()`` runs it.
"""

from ls_cleanlab.server.app import create_app, serve
from ls_cleanlab.server.settings import Settings

__all__ = ["Settings", "create_app", "serve"]
