"""Server mode on the command line: `server init`, `ssh-key add|list|remove|sync`, `serve`.

All of them run as the service account (docs/deploy.md); `serve` is what each key's line in
its ``authorized_keys`` runs, and the only way a person reaches the app in server mode.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

import click
import sqlalchemy as sa
from click.core import ParameterSource

from db import audit
from db.engine import make_private
from db.errors import ClerkDeskError
from db.migrate import current_revision, upgrade
from db.models import User
from tui.cli import EXIT_FAILED, EXIT_USAGE, Ctx, errors_as_exit, fail, open_app, pass_ctx
from tui.identity import key_actor
from tui.server import (
    KEY_ID_RE,
    MAX_KEY_TEXT,
    KeyRecord,
    ServerConfig,
    ServerError,
    add_key,
    authorized_keys_path,
    clean_environment,
    init_server,
    load_registry,
    program_path,
    remove_key,
    sync_keys,
)


def _server(c: Ctx) -> ServerConfig:
    srv = c.server
    if srv is None:
        fail(
            "this account is not a ClerkDesk server: run `clerkdesk server init` as the service "
            "account first (docs/deploy.md)",
            EXIT_USAGE,
        )
    return srv


# --------------------------------------------------------------------------- server init


@click.group("server")
def server_group() -> None:
    """Server mode: one service account owns the data (docs/deploy.md)."""


@server_group.command("init")
@click.option(
    "--database",
    "url",
    metavar="URL",
    default=None,
    help="The office database (default: SQLite in ~/data, private to this account).",
)
@pass_ctx
def server_init(c: Ctx, url: str | None) -> None:
    """Make this (service) account the office's ClerkDesk server and create or migrate the database."""
    if c.url_given or c.as_login:
        fail("server init takes --database, not --db or --as", EXIT_USAGE)
    try:
        srv = init_server(url)
    except ServerError as e:
        fail(str(e), EXIT_FAILED)
    except OSError as e:
        fail(f"cannot set up the server folders: {e}", EXIT_FAILED)
    c._server, c._server_loaded = srv, True
    os.umask(0o077)
    audit.allow_key_env(False)  # as Ctx.server does: the key goes beside the new database
    db = c.database(check=False)
    with errors_as_exit():
        before = current_revision(db.engine)
        upgrade(db.engine)
        after = current_revision(db.engine)
    make_private(srv.url)
    click.echo(f"server configuration: {srv.folder / 'server.toml'}")
    click.echo(
        f"database: {sa.engine.make_url(srv.url).render_as_string(hide_password=True)} "
        f"({'created' if before is None else 'at'} {after})"
    )
    click.echo(f"exports: {srv.exports}/<login>")
    click.echo("next: `clerkdesk user add ...`, then `clerkdesk ssh-key add LOGIN KEYFILE` per person")


@server_group.command("warm")
@click.option(
    "--max-sessions",
    type=click.IntRange(1, 10_000),
    default=200,
    show_default=True,
    help="Sessions forked at once; a login beyond them starts cold.",
)
@pass_ctx
def server_warm(c: Ctx, max_sessions: int) -> None:
    """Run the warm server: SSH logins start in a fork of this process (docs/deploy.md).

    Runs in the foreground until SIGTERM; logs to ~/.clerkdesk/warm/warm.log. Without it (or
    when it refuses) every login starts cold, as before.
    """
    srv = _server(c)
    if c.url_given or c.as_login:
        fail("server warm takes no --db or --as: sessions use server.toml, keys say who", EXIT_USAGE)
    from tui.warm_server import WarmError, serve_warm

    try:
        code = serve_warm(srv, max_sessions)
    except WarmError as e:
        fail(str(e), EXIT_FAILED)
    sys.exit(code)


# --------------------------------------------------------------------------- ssh-key


def _audit(c: Ctx, action: str, rec: KeyRecord) -> None:
    """The audit log says who let which key in or out (the registry file is the authority)."""
    db = c.database()
    actor = c.actor(db)
    facts = {"login": rec.login, "user_id": rec.user_id, "type": rec.key_type, "fingerprint": rec.fingerprint}
    with errors_as_exit():
        db.write(
            lambda s: audit.record(
                s,
                actor,
                "ssh_key",
                rec.id,
                action,
                before=facts if action == "remove" else None,
                after=facts if action == "add" else None,
            )
        )


@click.group("ssh-key")
def ssh_key_group() -> None:
    """The SSH keys that reach the app: each key is one person (server mode)."""


