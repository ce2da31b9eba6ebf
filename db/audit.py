"""Append-only, hash-chained audit log (docs/architecture.md, "Audit"; issue 11).

Each row's hash is an HMAC-SHA256, with the office's audit key, of its own content (``actor_id``
included) and the previous row's hash, so editing, deleting or inserting a row outside the
application breaks the chain at that row, and nobody without the key can forge a replacement.
The key is a file readable only by the account that runs ClerkDesk (``key_path``). After each
commit the new tip is also written, signed, to a checkpoint file beside the key, so a tail cut
off the log (with the head row rewritten to match) is found too. The database itself refuses
UPDATE and DELETE on audit_log (triggers, migration 0004). Writers lock the
single ``audit_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's BEGIN IMMEDIATE already
serialises writers), so two transactions can never fork the chain. ``record`` only queues the row;
it is written at commit, with the head locked last (see ``flush_pending``).
"""

from __future__ import annotations

import datetime as dt
import enum
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import sqlalchemy as sa
from platformdirs import user_data_dir
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from db.models import Allocation, AuditEntry, AuditHead, Invoice, Payment, Team, TimecardSignature, User
from db.money import ZERO
from db.rights import Actor
from db.timeutil import now

GENESIS = "0" * 64


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return f"{o:.2f}"
    if isinstance(o, dt.datetime):
        return o.astimezone(dt.UTC).isoformat()
    if isinstance(o, dt.date | dt.time):
        return o.isoformat()
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, set | frozenset):
        return sorted(o)
    raise TypeError(f"not JSON-serialisable for audit: {type(o).__name__}")


