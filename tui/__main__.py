"""``python -m tui`` and the ``clerkdesk`` command (pyproject's [project.scripts])."""

from __future__ import annotations

import gc


def start() -> None:
    # Start-up allocates about a million objects (SQLAlchemy, the models, Textual) and frees
    # almost none of them, so the cyclic collector would only walk them again and again:
    # 10-20 % of the start. It stays off until the first screen is up (ClerkDeskApp) or a
    # command other than the app starts (tui.cli.main).
    gc.disable()
    from tui.cli import run

    run()


if __name__ == "__main__":
    start()
