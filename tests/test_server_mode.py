"""Server mode without sshd (issue 11): the SSH key registry and ClerkDesk's block of
authorized_keys, the service account's commands, and what server mode refuses."""

from __future__ import annotations

import base64
import os
import pwd
import shutil
import stat
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from db.engine import Database
from db.models import AuditEntry
from scheduling import staff
from tests.conftest import make_office
from tui import server
from tui.cli import main
from tui.server import (
    BLOCK_BEGIN,
    BLOCK_END,
    ServerConfig,
    ServerError,
    add_key,
    authorized_keys_path,
    init_server,
    load_registry,
    parse_public_key,
    remove_key,
)

PROGRAM = "/opt/clerkdesk/.venv/bin/clerkdesk"


def ed25519(seed: int) -> str:
    """A well-formed ed25519 public key line (the 32 key bytes need not be a real point here)."""
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes([seed]) * 32
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} someone@laptop\n"


FOREIGN = [
    "# the administrator's own key, with a shell",
    ed25519(200).strip(),
    'command="/usr/bin/backup-receive",no-pty ' + ed25519(201).strip(),
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A service account's home (the tests run as root: root's own home is never touched)."""
    h = tmp_path / "clerkdesk-home"
    h.mkdir()
    monkeypatch.setattr(server, "account_home", lambda: h)
    monkeypatch.setattr(server, "running_as_root", lambda: False)
    return h


@pytest.fixture(autouse=True)
def key_env_restored() -> Iterator[None]:
    """Server-mode commands run in this process turn CLERKDESK_AUDIT_KEY_FILE off; turn it on
    again for the tests that come after."""
    from db import audit

    yield
    audit.allow_key_env(True)


@pytest.fixture
def cfg(home: Path) -> ServerConfig:
    return init_server(f"sqlite:///{home}/data/clerkdesk.db", home=home)


def keys_text(cfg: ServerConfig) -> str:
    return authorized_keys_path(cfg).read_text()


# --------------------------------------------------------------------------- public keys


def test_a_public_key_line_is_parsed_and_fingerprinted() -> None:
    key = parse_public_key(ed25519(1))
    assert key.key_type == "ssh-ed25519"
    assert key.fingerprint.startswith("SHA256:") and len(key.fingerprint) == 7 + 43


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_the_fingerprint_is_the_one_ssh_keygen_prints(tmp_path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(tmp_path / "k.pub")], check=True, capture_output=True, text=True
    ).stdout
    assert parse_public_key((tmp_path / "k.pub").read_text()).fingerprint == out.split()[1]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ('command="/bin/sh" ' + ed25519(1), "not a public key line"),
        ("restrict,pty " + ed25519(1), "not a public key line"),
        (ed25519(1).strip() + '\ncommand="/bin/sh" ' + ed25519(2), "exactly one public key"),
        (ed25519(1).strip() + "\r" + ed25519(2), "exactly one public key"),
        (ed25519(1).replace("someone", "some\x00one"), "control characters"),
        ("ssh-ed25519", "no key data"),
        ("ssh-ed25519 !!notbase64!!", "not base64"),
        ("ssh-rsa " + ed25519(1).split()[1], "not a ssh-rsa key"),
        ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519").decode(), "not a ssh-ed25519"),
        ("ssh-ed25519 " + "A" * 20_000, "too long"),
    ],
    ids=[
        "empty",
        "command option",
        "restrict option",
        "newline+command",
        "CR",
        "NUL",
        "no data",
        "bad base64",
        "type mismatch",
        "truncated",
        "huge",
    ],
)
def test_bad_keys_and_option_injection_are_refused(text: str, why: str) -> None:
    with pytest.raises(ServerError, match=why):
        parse_public_key(text)


# --------------------------------------------------------------------------- authorized_keys


def test_keys_go_into_our_block_and_foreign_lines_are_kept(cfg: ServerConfig) -> None:
    ak = authorized_keys_path(cfg)
    ak.parent.mkdir(mode=0o700)
    ak.write_text("\n".join(FOREIGN[:2]) + "\n")
    ak.write_text(ak.read_text() + FOREIGN[2] + "\n")
    k1 = add_key(cfg, "mreyes", 1, ed25519(1), PROGRAM)
    k2 = add_key(cfg, "jchen", 2, ed25519(2), PROGRAM)
    lines = keys_text(cfg).splitlines()
    assert lines[:3] == FOREIGN
    assert lines[3:] == [
        BLOCK_BEGIN,
        f'command="{PROGRAM} serve --key k1",restrict,pty ssh-ed25519 {ed25519(1).split()[1]} '
        "clerkdesk-k1-mreyes",
        f'command="{PROGRAM} serve --key k2",restrict,pty ssh-ed25519 {ed25519(2).split()[1]} '
        "clerkdesk-k2-jchen",
        BLOCK_END,
    ]
    assert (k1.id, k2.id) == ("k1", "k2")
    assert stat.S_IMODE(ak.stat().st_mode) == 0o600
    assert stat.S_IMODE(ak.parent.stat().st_mode) == 0o700
    reg = load_registry(cfg)
    assert [(k.id, k.login, k.user_id, k.fingerprint) for k in reg.keys] == [
        ("k1", "mreyes", 1, k1.fingerprint),
        ("k2", "jchen", 2, k2.fingerprint),
    ]
    assert stat.S_IMODE((cfg.folder / "keys.json").stat().st_mode) == 0o600


def test_lines_after_the_block_stay_where_they_are(cfg: ServerConfig) -> None:
    ak = authorized_keys_path(cfg)
    add_key(cfg, "mreyes", 1, ed25519(1), PROGRAM)
    ak.write_text(FOREIGN[0] + "\n" + ak.read_text() + FOREIGN[1] + "\n")
    add_key(cfg, "jchen", 2, ed25519(2), PROGRAM)
    lines = keys_text(cfg).splitlines()
    assert lines[0] == FOREIGN[0] and lines[1] == BLOCK_BEGIN
    assert lines[-2:] == [BLOCK_END, FOREIGN[1]]
    assert len(lines) == 6


def test_remove_drops_only_that_line_and_ids_are_never_reused(cfg: ServerConfig) -> None:
    authorized_keys_path(cfg).parent.mkdir(mode=0o700)
    authorized_keys_path(cfg).write_text(FOREIGN[1] + "\n")
    add_key(cfg, "mreyes", 1, ed25519(1), PROGRAM)
    add_key(cfg, "jchen", 2, ed25519(2), PROGRAM)
    removed = remove_key(cfg, "k1", PROGRAM)
    assert removed.login == "mreyes"
    text = keys_text(cfg)
    assert "--key k1" not in text and "--key k2" in text and text.startswith(FOREIGN[1] + "\n")
    assert add_key(cfg, "mreyes", 1, ed25519(3), PROGRAM).id == "k3"
    with pytest.raises(ServerError, match="no key 'k1'"):
        remove_key(cfg, "k1", PROGRAM)


def test_the_file_is_replaced_atomically_and_a_failed_write_changes_nothing(
    cfg: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_key(cfg, "mreyes", 1, ed25519(1), PROGRAM)
    ak = authorized_keys_path(cfg)
    before, inode = ak.read_bytes(), ak.stat().st_ino
    real_replace = os.replace

    def crash(src: str, dst: str) -> None:
        if str(dst) == str(ak):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space"):
        add_key(cfg, "jchen", 2, ed25519(2), PROGRAM)
    assert ak.read_bytes() == before and ak.stat().st_ino == inode
    assert sorted(p.name for p in ak.parent.iterdir()) == ["authorized_keys"]  # no temporary file
    monkeypatch.setattr(os, "replace", real_replace)
    remove_key(cfg, "k2", PROGRAM)  # the registry got k2 first: removing it puts things straight
    with ak.open("rb") as old:  # held open, so its inode cannot be reused
        add_key(cfg, "jchen", 2, ed25519(2), PROGRAM)
        # A new file renamed into place; a reader of the old one saw it whole, never half-written.
        assert os.fstat(old.fileno()).st_ino != ak.stat().st_ino
        assert old.read() == before


def test_one_key_one_meaning(cfg: ServerConfig) -> None:
    add_key(cfg, "mreyes", 1, ed25519(1), PROGRAM)
    with pytest.raises(ServerError, match="already k1 for mreyes"):
        add_key(cfg, "jchen", 2, ed25519(1).replace("someone@laptop", "other"), PROGRAM)
    ak = authorized_keys_path(cfg)
    ak.write_text(FOREIGN[2] + "\n" + ak.read_text())
    with pytest.raises(ServerError, match="outside ClerkDesk's block"):
        add_key(cfg, "jchen", 2, ed25519(201), PROGRAM)
    assert [k.id for k in load_registry(cfg).keys] == ["k1"]


def test_a_broken_block_is_refused_and_left_alone(cfg: ServerConfig) -> None:
    ak = authorized_keys_path(cfg)
    ak.parent.mkdir(mode=0o700)
    ak.write_text(f"{BLOCK_BEGIN}\n{FOREIGN[1]}\n")  # no END: whose lines are these?
    with pytest.raises(ServerError, match="broken ClerkDesk block"):
        add_key(cfg, "mreyes", 1, ed25519(1), PROGRAM)
    assert ak.read_text() == f"{BLOCK_BEGIN}\n{FOREIGN[1]}\n"


def test_a_program_path_that_could_break_the_quotes_is_refused(cfg: ServerConfig) -> None:
    for bad in ('/opt/x" ,command="/bin/sh', "/opt/clerk desk/bin/clerkdesk", "relative/clerkdesk"):
        with pytest.raises(ServerError, match="cannot go in authorized_keys"):
            add_key(cfg, "mreyes", 1, ed25519(1), bad)
    assert not authorized_keys_path(cfg).exists()


def test_a_loose_server_configuration_is_not_trusted(cfg: ServerConfig) -> None:
    (cfg.folder / "server.toml").chmod(0o644)
    with pytest.raises(ServerError, match="open to other accounts"):
        server.load_server(cfg.home)


# --------------------------------------------------------------------------- the commands


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, env=env)


@pytest.fixture
def office_server(cfg: ServerConfig, sqlite_template: Path) -> Iterator[ServerConfig]:
    db_path = Path(cfg.url.removeprefix("sqlite:///"))
    shutil.copy(sqlite_template, db_path)
    db = Database(cfg.url)
    make_office(db)
    db.dispose()
    yield cfg


def test_server_init_makes_everything_private(home: Path) -> None:
    result = run("server", "init")
    assert result.exit_code == 0, result.output
    assert f"server configuration: {home}/.clerkdesk/server.toml" in result.output
    db = home / "data" / "clerkdesk.db"
    assert db.exists()
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in (home, home / ".clerkdesk", home / "data", db)}
    assert modes == {home: 0o700, home / ".clerkdesk": 0o700, home / "data": 0o700, db: 0o600}


def test_server_init_refuses_root(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "running_as_root", lambda: True)
    result = run("server", "init")
    assert result.exit_code == 1
    assert "run this as the service account, not root" in result.output


def test_ssh_key_add_list_remove(office_server: ServerConfig, tmp_path: Path) -> None:
    pub = tmp_path / "cleo.pub"
    pub.write_text(ed25519(7))
    added = run("ssh-key", "add", "cleo", str(pub))
    assert added.exit_code == 0, added.output
    fp = parse_public_key(ed25519(7)).fingerprint
    assert f"added key k1 for cleo (ssh-ed25519 {fp})" in added.output
    from_stdin = run("ssh-key", "add", "sam", "-", stdin=ed25519(8))
    assert from_stdin.exit_code == 0, from_stdin.output
    listed = run("ssh-key", "list")
    assert listed.exit_code == 0
    rows = [ln.split() for ln in listed.output.splitlines()[2:]]
    assert [(r[0], r[1], r[-1]) for r in rows] == [("k1", "cleo", "ok"), ("k2", "sam", "ok")]
    assert "--key k1" in keys_text(office_server)
    removed = run("ssh-key", "remove", "k1")
    assert removed.exit_code == 0 and "removed key k1 of cleo" in removed.output
    assert "--key k1" not in keys_text(office_server)
    db = Database(office_server.url)
    rows = db.read(
        lambda s: s.execute(
            sa.select(AuditEntry.entity_id, AuditEntry.action, AuditEntry.actor_login)
            .where(AuditEntry.entity == "ssh_key")
            .order_by(AuditEntry.id)
        ).all()
    )
    db.dispose()
    me = pwd.getpwuid(os.getuid()).pw_name  # the account that ran the commands
    assert [tuple(r) for r in rows] == [("k1", "add", me), ("k2", "add", me), ("k1", "remove", me)]


def test_ssh_key_add_refusals(office_server: ServerConfig, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text('command="/bin/sh" ' + ed25519(7))
    r = run("ssh-key", "add", "cleo", str(bad))
    assert r.exit_code == 2 and "without options such as command=" in r.output
    r = run("ssh-key", "add", "zed", "-", stdin=ed25519(7))
    assert r.exit_code == 2 and "'zed' is not a ClerkDesk user" in r.output
    r = run("ssh-key", "add", "cleo", "-", stdin="\xff\xfe")
    assert r.exit_code == 2
    assert not authorized_keys_path(office_server).exists()


def test_a_deactivated_users_key_shows_in_the_list(office_server: ServerConfig) -> None:
    assert run("ssh-key", "add", "cleo", "-", stdin=ed25519(7)).exit_code == 0
    db = Database(office_server.url)
    sup = db.read(lambda s: staff.resolve_actor(s, "sam"))
    db.write(lambda s: staff.deactivate_user(sup, s, "cleo"))
    db.dispose()
    listed = run("ssh-key", "list")
    assert listed.output.splitlines()[2].split()[-1] == "deactivated"


def test_the_service_account_administers_but_never_claims_a_user(office_server: ServerConfig) -> None:
    added = run("user", "add", "dora", "--name", "Dora", "--role", "clerk")
    assert added.exit_code == 0, added.output
    refused = run("--as", "cleo", "user", "list")
    assert refused.exit_code == 2
    assert "--as is refused in server mode" in refused.output
    clock = run("user", "list", env={"CLERKDESK_NOW": "2020-01-01T00:00:00Z"})
    assert clock.exit_code == 2
    assert "CLERKDESK_NOW is refused in server mode" in clock.output
    other = run("--db", "sqlite:////tmp/elsewhere.db", "user", "list")
    assert other.exit_code == 2 and "--db and CLERKDESK_DB are refused here" in other.output
    demo = run("demo", "--no-open")
    assert demo.exit_code == 2 and "the demo is refused in server mode" in demo.output


def test_serve_refuses_without_a_terminal_and_claims(office_server: ServerConfig) -> None:
    assert run("ssh-key", "add", "cleo", "-", stdin=ed25519(7)).exit_code == 0
    r = run("serve", "--key", "k1")  # CliRunner's stdin is not a terminal
    assert r.exit_code == 2 and "needs a terminal" in r.output
    r = run("--as", "sam", "serve", "--key", "k1")
    assert r.exit_code == 2 and "--as is refused in server mode" in r.output
    r = run("serve", "--key", "k1", env={"CLERKDESK_NOW": "2020-01-01T00:00:00Z"})
    assert r.exit_code == 2 and "CLERKDESK_NOW is refused" in r.output


def test_not_a_server_says_what_to_do(home: Path) -> None:
    r = run("ssh-key", "list")
    assert r.exit_code == 2
    assert "run `clerkdesk server init` as the service account first" in r.output


def test_sync_rewrites_the_lines_for_a_moved_program(office_server: ServerConfig) -> None:
    from tui.server import sync_keys

    add_key(office_server, "cleo", 3, ed25519(7), PROGRAM)
    sync_keys(office_server, "/srv/clerkdesk-2/.venv/bin/clerkdesk")
    text = keys_text(office_server)
    assert 'command="/srv/clerkdesk-2/.venv/bin/clerkdesk serve --key k1"' in text and PROGRAM not in text


def test_serve_refuses_a_db_option(office_server: ServerConfig) -> None:
    r = run("--db", office_server.url, "serve", "--key", "k1")
    assert r.exit_code == 2 and "--db is refused by serve" in r.output


def test_a_key_is_for_the_user_id_it_was_issued_to(office_server: ServerConfig) -> None:
    from db.errors import NotFound, PermissionDenied
    from tui.identity import key_actor

    db = Database(office_server.url)
    try:
        cleo = db.read(lambda s: staff.resolve_actor(s, "cleo"))
        assert db.read(lambda s: key_actor(s, cleo.user_id, "cleo")) == cleo
        # A restored backup of another office: the same login under another id is someone else.
        with pytest.raises(PermissionDenied, match="which this database does not have"):
            db.read(lambda s: key_actor(s, cleo.user_id + 100, "cleo"))
        with pytest.raises(NotFound, match="'zed' is not a ClerkDesk user"):
            db.read(lambda s: key_actor(s, 999, "zed"))
        sup = db.read(lambda s: staff.resolve_actor(s, "sam"))
        db.write(lambda s: staff.deactivate_user(sup, s, "cleo"))
        with pytest.raises(PermissionDenied, match="is deactivated"):
            db.read(lambda s: key_actor(s, cleo.user_id, "cleo"))
    finally:
        db.dispose()


def test_serve_keeps_only_terminal_and_language_from_the_environment(
    cfg: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.server import clean_environment

    for k, v in {
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "CLERKDESK_DB": "sqlite:////tmp/decoy.db",
        "CLERKDESK_CONFIG": "/tmp/evil.toml",
        "TEXTUAL_DRIVER": "x",
        "XDG_CONFIG_HOME": "/tmp/evil",
        "HOME": "/tmp/evil",
        "USER": "sam",
        "SSH_ORIGINAL_COMMAND": "clerkdesk --as sam",
    }.items():
        monkeypatch.setenv(k, v)
    env = clean_environment(cfg)
    assert {k: env[k] for k in ("TERM", "LANG", "LC_ALL")} == {
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    assert env["HOME"] == str(cfg.home) and env["XDG_CONFIG_HOME"] == str(cfg.home / ".config")
    assert env["USER"] == pwd.getpwuid(os.getuid()).pw_name
    for dropped in ("CLERKDESK_DB", "CLERKDESK_CONFIG", "TEXTUAL_DRIVER", "SSH_ORIGINAL_COMMAND"):
        assert dropped not in env


def test_server_mode_ignores_the_audit_key_file_variable(office_server: ServerConfig, tmp_path: Path) -> None:
    """Issue 11: in server mode the audit key is the service account's (beside the database),
    never where CLERKDESK_AUDIT_KEY_FILE points: one account, one key, whoever runs the command."""
    decoy = tmp_path / "elsewhere" / "audit.key"
    r = run("user", "add", "dora", "--name", "Dora", "--role", "clerk",
            env={"CLERKDESK_AUDIT_KEY_FILE": str(decoy)})  # fmt: skip
    assert r.exit_code == 0, r.output
    assert not decoy.exists()
    key = office_server.home / "data" / "audit.key"
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_serve_keeps_the_collector_off_for_the_start(office_server: ServerConfig) -> None:
    """A login is the app's start: like `clerkdesk` alone, `serve` leaves the cyclic collector
    off (tui/__main__.py) until the app's first screen turns it on; other commands turn it on."""
    import gc

    assert run("ssh-key", "add", "cleo", "-", stdin=ed25519(7)).exit_code == 0
    gc.disable()
    try:
        r = run("serve", "--key", "k1")  # refused at the terminal check, after main() ran
        assert "needs a terminal" in r.output
        assert not gc.isenabled()
        assert run("ssh-key", "list").exit_code == 0
        assert gc.isenabled()
    finally:
        gc.enable()
