"""``python -m ls_cleanlab.server [--host H] [--port P]``: run the ML backend."""

from ls_cleanlab.server.command import main

if __name__ == "__main__":  # not when a Dask LocalCluster's worker processes import it
    raise SystemExit(main(prog="python -m ls_cleanlab.server"))