@ssh_key_group.command("add")
@click.argument("login")
@click.argument("keyfile", type=click.File("rb"))
@pass_ctx
def ssh_key_add(c: Ctx, login: str, keyfile: BinaryIO) -> None:
    """Let LOGIN in with the public key in KEYFILE (`-` reads standard input)."""
    srv = _server(c)
    raw = keyfile.read(MAX_KEY_TEXT + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail("the key file is not text; give the .pub file", EXIT_USAGE)
    db = c.database()
    with errors_as_exit():
        row = db.read(lambda s: s.execute(sa.select(User.id, User.active).where(User.login == login)).first())
    if row is None:
        fail(f"{login!r} is not a ClerkDesk user; add them first (`clerkdesk user add`)", EXIT_USAGE)
    if not row.active:
        fail(f"{login!r} is deactivated", EXIT_USAGE)
    try:
        rec = add_key(srv, login, int(row.id), text, program_path())
    except ServerError as e:
        fail(str(e), EXIT_USAGE)
    _audit(c, "add", rec)
    click.echo(
        f"added key {rec.id} for {login} ({rec.key_type} {rec.fingerprint}) to {authorized_keys_path(srv)}"
    )


@ssh_key_group.command("list")
@pass_ctx
def ssh_key_list(c: Ctx) -> None:
    """The registered keys and whose they are (a deactivated person's key lets nobody in)."""
    srv = _server(c)
    try:
        reg = load_registry(srv)
    except ServerError as e:
        fail(str(e), EXIT_FAILED)
    db = c.database()
    with errors_as_exit():
        users = db.read(
            lambda s: {
                r.id: (r.login, r.active) for r in s.execute(sa.select(User.id, User.login, User.active))
            }
        )
    from tabulate import tabulate

    table = []
    for k in reg.keys:
        login, active = users.get(k.user_id, (None, False))
        state = (
            "ok" if login == k.login and active else ("deactivated" if login == k.login else "no such user")
        )
        table.append([k.id, k.login, k.key_type, k.fingerprint, k.added[:10], state])
    click.echo(tabulate(table, headers=["id", "login", "type", "fingerprint", "added", "user"]))


@ssh_key_group.command("remove")
@click.argument("key_id", metavar="ID")
@pass_ctx
def ssh_key_remove(c: Ctx, key_id: str) -> None:
    """Remove key ID (from `ssh-key list`): its next login is refused by sshd."""
    srv = _server(c)
    try:
        rec = remove_key(srv, key_id, program_path())
    except ServerError as e:
        fail(str(e), EXIT_USAGE)
    _audit(c, "remove", rec)
    click.echo(f"removed key {rec.id} of {rec.login} ({rec.fingerprint})")


@ssh_key_group.command("sync")
@pass_ctx
def ssh_key_sync(c: Ctx) -> None:
    """Write ClerkDesk's block of authorized_keys again (after moving or upgrading the program)."""
    srv = _server(c)
    try:
        path = sync_keys(srv, program_path())
    except ServerError as e:
        fail(str(e), EXIT_FAILED)
    click.echo(f"rewrote ClerkDesk's block of {path} for {program_path()}")


# --------------------------------------------------------------------------- serve


@click.command("serve")
@click.option("--key", "key_id", required=True, metavar="ID", help="The key id sshd logged in with.")
@click.pass_context
def serve(ctx: click.Context, key_id: str) -> None:
    """Open the app for the person whose SSH key this is (run by authorized_keys, not by hand).

    Who you are comes from the key id in authorized_keys alone: never from the environment,
    SSH_ORIGINAL_COMMAND, --as, $USER or $LOGNAME.
    """
    c: Ctx = ctx.obj
    srv = _server(c)
    if c.as_login:
        fail("--as is refused in server mode: the SSH key decides who you are", EXIT_USAGE)
    parent = ctx.parent
    if parent is not None and parent.get_parameter_source("db_url") == ParameterSource.COMMANDLINE:
        fail("--db is refused by serve: the database is the one in server.toml", EXIT_USAGE)
    c.url_given = None  # CLERKDESK_DB from the client's environment is ignored
    if os.environ.get("CLERKDESK_NOW"):
        fail("CLERKDESK_NOW is refused in server mode: the clock is the machine's", EXIT_USAGE)
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        fail("ClerkDesk needs a terminal (stdin and stdout must be a TTY)", EXIT_USAGE)
    env = clean_environment(srv)
    os.environ.clear()
    os.environ.update(env)
    os.umask(0o077)
    if not KEY_ID_RE.match(key_id):
        fail(f"bad key id {key_id[:20]!r}", EXIT_USAGE)
    try:
        rec = load_registry(srv).find(key_id)
    except ServerError as e:
        fail(str(e), EXIT_FAILED)
    if rec is None:
        fail(f"key {key_id} is not registered any more; ask the administrator", EXIT_FAILED)
    db = c.database()
    with errors_as_exit():
        try:
            actor = db.read(lambda s: key_actor(s, rec.user_id, rec.login))
        except ClerkDeskError as e:  # unknown or deactivated: one line, exit 2
            fail(str(e), EXIT_USAGE)
    open_app(c, actor=actor, exports=srv.exports_for(actor.login))


def register(main: click.Group) -> None:
    main.add_command(server_group)
    main.add_command(ssh_key_group)
    main.add_command(serve)
