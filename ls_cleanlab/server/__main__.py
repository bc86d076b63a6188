"""``python -m ls_cleanlab.server [--host H] [--port P]``: run the ML backend."""

from ls_cleanlab.server.command import main

raise SystemExit(main(prog="python -m ls_cleanlab.server"))
