"""``python -m tui`` and the ``clerkdesk`` command (pyproject's [project.scripts])."""

from __future__ import annotations

import gc
import sys


def start() -> None:
    # `serve --key ID` (an SSH login) first offers its terminal to a warm server that has the
    # imports below done already (tui/warm_client.py imports only small standard modules);
    # when none answers, the same login starts cold.
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        from tui.warm_client import is_serve, run_warm

        if is_serve(sys.argv):
            code = run_warm(sys.argv)
            if code is not None:
                sys.exit(code)
    # Start-up allocates about a million objects (SQLAlchemy, the models, Textual) and frees
    # almost none of them, so the cyclic collector would only walk them again and again:
    # 10-20 % of the start. It stays off until the first screen is up (ClerkDeskApp) or a
    # command other than the app starts (tui.cli.main).
    gc.disable()
    from tui.cli import run

    run()


if __name__ == "__main__":
    start()
