"""The ``clerkdesk`` command line.

Exit codes: 0 done, 1 failed (refused, database trouble), 2 bad usage or input (unknown
user, bad value, unknown record). Every error is one readable line on stderr.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit
from db.engine import Database, default_url, demo_url, make_group_writable, normalize_url
from db.errors import (
    ClerkDeskError,
    ConflictError,
    MigrationRequired,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from db.migrate import check_current, current_revision, head_revision, upgrade
from db.rights import Actor
from db.settings import is_demo
from scheduling import staff
from tui.identity import identify

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2


class Failure(click.ClickException):
    """An error with our exit code: 1 (failed) or 2 (bad input)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = code

    def show(self, file: Any = None) -> None:
        click.echo(f"clerkdesk: {self.format_message()}", err=True)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    raise Failure(message, code)


def exit_code_for(err: ClerkDeskError) -> int:
    if isinstance(err, ValidationError | NotFound):
        return EXIT_USAGE
    return EXIT_FAILED


@contextmanager
def errors_as_exit() -> Iterator[None]:
    """Map domain and database errors to one line and the right exit code."""
    try:
        yield
    except Failure:
        raise
    except ValidationError as e:
        fail(str(e), EXIT_USAGE)
    except (NotFound, PermissionDenied, ConflictError, MigrationRequired, ClerkDeskError) as e:
        fail(str(e), exit_code_for(e))
    except sa.exc.OperationalError as e:
        fail(f"cannot use the database: {e.orig}", EXIT_FAILED)
    except sa.exc.ArgumentError as e:
        fail(f"bad database URL: {e}", EXIT_USAGE)


class Ctx:
    """What every subcommand needs: the database URL and the claimed identity (demo only)."""

    def __init__(self, url: str | None, as_login: str | None) -> None:
        self.url_given = url
        self.as_login = as_login
        self._db: Database | None = None

    @property
    def url(self) -> str:
        return normalize_url(self.url_given or default_url())

    def database(self, *, check: bool = True) -> Database:
        if self._db is None:
            try:
                self._db = Database(self.url)
            except sa.exc.ArgumentError as e:
                fail(f"bad database URL {self.url!r}: {e}", EXIT_USAGE)
            except ModuleNotFoundError as e:
                fail(f"no driver for {self.url!r}: {e}", EXIT_USAGE)
            except OSError as e:  # the SQLite file's folder cannot be created
                fail(f"cannot use the database at {self.url!r}: {e}", EXIT_FAILED)
        if check:
            with errors_as_exit():
                check_current(self._db.engine)
        return self._db

    def actor(self, db: Database, *, allow_root: bool = True) -> Actor:
        with errors_as_exit():
            try:
                return db.read(lambda s: identify(s, self.as_login, allow_root=allow_root))
            except NotFound as e:
                fail(str(e), EXIT_USAGE)
            except PermissionDenied as e:
                fail(str(e), EXIT_USAGE)

    def write(self, fn: Callable[[Actor, Session], T]) -> T:
        db = self.database()
        actor = self.actor(db)
        with errors_as_exit():
            return db.write(lambda s: fn(actor, s))

    def read(self, fn: Callable[[Actor, Session], T]) -> T:
        db = self.database()
        actor = self.actor(db)
        with errors_as_exit():
            return db.read(lambda s: fn(actor, s))


pass_ctx = click.make_pass_decorator(Ctx)

db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="CLERKDESK_DB",
    help="SQLAlchemy URL (default: SQLite in the user data directory; also $CLERKDESK_DB).",
)
as_option = click.option("--as", "as_login", metavar="LOGIN", help="Act as LOGIN (demo databases only).")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@db_option
@as_option
@click.version_option(package_name="clerkdesk")
@click.pass_context
def main(ctx: click.Context, db_url: str | None, as_login: str | None) -> None:
    """ClerkDesk: the billing office at the keyboard.

    Without a command, opens the app for the current Unix user.
    """
    ctx.obj = Ctx(db_url, as_login)
    if ctx.invoked_subcommand is None:
        open_app(ctx.obj)


