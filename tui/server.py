"""Server mode (docs/deploy.md): one Unix service account owns the data; people arrive by SSH key.

The model of Gitea and gitolite. Everything that decides who someone is lives in the service
account's home, readable by it alone (found from the password database, never from $HOME)::

    ~/.clerkdesk/            0700
        server.toml          0600  the database URL and the exports folder
        keys.json            0600  the SSH key registry: key id -> login, user id, fingerprint
        keys.lock                  serialises `clerkdesk ssh-key` runs
    ~/.ssh/authorized_keys   0600  ClerkDesk's block: one `command="... serve --key ID",restrict,pty`
                                   line per key; lines outside the block are never touched
    ~/data/clerkdesk.db      0600  (folder 0700) the default SQLite database
    ~/exports/<login>/       0700  each person's prints and exports

The key registry is a file, not a table: the key → person mapping must be exactly as trustworthy
as ``authorized_keys`` itself, which only the service account can change. A table would put
identity wherever the database is (a PostgreSQL server with its own administrators, a restored
backup) and let anything with a database connection remap a key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import stat
import struct
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from db import timeutil

SERVER_DIR = ".clerkdesk"
CONFIG_FILE = "server.toml"
KEYS_FILE = "keys.json"
BLOCK_BEGIN = "# BEGIN ClerkDesk keys (managed by `clerkdesk ssh-key`; edits inside this block are lost)"
BLOCK_END = "# END ClerkDesk keys"
KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
KEY_ID_RE = re.compile(r"^k[1-9][0-9]{0,8}$")
# The program path goes inside command="...": nothing that could end the quotes or the line.
SAFE_PATH_RE = re.compile(r"^/[A-Za-z0-9/._+-]+$")
MAX_KEY_TEXT = 16_384  # an RSA-16384 public key is about 2.8 kB


class ServerError(Exception):
    """Server mode cannot go on; the message says what to fix."""


# --------------------------------------------------------------------------- where things are


def account_home() -> Path:
    """The home of the process's real user, from the password database ($HOME is not trusted)."""
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def account_login() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def running_as_root() -> bool:
    return os.getuid() == 0


def server_dir(home: Path | None = None) -> Path:
    return (home or account_home()) / SERVER_DIR


@dataclass(frozen=True)
class ServerConfig:
    home: Path
    url: str
    exports: Path

    @property
    def folder(self) -> Path:
        return server_dir(self.home)

    def exports_for(self, login: str) -> Path:
        return self.exports / login


