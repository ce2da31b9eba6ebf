"""The ``clerkdesk`` command line.

Exit codes: 0 done, 1 failed (refused, database trouble), 2 bad usage or input (unknown
user, bad value, unknown record). Every error is one readable line on stderr.
"""

from __future__ import annotations

import gc
import importlib
import json
import math
import os
import pwd
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit, timeutil
from db.engine import Database, default_url, demo_url, make_private, normalize_url
from db.errors import (
    ClerkDeskError,
    ConflictError,
    MigrationRequired,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from db.live_rights import check_actor
from db.migrate import check_current, current_revision, head_revision, upgrade
from db.rights import Actor
from db.settings import is_demo
from scheduling import staff
from tui.demos import is_recorded_demo, record_demo
from tui.exports import ExportError, cli_target, write_new
from tui.identity import identify, server_admin
from tui.server import ServerConfig, ServerError, load_server

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2


class Failure(click.ClickException):
    """An error with our exit code: 1 (failed) or 2 (bad input)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]  # click declares a ClassVar; ours varies per error

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


def describe_unexpected(exc: BaseException) -> tuple[str, int]:
    """One line and an exit code for an error no command mapped itself (never a traceback)."""
    if isinstance(exc, ClerkDeskError):
        return str(exc), exit_code_for(exc)
    if isinstance(exc, sa.exc.DBAPIError):
        orig = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        if isinstance(exc, sa.exc.IntegrityError):
            return f"the database refused the change: {orig}", EXIT_FAILED
        return f"cannot use the database: {orig}", EXIT_FAILED
    if isinstance(exc, sqlite3.Error):  # raw sqlite3 (backup)
        return f"cannot use the database: {exc}", EXIT_FAILED
    if isinstance(exc, sa.exc.SQLAlchemyError):
        return f"cannot use the database: {str(exc).splitlines()[0]}", EXIT_FAILED
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"cannot use {where}{exc.strerror or exc}".replace("use : ", "use "), EXIT_FAILED
    if isinstance(exc, OverflowError | ArithmeticError):
        return f"a date or number is out of range ({exc})", EXIT_USAGE
    if isinstance(exc, ValueError | UnicodeError):
        return f"bad value: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", EXIT_USAGE
    return (
        f"internal error ({type(exc).__name__}): {str(exc).splitlines()[0] if str(exc) else ''}",
        EXIT_FAILED,
    )


class SafeGroup(click.Group):
    """The top command: whatever a subcommand lets out becomes one line on stderr and exit 1
    or 2 (issue 11 §6). Commands still map their own errors first (``errors_as_exit``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            message, code = describe_unexpected(exc)
            raise Failure(" ".join(message.split()), code) from None


class Ctx:
    """What every subcommand needs: the database URL and the claimed identity (demo only)."""

    def __init__(self, url: str | None, as_login: str | None) -> None:
        self.url_given = url
        self.as_login = as_login
        self._db: Database | None = None
        self._server: ServerConfig | None = None
        self._server_loaded = False

    @property
    def server(self) -> ServerConfig | None:
        """This account's server configuration (server mode), or None (a person's own machine)."""
        if not self._server_loaded:
            try:
                self._server = load_server()
            except ServerError as e:
                fail(str(e), EXIT_FAILED)
            self._server_loaded = True
            if self._server is not None:
                os.umask(0o077)  # whatever the service account creates is its own
                audit.allow_key_env(False)  # the key beside the account's database, always
        return self._server

    @property
    def url(self) -> str:
        srv = self.server
        if srv is not None:
            if self.url_given and normalize_url(self.url_given) != normalize_url(srv.url):
                fail(
                    f"server mode uses the database named in {srv.folder}/server.toml; "
                    "--db and CLERKDESK_DB are refused here",
                    EXIT_USAGE,
                )
            return normalize_url(srv.url)
        return normalize_url(self.url_given or default_url())

    def check_clock(self) -> None:
        """``CLERKDESK_NOW`` sets the clock only on a recorded demo, never in server mode."""
        if not os.environ.get("CLERKDESK_NOW"):
            return
        if self.server is not None:
            fail("CLERKDESK_NOW is refused in server mode: the clock is the machine's", EXIT_USAGE)
        if not is_recorded_demo(self.url):
            fail("CLERKDESK_NOW only works on a demo database built by `clerkdesk demo`", EXIT_USAGE)
        timeutil.allow_env_clock()

    def check_owner(self) -> None:
        """Root must not write another account's SQLite file (it would leave root-owned WAL files
        the owner cannot open): run as the owner."""
        if os.getuid() != 0:
            return
        try:
            u = sa.engine.make_url(self.url)
        except sa.exc.ArgumentError:
            return  # Database() says what is wrong with it
        if u.get_backend_name() == "sqlite" and u.database and Path(u.database).exists():
            owner = Path(u.database).stat().st_uid
            if owner != 0:
                try:
                    name = pwd.getpwuid(owner).pw_name
                except KeyError:
                    name = str(owner)
                fail(f"{u.database} belongs to {name}: run this as that account (sudo -u {name} ...)")

    def database(self, *, check: bool = True, clock: bool = True) -> Database:
        if self._db is None:
            self.check_owner()
            if clock:
                self.check_clock()
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
        if self.server is not None:
            if self.as_login:
                fail("--as is refused in server mode: the SSH key decides who you are", EXIT_USAGE)
            if not allow_root:
                fail(
                    "this is the ClerkDesk service account: people open the app over SSH with their "
                    "key (`clerkdesk serve`); here you run administrative commands only",
                    EXIT_USAGE,
                )
            return server_admin()
        demo = bool(self.as_login) and is_recorded_demo(self.url)
        with errors_as_exit():
            try:
                return db.read(lambda s: identify(s, self.as_login, allow_root=allow_root, demo=demo))
            except NotFound as e:
                fail(str(e), EXIT_USAGE)
            except PermissionDenied as e:
                fail(str(e), EXIT_USAGE)

    def write(self, fn: Callable[[Actor, Session], T]) -> T:
        db = self.database()
        actor = self.actor(db)

        def go(s: Session) -> T:
            check_actor(s, actor)  # rights are live: re-read in the write transaction
            return fn(actor, s)

        with errors_as_exit():
            return db.write(go)

    def read(self, fn: Callable[[Actor, Session], T]) -> T:
        db = self.database()
        actor = self.actor(db)
        with errors_as_exit():
            return db.read(lambda s: fn(actor, s))


pass_ctx = click.make_pass_decorator(Ctx)


# ----------------------------------------------------------------------------- lazy commands

# Command groups that live in modules of their own, as "module:attribute". A module is imported
# only when one of its commands runs (or `clerkdesk --help` lists them): opening the app imports
# none of them, so none of what they pull in (OR-Tools, pandas, fpdf, ...) costs a start.
# To add a command group: ONE line here, e.g. "assign": "tui.cli_assign:assign_group". The
# module may import Ctx, fail, pass_ctx, ... from tui.cli at its top. (A plain
# `main.add_command(group)` at the bottom of this file works too, but imports its module at
# every start.) tests/test_startup.py checks every entry resolves to a command of that name.
LAZY_COMMANDS: dict[str, str] = {
    "clock": "tui.cli_time:clock_group",
    "timecard": "tui.cli_time:timecard_group",
    "payroll": "tui.cli_time:payroll_group",
    "attendance": "tui.cli_time:attendance_group",
    "payment": "tui.cli_payments:payment_group",
    "plan": "tui.cli_payments:plan_group",
    "schedule": "tui.cli_schedule:schedule_group",
    "timeoff": "tui.cli_schedule:timeoff_group",
    "import": "tui.cli_billing:import_group",
    "invoice": "tui.cli_billing:invoice_group",
    "payer": "tui.cli_payers:payer_group",
    "server": "tui.cli_server:server_group",
    "ssh-key": "tui.cli_server:ssh_key_group",
    "serve": "tui.cli_server:serve",
    "assign": "tui.cli_assign:assign_group",
    "report": "tui.cli_report:report_group",
    "dunning": "tui.cli_collections:dunning_group",
    "aging": "tui.cli_collections:aging_cmd",
    "agency": "tui.cli_collections:agency_group",
    "dispute": "tui.cli_collections:dispute_group",
}


def resolve(ref: str) -> Any:
    """The object a "module:attribute" reference names, importing its module."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


class LazyGroup(click.Group):
    """A click group that imports a command's module only when the command is looked up."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy if lazy is not None else {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            cmd = resolve(self.lazy[cmd_name])
            if not isinstance(cmd, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(cmd, cmd_name)
        return super().get_command(ctx, cmd_name)


class MainGroup(LazyGroup, SafeGroup):
    """The ``clerkdesk`` group: subcommand modules imported on use, unexpected errors as one line."""


db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="CLERKDESK_DB",
    help="SQLAlchemy URL (default: SQLite in the user data directory; also $CLERKDESK_DB).",
)
as_option = click.option("--as", "as_login", metavar="LOGIN", help="Act as LOGIN (demo databases only).")


@click.group(
    cls=MainGroup,
    lazy=LAZY_COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
        open_app(ctx.obj)  # the app turns the collector back on once its first screen is up
    elif ctx.invoked_subcommand != "serve":  # an SSH login opens the app too
        gc.enable()  # off during start-up (tui/__main__.py); a command may run long


def open_app(c: Ctx, actor: Actor | None = None, exports: Path | None = None) -> None:
    # Over SSH a non-terminal stdin means a scripted login: refuse at once.
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        fail("ClerkDesk needs a terminal (stdin and stdout must be a TTY)", EXIT_USAGE)
    db = c.database()
    actor = actor or c.actor(db, allow_root=False)
    from tui.app import ClerkDeskApp  # Textual only when the app really opens

    app = ClerkDeskApp(db, actor, exports=exports)
    app.run()
    if app.return_code:
        sys.exit(app.return_code)


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
    make_private(c.url)
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

    if math.isnan(hours):  # FloatRange lets NaN through
        fail("--hours must be a number from 0 to 80", EXIT_USAGE)

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


# The chains `audit verify` checks: callables or "module:attribute" references (imported only
# when the command runs).
AUDIT_CHECKS: list[Callable[[Session], audit.VerifyResult] | str] = [
    audit.verify,
    audit.reconcile,
    "scheduling.timecards:verify_signatures",
]


@audit_group.command("verify")
@pass_ctx
def audit_verify(c: Ctx) -> None:
    """Check the audit hash chain (and every other signature chain); report the first broken link."""
    db = c.database()
    failed = False
    checks = [resolve(ref) if isinstance(ref, str) else ref for ref in AUDIT_CHECKS]
    with errors_as_exit():
        for check in dict.fromkeys(checks):  # each once, in order
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
    try:
        path = cli_target(path)
    except ExportError as e:
        fail(str(e), EXIT_USAGE)
    src = sqlite3.connect(url.database)
    # The online backup API gives a consistent copy while others write; it goes into a private
    # temporary file first, then write_new puts it in place as a new 0600 file.
    import tempfile

    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".clerkdesk-backup-") as tmpdir:
        os.chmod(tmpdir, 0o700)
        tmp = Path(tmpdir) / "copy.db"
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        try:
            write_new(path, tmp.read_bytes())
        except ExportError as e:
            fail(str(e), EXIT_FAILED)
    _audit_papers_for_copy(url, sa.engine.make_url(f"sqlite:///{path.resolve()}"))
    click.echo(f"backed up {url.database} -> {path} ({path.stat().st_size} bytes)")


def _audit_papers_for_copy(src: sa.URL, dst: sa.URL) -> None:
    """A backup verifies on its own: the audit key beside it (0600, if it has none) and a
    checkpoint of the copy's own tip."""
    key = audit.load_key(src)
    dst_key = audit.key_path(dst)
    if not dst_key.exists():
        fd = os.open(dst_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.hex() + "\n")
    engine = sa.create_engine(dst)
    try:
        with engine.connect() as conn:
            tip = conn.execute(sa.text("SELECT last_id, last_hash FROM audit_head WHERE id = 1")).first()
    finally:
        engine.dispose()
    if tip is not None:
        audit.write_checkpoint(dst, int(tip[0]), str(tip[1]))


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
    if c.server is not None:
        fail("the demo is refused in server mode: build it under your own account", EXIT_USAGE)
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
        own_default = normalize_url(c.url) == normalize_url(demo_url())  # this account's data folder
        if Path(f"{url.database}").exists() and not (is_recorded_demo(c.url) or own_default):
            fail(f"{c.url} is not a demo `clerkdesk demo` built for you; refusing to remove it", EXIT_USAGE)
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{url.database}{suffix}")
            if p.exists():
                p.unlink()
    db = c.database(check=False, clock=False)
    with errors_as_exit():
        fresh = current_revision(db.engine) is None
        if fresh:
            upgrade(db.engine)
            make_private(c.url)
            record_demo(c.url)  # outside the database: what makes --as work here (tui/demos.py)
            c.check_clock()
            click.echo(f"building the demo office (seed {seed}) in {c.url} ...", err=True)
            build_demo(db, seed=seed)
        else:
            check_current(db.engine)
            own_default = normalize_url(c.url) == normalize_url(demo_url()) and db.read(is_demo)
            if not is_recorded_demo(c.url):
                if not own_default:
                    fail(
                        f"{c.url} is not a demo database `clerkdesk demo` built for you; "
                        "refusing to use it for the demo",
                        EXIT_USAGE,
                    )
                record_demo(c.url)  # the demo in this account's own data folder, from before records
                if not is_recorded_demo(c.url):
                    fail(f"{c.url} is writable by other accounts; run `clerkdesk demo --reset`", EXIT_USAGE)
            c.check_clock()
    make_private(c.url)
    if no_open:
        click.echo(f"demo database ready: {c.url}")
        return
    c.as_login = c.as_login or DEMO_SUPERVISOR
    open_app(c)


# New command groups are registered by one line in LAZY_COMMANDS (near the top), not here.


def run() -> None:
    main(prog_name="clerkdesk")