def open_app(c: Ctx) -> None:
    # Over SSH with ForceCommand a non-terminal stdin means a scripted login: refuse at once.
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        fail("ClerkDesk needs a terminal (stdin and stdout must be a TTY)", EXIT_USAGE)
    db = c.database()
    actor = c.actor(db, allow_root=False)
    from tui.app import ClerkDeskApp  # Textual only when the app really opens

    ClerkDeskApp(db, actor).run()


# --------------------------------------------------------------------------- db


@main.group("db")
def db_group() -> None:
    """Schema migrations."""


@db_group.command("upgrade")
@pass_ctx
def db_upgrade(c: Ctx) -> None:
    """Create or migrate the database schema to this program's version (keeps all data)."""
    db = c.database(check=False)
    with errors_as_exit():
        before = current_revision(db.engine)
        upgrade(db.engine)
        after = current_revision(db.engine)
    make_group_writable(c.url)
    if before == after:
        click.echo(f"database already at {after} (head)")
    else:
        click.echo(f"database upgraded {before or '(empty)'} -> {after}")


@db_group.command("current")
@pass_ctx
def db_current(c: Ctx) -> None:
    """Show the database's schema version and whether it needs `db upgrade`."""
    db = c.database(check=False)
    with errors_as_exit():
        cur = current_revision(db.engine)
    head = head_revision()
    state = "up to date" if cur == head else "needs `clerkdesk db upgrade`"
    click.echo(f"{cur or '(empty)'} (program needs {head}): {state}")
    if cur != head:
        sys.exit(EXIT_FAILED)


# --------------------------------------------------------------------------- users


@main.group("user")
def user_group() -> None:
    """Staff accounts (the login is the Unix account name)."""


@user_group.command("add")
@click.argument("login")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", type=click.Choice(["clerk", "supervisor"]), required=True)
@click.option("--team", default=None, help="Team name (created on first use).")
@click.option("--skills", default="", help="Comma list: insurer,government,employer,other,lang:es")
@click.option(
    "--hours",
    type=click.FloatRange(0, 80),
    default=40.0,
    show_default=True,
    help="Contracted hours per week.",
)
@click.option("--email", default="")
@pass_ctx
def user_add(
    c: Ctx, login: str, name: str, role: str, team: str | None, skills: str, hours: float, email: str
) -> None:
    """Add (hire) a user."""

    def go(actor: Actor, s: Session) -> staff.StaffRow:
        if team and team not in staff.list_teams(actor, s):
            staff.add_team(actor, s, team)
        return staff.add_user(
            actor,
            s,
            login=login,
            name=name,
            role=role,
            team=team,
            skills=skills,
            contracted_minutes=round(hours * 60),
            email=email,
        )

    row = c.write(go)
    click.echo(f"added {row.role.value} {row.login} ({row.name})")


@user_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--all", "include_inactive", is_flag=True, help="Include deactivated users.")
@pass_ctx
def user_list(c: Ctx, fmt: str, include_inactive: bool) -> None:
    """List users."""
    rows = c.read(lambda a, s: staff.list_users(a, s, include_inactive=include_inactive))
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "login": r.login,
                        "name": r.name,
                        "role": r.role.value,
                        "team": r.team,
                        "skills": list(r.skills),
                        "hours": r.contracted_minutes / 60,
                        "active": r.active,
                        "hire_date": r.hire_date.isoformat(),
                        "termination_date": r.termination_date.isoformat() if r.termination_date else None,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    from tabulate import tabulate

    table = [
        [
            r.login,
            r.name,
            r.role.value,
            r.team,
            ",".join(r.skills),
            r.contracted_hours,
            "yes" if r.active else f"no ({r.termination_date})",
        ]
        for r in rows
    ]
    click.echo(tabulate(table, headers=["login", "name", "role", "team", "skills", "hours/wk", "active"]))


@user_group.command("deactivate")
@click.argument("login")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Termination date.")
@pass_ctx
def user_deactivate(c: Ctx, login: str, day: Any) -> None:
    """Deactivate (terminate) a user; their history is kept."""
    row = c.write(
        lambda a, s: staff.deactivate_user(a, s, login, termination_date=day.date() if day else None)
    )
    click.echo(f"deactivated {row.login} as of {row.termination_date}")


# --------------------------------------------------------------------------- audit and backup


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


AUDIT_CHECKS: list[Callable[[Session], audit.VerifyResult]] = [audit.verify]