def canonical(data: Mapping[str, Any] | None) -> str:
    if data is None:
        return ""
    return json.dumps(data, default=_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The column values of an ORM object, for before/after."""
    mapper = sa.inspect(obj).mapper
    names = list(fields) if fields is not None else [c.key for c in mapper.column_attrs]
    return {n: getattr(obj, n) for n in names}


def _message(parts: Iterable[str]) -> bytes:
    # Each part followed by the unit separator: "ab"+"c" and "a"+"bc" hash differently.
    return ("\x1f".join(parts) + "\x1f").encode("utf-8")


def _row_hash(
    prev_hash: str,
    at: str,
    actor_login: str,
    entity: str,
    entity_id: str,
    action: str,
    before: str,
    after: str,
) -> str:
    """The plain SHA-256 of rows written before migration 0004 (``keyed`` false)."""
    return hashlib.sha256(
        _message((prev_hash, at, actor_login, entity, entity_id, action, before, after))
    ).hexdigest()


def _keyed_hash(key: bytes, prev_hash: str, at: str, actor_id: int | None, actor_login: str,
                entity: str, entity_id: str, action: str, before: str, after: str) -> str:  # fmt: skip
    parts = (prev_hash, at, "" if actor_id is None else str(actor_id), actor_login, entity, entity_id,
             action, before, after)  # fmt: skip
    return hmac.new(key, _message(parts), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- key and checkpoint

KEY_ENV = "CLERKDESK_AUDIT_KEY_FILE"
_keys: dict[str, bytes] = {}
_key_lock = threading.Lock()
_key_env_allowed = True


def allow_key_env(allowed: bool) -> None:
    """Whether ``CLERKDESK_AUDIT_KEY_FILE`` may move the key. Server mode turns it off: there the
    key is the service account's, beside its database, whoever runs a command and with whatever
    environment (tui.cli)."""
    global _key_env_allowed
    _key_env_allowed = allowed


def _data_folder() -> Path:
    return Path(user_data_dir("clerkdesk", appauthor=False))


def key_path(url: sa.URL) -> Path:
    """Where the audit key lives: beside a SQLite database, else in the data folder.

    ``CLERKDESK_AUDIT_KEY_FILE`` names another file (tests; a site that keeps the key elsewhere),
    except in server mode (``allow_key_env``).
    """
    env = os.environ.get(KEY_ENV) if _key_env_allowed else None
    if env:
        return Path(env)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "audit.key"
    return _data_folder() / "audit.key"


def checkpoint_path(url: sa.URL) -> Path:
    """One checkpoint per database, in the key's folder."""
    if url.get_backend_name() == "sqlite":
        ident = str(Path(url.database or "").resolve())
        name = Path(url.database or "memory").stem
    else:
        ident = f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{url.database or ''}"
        name = url.database or "db"
    tag = hashlib.sha256(ident.encode()).hexdigest()[:12]
    return key_path(url).parent / f"{name}-{tag}.audit-checkpoint"


def load_key(url: sa.URL) -> bytes:
    """The audit key, made on first use (32 random bytes, file mode 0600, never overwritten)."""
    path = key_path(url)
    with _key_lock:
        cached = _keys.get(str(path))
        if cached is not None:
            return cached
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Made whole under a temporary name, then linked into place: a process racing us
            # to make it never reads a half-written key, and nobody's key is ever replaced.
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_bytes(32).hex() + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        try:
            key = bytes.fromhex(path.read_text().strip())
        except ValueError as exc:
            raise RuntimeError(f"the audit key {path} is damaged (not hex)") from exc
        if len(key) < 32:
            raise RuntimeError(f"the audit key {path} is damaged (shorter than 32 bytes)")
        _keys[str(path)] = key
        return key


def _url(session: Session) -> sa.URL:
    return session.get_bind().engine.url


def _sign(key: bytes, last_id: int, last_hash: str) -> str:
    return hmac.new(key, f"checkpoint:{last_id}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def read_checkpoint(url: sa.URL) -> tuple[int, str] | None:
    """The last tip written after a commit, or None; raises ValueError if the file is forged."""
    path = checkpoint_path(url)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"the audit checkpoint {path} cannot be read: {exc}") from exc
    try:
        last_id, last_hash, sig = int(data["last_id"]), str(data["last_hash"]), str(data["sig"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the audit checkpoint {path} is damaged") from exc
    if not hmac.compare_digest(sig, _sign(load_key(url), last_id, last_hash)):
        raise ValueError(f"the audit checkpoint {path} has a bad signature (written without the key)")
    return last_id, last_hash


def write_checkpoint(url: sa.URL, last_id: int, last_hash: str) -> None:
    """Move the checkpoint forward to (last_id, last_hash); never backwards (writers race)."""
    path = checkpoint_path(url)
    key = load_key(url)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:
            current = read_checkpoint(url)
        except ValueError:
            current = None  # damaged: verify reports it; the next commit writes a good one
        if current is not None and current[0] >= last_id:
            return
        body = json.dumps({"last_id": last_id, "last_hash": last_hash, "sig": _sign(key, last_id, last_hash)})
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(body + "\n")
        os.replace(tmp, path)
    finally:
        os.close(lock_fd)


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock_head(session: Session) -> AuditHead:
    stmt = sa.select(AuditHead).where(AuditHead.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    head = session.scalars(stmt).one_or_none()
    if head is None and session.get_bind().dialect.name == "postgresql":
        # Two first writers may both see no head: create it race-free, then lock it.
        from sqlalchemy.dialects.postgresql import insert

        session.execute(insert(AuditHead).values(id=1, last_id=0, last_hash=GENESIS).on_conflict_do_nothing())
        head = session.scalars(stmt).one()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


# Audit rows wait in the session until the transaction commits (``flush_pending``): the head
# row is the one lock every writer shares, so it is taken LAST, after every business row a
# service locks or updates. Lock order everywhere: business rows (in each service's documented
# order), then audit_head. Taking the head first (as record() once did) deadlocks against a
# transaction that holds an invoice and waits for the head.
_PENDING = "clerkdesk.audit_pending"
_TIP = "clerkdesk.audit_tip"  # (last_id, last_hash) this transaction wrote, for the checkpoint


@dataclass(frozen=True)
class _Pending:
    at: pendulum.DateTime
    actor_id: int | None
    actor_login: str
    entity: str
    entity_id: str
    action: str
    before: str
    after: str


def record(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: Any,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Record one audit row in the caller's transaction; it is written when the transaction
    commits and vanishes with it on rollback."""
    session.info.setdefault(_PENDING, []).append(
        _Pending(
            now(),
            actor.user_id or None,
            actor.login,
            entity,
            str(entity_id),
            action,
            canonical(before),
            canonical(after),
        )
    )


def serialize(session: Session, chain: str) -> None:
    """Make writers of one side chain (e.g. timecard signatures) take turns until commit.

    PostgreSQL: a transaction-scoped advisory lock named after the chain; SQLite's BEGIN
    IMMEDIATE already serialises writers. Lock order: after the rows the service locked, before
    the audit head (taken at commit).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:c))"), {"c": f"clerkdesk.{chain}"})


def pending_count(session: Session) -> int:
    return len(session.info.get(_PENDING, ()))


def flush_pending(session: Session) -> None:
    """Write the transaction's audit rows at its end: business changes first, the head last."""
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    key = load_key(_url(session))
    session.flush()  # every business UPDATE (and its row lock) before the head's lock
    head = _lock_head(session)
    prev = head.last_hash
    entries = []
    for p in pending:
        digest = _keyed_hash(
            key, prev, _at_text(p.at), p.actor_id, p.actor_login, p.entity, p.entity_id, p.action,
            p.before, p.after,
        )  # fmt: skip
        entries.append(
            AuditEntry(
                at=p.at,
                actor_id=p.actor_id,
                actor_login=p.actor_login,
                entity=p.entity,
                entity_id=p.entity_id,
                action=p.action,
                before=p.before,
                after=p.after,
                prev_hash=prev,
                hash=digest,
                keyed=True,
            )
        )
        prev = digest
    session.add_all(entries)
    session.flush()
    head.last_id = entries[-1].id
    head.last_hash = prev
    session.flush()
    session.info[_TIP] = (head.last_id, prev)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # Also fired when a savepoint is released: wait for the real commit, or the head would be
    # locked in the middle of the transaction (then other rows after it: deadlock again).
    if not session.in_nested_transaction():
        flush_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Rolled back (or finished): nothing recorded in it may reach a later transaction.
    # Savepoints are left alone: services record nothing inside one (see payments._post).
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_TIP, None)


DEFER_CHECKPOINT = "clerkdesk.defer_checkpoint"  # set by Database.write_session


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    tip = session.info.pop(_TIP, None)
    if tip is None:
        return
    if session.info.get(DEFER_CHECKPOINT):
        # Database.write_session writes it once the SQLite write lock is released.
        session.info[DEFER_CHECKPOINT] = (_url(session), tip)
    else:
        write_checkpoint(_url(session), *tip)


def write_deferred_checkpoint(session: Session) -> None:
    deferred = session.info.pop(DEFER_CHECKPOINT, None)
    if isinstance(deferred, tuple):
        url, (last_id, last_hash) = deferred
        write_checkpoint(url, last_id, last_hash)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    message: str = ""


def _business_rows(session: Session) -> int:
    """Rows that only a service writes, each with its audit row: a log without any is wiped."""
    total = 0
    for model in (User, Team, Invoice, Payment):
        total += session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
    return total


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order (streamed in batches); report the first row whose link or
    content does not hold, then check the tip against the head row and the signed checkpoint."""
    url = _url(session)
    key = load_key(url)
    prev = GENESIS
    checked = 0
    last_id = 0
    seen_keyed = False
    tip_at: dict[int, str] = {}
    try:
        checkpoint = read_checkpoint(url)
    except ValueError as exc:
        return VerifyResult(False, 0, None, str(exc))
    mode = key_path(url).stat().st_mode
    if mode & 0o077:
        return VerifyResult(
            False,
            0,
            None,
            f"the audit key {key_path(url)} is readable by other accounts (mode {mode & 0o777:o}); "
            "anyone who read it can forge rows: chmod 600 it and make a new key",
        )
    while True:
        rows = session.execute(
            sa.select(AuditEntry.__table__)
            .where(AuditEntry.id > last_id)
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for r in rows:
            if r.prev_hash != prev:
                return VerifyResult(
                    False,
                    checked,
                    r.id,
                    f"audit row {r.id}: link to the previous row is broken (a row was deleted or inserted)",
                )
            at = _at_text(r.at)
            if r.keyed:
                seen_keyed = True
                expect = _keyed_hash(
                    key,
                    prev,
                    at,
                    r.actor_id,
                    r.actor_login,
                    r.entity,
                    r.entity_id,
                    r.action,
                    r.before,
                    r.after,
                )
            elif seen_keyed:
                return VerifyResult(
                    False,
                    checked,
                    r.id,
                    f"audit row {r.id}: an unkeyed row after keyed ones (inserted outside ClerkDesk)",
                )
            else:
                expect = _row_hash(
                    prev, at, r.actor_login, r.entity, r.entity_id, r.action, r.before, r.after
                )
            if not hmac.compare_digest(expect, r.hash):
                return VerifyResult(
                    False,
                    checked,
                    r.id,
                    f"audit row {r.id}: content does not match its hash "
                    "(the row was edited outside ClerkDesk)",
                )
            if checkpoint is not None and r.id == checkpoint[0]:
                tip_at[r.id] = r.hash
            prev = r.hash
            checked += 1
            last_id = r.id
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return VerifyResult(
            False,
            checked,
            head.last_id,
            "the chain's tip does not match the last row (rows were removed from the end)",
        )
    if checkpoint is not None and tip_at.get(checkpoint[0]) != checkpoint[1]:
        return VerifyResult(
            False,
            checked,
            checkpoint[0],
            f"audit row {checkpoint[0]}, recorded in the signed checkpoint, is missing or different "
            "(the end of the log was cut off or rewritten)",
        )
    if checked == 0 and (n := _business_rows(session)):
        return VerifyResult(
            False,
            0,
            None,
            f"the audit log is empty but the database holds {n} users, teams, invoices and payments "
            "(the log was wiped)",
        )
    if checkpoint is None and seen_keyed:
        return VerifyResult(
            False, checked, None, f"no audit checkpoint at {checkpoint_path(url)} (it was removed)"
        )
    return VerifyResult(True, checked, None, f"audit chain intact: {checked} rows")


# --------------------------------------------------------------------------- reconciliation

_USER_FIELDS = ("login", "role", "team_id", "active")


def reconcile(session: Session, batch: int = 5000) -> VerifyResult:
    """Every money row and every user's rights have their audit rows (a row written or changed
    with plain SQL has none): invoices, payments (amount), allocations (per payment, the sum the
    log says it allocated), timecard signatures (hash), users (login, role, team, active).

    One streamed pass over the log keeps only small per-entity figures; then each table is
    streamed by id and compared.
    """
    invoices: set[int] = set()
    posted: dict[int, int] = {}  # payment id -> amount in cents
    allocated: dict[int, int] = {}  # payment id -> cents the log allocated
    signatures: dict[int, str] = {}
    users: dict[int, dict[str, Any]] = {}
    last_id = 0
    wanted = ("invoice", "payment", "timecard_signature", "user")
    while True:
        rows = session.execute(
            sa.select(
                AuditEntry.id, AuditEntry.entity, AuditEntry.entity_id, AuditEntry.action, AuditEntry.after
            )
            .where(AuditEntry.id > last_id, AuditEntry.entity.in_(wanted))
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for r in rows:
            last_id = r.id
            try:
                ident = int(r.entity_id)
            except ValueError:
                continue
            if r.entity == "invoice":
                invoices.add(ident)
                continue
            after = json.loads(r.after) if r.after else {}
            if r.entity == "payment":
                if r.action == "post":
                    posted[ident] = _cents(after.get("amount"))
                allocs = after.get("allocations") or []
                allocated[ident] = allocated.get(ident, 0) + sum(_cents(a[2]) for a in allocs)
            elif r.entity == "timecard_signature":
                signatures[ident] = str(after.get("hash", ""))
            elif r.entity == "user" and after:
                users.setdefault(ident, {}).update({f: after[f] for f in _USER_FIELDS if f in after})
    problems = _Problems()

    def stream(stmt: sa.Select[*tuple[Any, ...]], id_col: Any) -> Iterator[Any]:
        after_id = 0
        while True:
            chunk = session.execute(stmt.where(id_col > after_id).order_by(id_col).limit(batch)).all()
            if not chunk:
                return
            yield from chunk
            after_id = chunk[-1][0]

    for inv_id, number in stream(sa.select(Invoice.id, Invoice.number), Invoice.id):
        if inv_id not in invoices:
            problems.append(f"invoice {number or inv_id} has no audit row")
    pay_sums = (
        sa.select(Payment.id, Payment.amount, sa.func.coalesce(sa.func.sum(Allocation.amount), ZERO))
        .outerjoin(Allocation, Allocation.payment_id == Payment.id)
        .group_by(Payment.id, Payment.amount)
    )
    for pay_id, amount, alloc_sum in stream(pay_sums, Payment.id):
        if pay_id not in posted:
            problems.append(f"payment #{pay_id} has no audit row")
            continue
        if _cents(amount) != posted[pay_id]:
            problems.append(
                f"payment #{pay_id}: amount {amount} differs from the audited {_money(posted[pay_id])}"
            )
        if _cents(alloc_sum) != allocated.get(pay_id, 0):
            problems.append(
                f"payment #{pay_id}: allocations add up to {_cents_text(alloc_sum)}, the audit log says "
                f"{_money(allocated.get(pay_id, 0))}"
            )
    for sig_id, sig_hash in stream(
        sa.select(TimecardSignature.id, TimecardSignature.hash), TimecardSignature.id
    ):
        if signatures.get(sig_id) != sig_hash:
            problems.append(f"timecard signature #{sig_id} has no matching audit row")
    user_cols = sa.select(User.id, User.login, User.role, User.team_id, User.active)
    for uid, login, role, team_id, active in stream(user_cols, User.id):
        logged = users.get(uid)
        if logged is None:
            problems.append(f"user {login} has no audit row")
            continue
        now_vals = {"login": login, "role": role.value, "team_id": team_id, "active": active}
        for f in _USER_FIELDS:
            if f in logged and logged[f] != now_vals[f]:
                problems.append(
                    f"user {logged.get('login', login)}: {f} is {now_vals[f]!r} but the audit log says "
                    f"{logged[f]!r} (changed outside ClerkDesk)"
                )
    if problems.count:
        more = (
            f" (and {problems.count - len(problems.first)} more)"
            if problems.count > len(problems.first)
            else ""
        )
        return VerifyResult(False, 0, None, "reconciliation failed: " + "; ".join(problems.first) + more)
    return VerifyResult(
        True,
        0,
        None,
        f"reconciled with the log: {len(invoices)} invoices, {len(posted)} payments, "
        f"{len(signatures)} timecard signatures, {len(users)} users",
    )


class _Problems:
    """Counts every problem, keeps the first few words (a wiped log may mean millions)."""

    def __init__(self, keep: int = 5) -> None:
        self.first: list[str] = []
        self.count = 0
        self._keep = keep

    def append(self, text: str) -> None:
        self.count += 1
        if len(self.first) < self._keep:
            self.first.append(text)


def _cents(value: Any) -> int:
    if value is None:
        return 0
    return int((Decimal(str(value)) * 100).to_integral_value())


def _money(c: int) -> str:
    return f"{Decimal(c) / 100:.2f}"


def _cents_text(value: Any) -> str:
    return _money(_cents(value))
