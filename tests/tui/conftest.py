"""Screen-test helpers: an app on the test office, driven by Pilot."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.conftest import Office
from tui.app import ClerkDeskApp
from tui.config import Config


def exports_folder_for_tests() -> Path:
    """A fresh exports folder for each app (in the session's private data folder, tests/conftest.py)."""
    return Path(tempfile.mkdtemp(dir=os.environ["XDG_DATA_HOME"], prefix="exports-")) / "me"


def make_app(office: Office, who: str = "sup", keymap: dict[str, str] | None = None) -> ClerkDeskApp:
    actor = getattr(office, who)
    return ClerkDeskApp(
        office.db, actor, config=Config(keymap=keymap or {}), exports=exports_folder_for_tests()
    )