@audit_group.command("verify")
@pass_ctx
def audit_verify(c: Ctx) -> None:
    """Check the audit hash chain (and every other signature chain); report the first broken link."""
    db = c.database()
    failed = False
    with errors_as_exit():
        for check in AUDIT_CHECKS:
            result = db.read(check)
            click.echo(result.message)
            failed = failed or not result.ok
    if failed:
        sys.exit(EXIT_FAILED)


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def backup(c: Ctx, path: Path) -> None:
    """Copy the live SQLite database to PATH (safe while others work)."""
    url = sa.engine.make_url(c.url)
    if url.get_backend_name() != "sqlite":
        fail(
            "backup copies SQLite files; for PostgreSQL use: pg_dump --format=custom --file=PATH "
            f"{url.set(drivername='postgresql').render_as_string(hide_password=True)}",
            EXIT_USAGE,
        )
    if not url.database or not Path(url.database).exists():
        fail(f"no database file at {url.database}", EXIT_USAGE)
    if path.exists():
        fail(f"{path} exists; choose a new file name", EXIT_USAGE)
    if not path.parent.exists():
        fail(f"folder {path.parent} does not exist", EXIT_USAGE)
    src = sqlite3.connect(url.database)
    dst = sqlite3.connect(path)
    try:
        src.backup(dst)  # the online backup API: a consistent copy while others write
    finally:
        dst.close()
        src.close()
    click.echo(f"backed up {url.database} -> {path} ({path.stat().st_size} bytes)")


# --------------------------------------------------------------------------- demo


@main.command("demo")
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="Where to build the demo (default: demo.db in the user data directory).",
)
@as_option
@click.option("--no-open", is_flag=True, help="Create the demo database but do not open the app.")
@click.option("--reset", is_flag=True, help="Throw the demo database away and build it again.")
@click.option("--seed", type=click.IntRange(0, 2**31), default=1, show_default=True)
@click.pass_context
def demo(
    ctx: click.Context, db_url: str | None, as_login: str | None, no_open: bool, reset: bool, seed: int
) -> None:
    """Create (or reuse) a demo office and open it; --as picks who you are."""
    c: Ctx = ctx.obj
    c.as_login = as_login or c.as_login
    # The demo never lands in the office's real database by accident: only an explicit URL.
    c.url_given = (
        db_url or (c.url_given if ctx.parent and ctx.parent.params.get("db_url") else None) or demo_url()
    )
    from tui.demo import DEMO_SUPERVISOR, build_demo

    url = sa.engine.make_url(c.url)
    if reset:
        if url.get_backend_name() != "sqlite":
            fail("--reset only removes SQLite demo files; drop the PostgreSQL database yourself", EXIT_USAGE)
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{url.database}{suffix}")
            if p.exists():
                p.unlink()
    db = c.database(check=False)
    with errors_as_exit():
        fresh = current_revision(db.engine) is None
        if fresh:
            upgrade(db.engine)
            click.echo(f"building the demo office (seed {seed}) in {c.url} ...", err=True)
            build_demo(db, seed=seed)
        else:
            check_current(db.engine)
            if not db.read(is_demo):
                fail(f"{c.url} is not a demo database; refusing to use it for the demo", EXIT_USAGE)
    make_group_writable(c.url)
    if no_open:
        click.echo(f"demo database ready: {c.url}")
        return
    c.as_login = c.as_login or DEMO_SUPERVISOR
    open_app(c)


from tui.cli_time import register as _register_time  # noqa: E402  (time commands, signature check)

_register_time(main, AUDIT_CHECKS)


from tui.cli_payments import payment_group, plan_group  # noqa: E402  (needs Ctx above)

main.add_command(payment_group)
main.add_command(plan_group)


from tui.cli_schedule import schedule_group, timeoff_group  # noqa: E402  (needs Ctx above)

main.add_command(schedule_group)
main.add_command(timeoff_group)


from tui.cli_billing import import_group, invoice_group  # noqa: E402  (needs Ctx above)

main.add_command(import_group)
main.add_command(invoice_group)


from tui.cli_collections import agency_group, aging_cmd, dispute_group, dunning_group  # noqa: E402

main.add_command(dunning_group)
main.add_command(aging_cmd)
main.add_command(agency_group)
main.add_command(dispute_group)


def run() -> None:
    main(prog_name="clerkdesk")

