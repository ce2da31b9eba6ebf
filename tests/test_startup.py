"""Start-up imports only what the first screen needs (issue 13): the CLI resolves its command
groups lazily, the schema check needs no Alembic, and opening the app as a clerk or a supervisor
loads none of OR-Tools, pandas, NumPy, fpdf, fontTools or Alembic. The first frame is on
screen before the first query answers. Imports are checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from db.engine import make_engine
from db.migrate import check_current, current_revision, head_revision, known_revisions, upgrade
from tests.conftest import Office
from tests.db.helpers import empty_database
from tests.pilot import screen_text, settle, wait_until
from tests.tui.conftest import make_app
from tui.cli import LAZY_COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["ortools", "pandas", "numpy", "fpdf", "fontTools", "alembic"]
SUBCOMMAND_MODULES = sorted({ref.partition(":")[0] for ref in LAZY_COMMANDS.values()})


def run_python(code: str, *args: str, stdin: Any = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=stdin,
        timeout=120,
        check=False,
    )


# What `clerkdesk` does up to the first screen, minus the terminal: import the entry point,
# open and check the database, find the person, build the app and mount their home screen
# (headless), let its workers answer; then list the packages that got imported.
OPEN_APP = r"""
import asyncio, json, sys
import tui.cli
from scheduling.staff import resolve_actor
from tui.config import Config

c = tui.cli.Ctx(sys.argv[1], None)
db = c.database()  # with the schema check every start makes
actor = db.read(lambda s: resolve_actor(s, sys.argv[2]))
from tui.app import ClerkDeskApp

app = ClerkDeskApp(db, actor, config=Config())

async def go():
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if len(sys.argv) > 3:  # then open this screen too ("module:Class")
            module, _, cls = sys.argv[3].partition(":")
            await app.push_screen(getattr(__import__(module, fromlist=[cls]), cls)())
            await app.workers.wait_for_complete()
            await pilot.pause()
        return type(app.screen).__name__

screen = asyncio.run(go())
print(json.dumps({"screen": screen, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize(
    ("login", "push", "screen"),
    [
        ("cleo", None, "MyDayScreen"),
        ("sam", None, "DashboardScreen"),
        # the grid checks the rules of the week shown (the roster evaluator), without OR-Tools
        ("sam", "screens.supervisor.schedule_grid:ScheduleGridScreen", "ScheduleGridScreen"),
    ],
)
def test_opening_the_app_loads_no_heavy_package(
    office: Office, db_url: str, login: str, push: str | None, screen: str
) -> None:
    out = run_python(OPEN_APP, db_url, login, *([push] if push else []))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["screen"] == screen
    tops = {m.split(".")[0] for m in result["modules"]}
    assert [h for h in HEAVY if h in tops] == []
    assert [m for m in SUBCOMMAND_MODULES if m in result["modules"]] == []
    assert "textual" in tops and "sqlalchemy" in tops  # it did open the app


LOADED_AFTER = r"""
import json, sys
from tui.cli import main
try:
    main(sys.argv[1:], prog_name="clerkdesk", standalone_mode=False)
except Exception as e:
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(*args: str, stdin: Any = None) -> tuple[list[str], str]:
    out = run_python(LOADED_AFTER, *args, stdin=stdin)
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def test_a_command_imports_only_its_own_module(db_url: str) -> None:
    modules, _ = loaded_after("--db", db_url, "clock", "--help")
    assert "tui.cli_time" in modules
    assert [m for m in SUBCOMMAND_MODULES if m in modules] == ["tui.cli_time"]
    assert [h for h in HEAVY if h in modules] == []


def test_a_roster_build_command_loads_ortools_when_it_runs(db_url: str) -> None:
    modules, _ = loaded_after("--db", db_url, "schedule", "--help")
    assert "tui.cli_schedule" in modules and "ortools" not in modules  # listing is not solving


def test_a_non_terminal_start_is_refused_before_any_subcommand_is_imported(db_url: str) -> None:
    modules, err = loaded_after("--db", db_url, stdin=subprocess.DEVNULL)
    assert "needs a terminal" in err
    assert [m for m in SUBCOMMAND_MODULES if m in modules] == []
    assert [h for h in HEAVY if h in modules] == []
    assert "textual" not in modules  # refused before the app was even imported
    out = subprocess.run(
        [sys.executable, "-m", "tui", "--db", db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2
    assert out.stderr == "clerkdesk: ClerkDesk needs a terminal (stdin and stdout must be a TTY)\n"


def test_every_registered_group_resolves_to_a_command_of_its_name() -> None:
    ctx = click.Context(main)
    assert set(LAZY_COMMANDS) <= set(main.list_commands(ctx))
    for name in LAZY_COMMANDS:
        cmd = main.get_command(ctx, name)
        assert isinstance(cmd, click.Command), name
        assert cmd.name == name
    help_text = CliRunner().invoke(main, ["--help"]).output
    for name in LAZY_COMMANDS:
        assert f"  {name} " in help_text


def test_an_unknown_command_is_still_refused() -> None:
    result = CliRunner().invoke(main, ["nosuch"])
    assert result.exit_code == 2
    assert "No such command 'nosuch'" in result.output


def test_schema_check_agrees_with_alembic(tmp_path: Path) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known, head = known_revisions()
    assert head == script.get_current_head() == head_revision()
    assert known == {r.revision for r in script.walk_revisions()}
    with empty_database(tmp_path) as url:
        engine = make_engine(url)
        try:
            assert current_revision(engine) is None
            upgrade(engine)
            with engine.connect() as conn:
                assert current_revision(engine) == MigrationContext.configure(conn).get_current_revision()
            assert current_revision(engine) == head
            check_current(engine)
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
            with pytest.raises(Exception, match="schema 9999, newer than this program"):
                check_current(engine)
        finally:
            engine.dispose()


# ------------------------------------------------------------------ first frame before data


@pytest.mark.parametrize(
    ("who", "module", "name", "placeholder", "after"),
    [
        ("clerk", "screens.clerk.my_day", "my_day", "…", "No published shift today"),
        (
            "sup",
            "screens.supervisor.dashboard",
            "dashboard",
            "Loading today's figures…",
            "Timecards to sign: 0",
        ),
    ],
)
async def test_the_home_screen_shows_before_its_first_query_answers(
    office: Office,
    monkeypatch: pytest.MonkeyPatch,
    who: str,
    module: str,
    name: str,
    placeholder: str,
    after: str,
) -> None:
    import importlib

    mod = importlib.import_module(module)
    real = getattr(mod, name)
    release = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, name, slow)
    app = make_app(office, who)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: placeholder in screen_text(app), f"the placeholder {placeholder!r}")
        text = screen_text(app)
        assert f"({app.actor.role.value})" in text  # the header and the screen are up
        assert after not in text  # the query has not answered
        release.set()
        await settle(pilot)
        assert after in screen_text(app)


# ------------------------------------------------------------------ the collector during start-up


def test_a_command_turns_the_collector_back_on(office: Office, db_url: str) -> None:
    import gc

    gc.disable()  # as tui/__main__.py does for the start
    try:
        result = CliRunner().invoke(main, ["--db", db_url, "audit", "verify"])
        assert result.exit_code == 0, result.output
        assert gc.isenabled()
    finally:
        gc.enable()


async def test_the_app_turns_the_collector_back_on_after_its_first_screen(office: Office) -> None:
    import gc

    app = make_app(office, "clerk")
    gc.disable()
    try:
        async with app.run_test() as pilot:
            await pilot.pause()
            assert not gc.isenabled()  # not before the 2 s timer
            app._start_collector()
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