def _check_private(path: Path, what: str) -> None:
    """``path`` must be ours and not writable (files: not readable either) by anyone else."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise ServerError(f"{what} {path} is a symbolic link; refusing to trust it")
    if st.st_uid != os.getuid():
        raise ServerError(f"{what} {path} is not owned by {account_login()}; refusing to trust it")
    loose = stat.S_IWGRP | stat.S_IWOTH if stat.S_ISDIR(st.st_mode) else stat.S_IRWXG | stat.S_IRWXO
    if st.st_mode & loose:
        raise ServerError(
            f"{what} {path} is open to other accounts (mode {stat.S_IMODE(st.st_mode):o}); "
            f"chmod {'700' if stat.S_ISDIR(st.st_mode) else '600'} it"
        )


def load_server(home: Path | None = None) -> ServerConfig | None:
    """The server configuration of this account, or None when this account is not a server."""
    home = home or account_home()
    path = server_dir(home) / CONFIG_FILE
    if not path.exists() and not path.is_symlink():
        return None
    _check_private(server_dir(home), "server folder")
    _check_private(path, "server configuration")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ServerError(f"cannot read {path}: {e}") from e
    url = data.get("database")
    exports = data.get("exports")
    if not isinstance(url, str) or not url:
        raise ServerError(f"{path}: `database` must be a database URL")
    if not isinstance(exports, str) or not exports.startswith("/"):
        raise ServerError(f"{path}: `exports` must be an absolute folder")
    return ServerConfig(home=home, url=url, exports=Path(exports))


def default_server_url(home: Path) -> str:
    return f"sqlite:///{home / 'data' / 'clerkdesk.db'}"


def _toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def init_server(url: str | None, *, home: Path | None = None) -> ServerConfig:
    """Make this account a ClerkDesk server: private folders and ``server.toml``. Idempotent."""
    if running_as_root():
        raise ServerError(
            "run this as the service account, not root: sudo -u clerkdesk -H clerkdesk server init"
        )
    home = home or account_home()
    if not home.is_dir():
        raise ServerError(f"the service account's home {home} does not exist; create it first")
    existing = load_server(home)
    url = url or (existing.url if existing else default_server_url(home))
    exports = existing.exports if existing else home / "exports"
    home.chmod(0o700)  # sshd's StrictModes wants it; nobody else has business in here
    for folder in (server_dir(home), exports):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
    if url.startswith("sqlite:///"):
        data = Path(url.removeprefix("sqlite:///")).parent
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
        data.chmod(0o700)
    text = (
        "# ClerkDesk server mode (written by `clerkdesk server init`). Only this account reads it.\n"
        f"database = {_toml_str(url)}\n"
        f"exports = {_toml_str(str(exports))}\n"
    )
    write_atomic(server_dir(home) / CONFIG_FILE, text)
    return ServerConfig(home=home, url=url, exports=exports)


def write_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` whole (temporary file in the same folder, fsync, rename): never half-written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# --------------------------------------------------------------------------- public keys


@dataclass(frozen=True)
class PublicKey:
    key_type: str
    blob: str  # base64, as in the .pub file
    fingerprint: str  # SHA256:..., as ssh-keygen -l prints it


def fingerprint_of(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse_public_key(text: str) -> PublicKey:
    """One OpenSSH public key line: ``TYPE BASE64 [comment]``, nothing before it.

    Refuses options (``command=...``, ``from=...``), several lines, control characters and a
    blob that does not decode to a key of the type named; the comment is dropped (we write our own).
    """
    if len(text) > MAX_KEY_TEXT:
        raise ServerError("the key file is too long to be one public key")
    line = text.removesuffix("\n").removesuffix("\r")
    if "\n" in line or "\r" in line:
        raise ServerError("the key file must hold exactly one public key on one line")
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in line):
        raise ServerError("the key has control characters")
    parts = line.split()
    if not parts:
        raise ServerError("the key file is empty")
    if parts[0] not in KEY_TYPES:
        raise ServerError(
            f"not a public key line (it starts with {parts[0][:40]!r}); give the .pub file as "
            "ssh-keygen wrote it, without options such as command= or from="
        )
    if len(parts) < 2:
        raise ServerError("the key has a type but no key data")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError) as e:
        raise ServerError(f"the key data is not base64: {e}") from e
    try:
        (n,) = struct.unpack(">I", blob[:4])
        inner_type = blob[4 : 4 + n].decode("ascii")
    except (struct.error, UnicodeDecodeError) as e:
        raise ServerError("the key data is not an SSH public key") from e
    if inner_type != parts[0] or len(blob) < 4 + n + 16:
        raise ServerError(f"the key data is not a {parts[0]} key")
    return PublicKey(key_type=parts[0], blob=parts[1], fingerprint=fingerprint_of(blob))


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class KeyRecord:
    id: str
    login: str
    user_id: int
    key_type: str
    blob: str
    fingerprint: str
    added: str


@dataclass
class Registry:
    next_number: int
    keys: list[KeyRecord]

    def find(self, key_id: str) -> KeyRecord | None:
        return next((k for k in self.keys if k.id == key_id), None)


def load_registry(cfg: ServerConfig) -> Registry:
    path = cfg.folder / KEYS_FILE
    if not path.exists():
        return Registry(next_number=1, keys=[])
    _check_private(path, "key registry")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = [KeyRecord(**k) for k in data["keys"]]
        return Registry(next_number=int(data["next"]), keys=keys)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ServerError(f"cannot read the key registry {path}: {e}") from e


def save_registry(cfg: ServerConfig, reg: Registry) -> None:
    data = {"next": reg.next_number, "keys": [asdict(k) for k in reg.keys]}
    write_atomic(cfg.folder / KEYS_FILE, json.dumps(data, indent=2) + "\n")


@contextlib.contextmanager
def registry_lock(cfg: ServerConfig) -> Iterator[None]:
    """One `ssh-key` change at a time (two administrators at once would lose a key)."""
    fd = os.open(cfg.folder / "keys.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- authorized_keys


def program_path() -> str:
    """The absolute path of this ``clerkdesk`` (the venv's console script), checked for quoting."""
    beside = Path(sys.executable).parent / "clerkdesk"
    path = beside if beside.exists() else Path(sys.argv[0])
    text = str(path.absolute())
    if not SAFE_PATH_RE.match(text):
        raise ServerError(f"the program path {text!r} has characters that cannot go in authorized_keys")
    return text


def check_program(program: str) -> None:
    if not SAFE_PATH_RE.match(program):
        raise ServerError(f"the program path {program!r} cannot go in authorized_keys")


def key_line(rec: KeyRecord, program: str) -> str:
    check_program(program)
    if not KEY_ID_RE.match(rec.id) or rec.key_type not in KEY_TYPES:
        raise ServerError(f"the key registry has a bad entry {rec.id!r}")
    comment = re.sub(r"[^A-Za-z0-9._-]", "_", f"clerkdesk-{rec.id}-{rec.login}")
    return f'command="{program} serve --key {rec.id}",restrict,pty {rec.key_type} {rec.blob} {comment}'


def authorized_keys_path(cfg: ServerConfig) -> Path:
    return cfg.home / ".ssh" / "authorized_keys"


def split_block(text: str) -> tuple[list[str], list[str], list[str]]:
    """(lines before ClerkDesk's block, the block's lines, lines after); refuses a broken block."""
    lines = text.splitlines()
    begins = [i for i, ln in enumerate(lines) if ln.strip() == BLOCK_BEGIN]
    ends = [i for i, ln in enumerate(lines) if ln.strip() == BLOCK_END]
    if not begins and not ends:
        return lines, [], []
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ServerError("authorized_keys has a broken ClerkDesk block (BEGIN/END lines); fix it by hand")
    b, e = begins[0], ends[0]
    return lines[:b], lines[b + 1 : e], lines[e + 1 :]


def foreign_fingerprints(lines: list[str]) -> set[str]:
    """Fingerprints of the keys on lines we do not manage (options before the key are skipped)."""
    found: set[str] = set()
    for ln in lines:
        words = ln.split()
        for i, w in enumerate(words[:-1]):
            if w in KEY_TYPES:
                with contextlib.suppress(binascii.Error, ValueError):
                    found.add(fingerprint_of(base64.b64decode(words[i + 1], validate=True)))
                break
    return found


def render_authorized_keys(existing: str, reg: Registry, program: str) -> str:
    before, _old, after = split_block(existing)
    block = [BLOCK_BEGIN, *(key_line(k, program) for k in reg.keys), BLOCK_END]
    return "\n".join([*before, *block, *after]) + "\n"


def write_authorized_keys(cfg: ServerConfig, reg: Registry, program: str) -> Path:
    path = authorized_keys_path(cfg)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.parent.chmod(0o700)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    write_atomic(path, render_authorized_keys(existing, reg, program))
    return path


def add_key(cfg: ServerConfig, login: str, user_id: int, text: str, program: str) -> KeyRecord:
    """Register the key for ``login`` and rewrite the block (registry first: a crash in between
    leaves a key that does not work yet, never one that works unregistered)."""
    key = parse_public_key(text)
    check_program(program)
    with registry_lock(cfg):
        reg = load_registry(cfg)
        for k in reg.keys:
            if k.fingerprint == key.fingerprint:
                raise ServerError(f"this key is already {k.id} for {k.login}; remove that first")
        path = authorized_keys_path(cfg)
        if path.exists():
            before, _b, after = split_block(path.read_text(encoding="utf-8"))
            if key.fingerprint in foreign_fingerprints(before + after):
                raise ServerError(
                    "this key is already in authorized_keys outside ClerkDesk's block (with other "
                    "rights); a key can have one meaning only"
                )
        rec = KeyRecord(
            id=f"k{reg.next_number}",
            login=login,
            user_id=user_id,
            key_type=key.key_type,
            blob=key.blob,
            fingerprint=key.fingerprint,
            added=timeutil.now().isoformat(),
        )
        reg.keys.append(rec)
        reg.next_number += 1  # ids are never reused: an old line can never mean a new person
        save_registry(cfg, reg)
        write_authorized_keys(cfg, reg, program)
    return rec


def remove_key(cfg: ServerConfig, key_id: str, program: str) -> KeyRecord:
    """Drop the key from authorized_keys first (access ends), then from the registry."""
    with registry_lock(cfg):
        reg = load_registry(cfg)
        rec = reg.find(key_id)
        if rec is None:
            raise ServerError(f"no key {key_id!r}; see `clerkdesk ssh-key list`")
        reg.keys.remove(rec)
        write_authorized_keys(cfg, reg, program)
        save_registry(cfg, reg)
    return rec


def sync_keys(cfg: ServerConfig, program: str) -> Path:
    """Rewrite the block from the registry (after moving or upgrading the program)."""
    with registry_lock(cfg):
        return write_authorized_keys(cfg, load_registry(cfg), program)


# --------------------------------------------------------------------------- the environment of `serve`

KEEP_ENV = ("TERM", "COLORTERM", "LANG", "NO_COLOR")


def clean_environment(cfg: ServerConfig) -> dict[str, str]:
    """What `serve` keeps of the environment sshd handed over: terminal and language, nothing else.

    Anything the client could send (a permissive AcceptEnv) such as CLERKDESK_*, TEXTUAL_*,
    XDG_*, HOME or PATH is dropped before Textual is imported.
    """
    kept = {k: v for k, v in os.environ.items() if k in KEEP_ENV or k.startswith("LC_")}
    kept.update(
        HOME=str(cfg.home),
        USER=account_login(),
        LOGNAME=account_login(),
        PATH="/usr/bin:/bin",
        XDG_CONFIG_HOME=str(cfg.home / ".config"),
        XDG_DATA_HOME=str(cfg.home / ".local" / "share"),
    )
    return kept
