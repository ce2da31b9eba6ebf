"""Per-clerk output (reports/output.py) against an independent plain-Python recount.

The data is generated at random (seeded) around the awkward borders: local midnight at the
start and after the end of a range, the fall-back day (1 Nov 2026, 25 hours in New York) and
the spring-forward day (8 Mar 2026, 23 hours). The recount never calls the report code: it
takes each generated row, finds its office day with the standard library's zoneinfo, and counts
by the rules written in docs/reports.md.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest
import sqlalchemy as sa

from db.errors import PermissionDenied, ValidationError
from db.models import (
    Allocation,
    Assignment,
    BillTo,
    Channel,
    Client,
    ClockEvent,
    ClockKind,
    ClockSource,
    ContactAttempt,
    ContactDirection,
    ContactOutcome,
    Dispute,
    DisputeReason,
    DisputeStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    PayerSide,
    Payment,
    PaymentMethod,
    Timecard,
    TimecardStatus,
    User,
    WorkItem,
    WorkKind,
    WorkOutcome,
)
from reports.output import FIGURES, drill, output_report, period_of, step, trend
from tests.conftest import Office

TZ = ZoneInfo("America/New_York")
UTC = dt.UTC


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(UTC)


def office_day(at: dt.datetime) -> dt.date:
    return at.astimezone(TZ).date()


def pend(at: dt.datetime) -> pendulum.DateTime:
    return pendulum.instance(at.astimezone(UTC))


# Days whose borders we aim at: around both DST changes and the ends of their months.
HOT_DAYS = [
    dt.date(2026, 2, 28),
    dt.date(2026, 3, 1),
    dt.date(2026, 3, 7),
    dt.date(2026, 3, 8),
    dt.date(2026, 3, 9),
    dt.date(2026, 3, 31),
    dt.date(2026, 10, 25),
    dt.date(2026, 10, 31),
    dt.date(2026, 11, 1),
    dt.date(2026, 11, 2),
    dt.date(2026, 11, 8),
    dt.date(2026, 11, 9),
]


def hot_instant(rng: random.Random) -> dt.datetime:
    """An instant near a local midnight of a hot day, or exactly on it, or anywhere in the day."""
    day = rng.choice(HOT_DAYS)
    base = local_midnight(day)
    choice = rng.randrange(4)
    if choice == 0:
        return base  # exactly midnight: belongs to ``day``
    if choice == 1:
        return base - dt.timedelta(seconds=1)  # the last second of the day before
    if choice == 2:
        return local_midnight(day + dt.timedelta(days=1)) - dt.timedelta(seconds=rng.choice([1, 59, 3600]))
    return base + dt.timedelta(minutes=rng.randrange(23 * 60))


@dataclass
class Generated:
    users: dict[str, int]
    invoices: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[dict[str, Any]] = field(default_factory=list)  # in id order
    contacts: list[dict[str, Any]] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # in, out, break minutes, user
    signed: list[tuple[int, dt.date, dt.date]] = field(default_factory=list)


def generate(office: Office, seed: int = 11) -> Generated:
    rng = random.Random(seed)
    logins = ["cleo", "carl", "cora", "sam", "pat"]

    def go(s: sa.orm.Session) -> Generated:
        s.execute(sa.update(User).values(hire_date=dt.date(2020, 1, 1)))
        users = {u.login: u.id for u in s.scalars(sa.select(User))}
        g = Generated(users)
        sam = users["sam"]
        clients = []
        for i in range(12):
            c = Client(account_number=f"R{i:04d}", first_name=f"First{i}", last_name=f"Last{i}")
            s.add(c)
            clients.append(c)
        s.flush()
        inv_rows: list[Invoice] = []
        for i in range(260):
            day = rng.choice(HOT_DAYS) + dt.timedelta(days=rng.choice([0, 0, 0, 1, -1]))
            status = rng.choice(list(InvoiceStatus))
            kind = rng.choice(
                [InvoiceKind.INVOICE] * 4
                + [InvoiceKind.STATEMENT] * 3
                + [InvoiceKind.CREDIT_NOTE, InvoiceKind.FEE]
            )
            by = users[rng.choice(logins[:4])]
            total = Decimal(rng.randrange(100, 90000)) / 100
            inv = Invoice(
                number=f"INV-{i:05d}",
                kind=kind,
                client_id=rng.choice(clients).id,
                bill_to=BillTo.CLIENT,
                status=status,
                issue_date=None if status == InvoiceStatus.DRAFT else day,
                due_date=day + dt.timedelta(days=30),
                total=total,
                created_by=by,
                issued_by=None if status == InvoiceStatus.DRAFT else by,
            )
            s.add(inv)
            inv_rows.append(inv)
        s.flush()
        g.invoices = [
            {
                "id": v.id,
                "kind": v.kind,
                "status": v.status,
                "issue_date": v.issue_date,
                "issued_by": v.issued_by,
                "client_id": v.client_id,
                "total": v.total,
            }
            for v in inv_rows
        ]
        for i in range(160):
            day = rng.choice(HOT_DAYS) + dt.timedelta(days=rng.choice([0, 1, -1]))
            p = Payment(
                side=PayerSide.CLIENT,
                client_id=rng.choice(clients).id,
                amount=Decimal(rng.randrange(100, 50000)) / 100,
                method=PaymentMethod.CHECK,
                received_on=day,
                idempotency_key=f"k{i}",
                posted_by=users[rng.choice(logins)],
            )
            s.add(p)
            s.flush()
            g.payments.append({"id": p.id, "received_on": day, "posted_by": p.posted_by, "amount": p.amount})
            for inv in rng.sample(inv_rows, rng.randrange(0, 3)):
                a = Allocation(payment_id=p.id, invoice_id=inv.id, amount=Decimal("1.00"))
                s.add(a)
                s.flush()
                g.allocations.append({"id": a.id, "payment_id": p.id, "invoice_id": inv.id})
        for _ in range(300):
            at = hot_instant(rng)
            c = ContactAttempt(
                client_id=rng.choice(clients).id,
                at=pend(at),
                made_by=users[rng.choice(logins)],
                channel=Channel.PHONE,
                direction=rng.choice(list(ContactDirection)),
                outcome=ContactOutcome.REACHED,
            )
            s.add(c)
            g.contacts.append({"at": at, "made_by": c.made_by})
        for _ in range(90):
            opened = hot_instant(rng)
            decided = hot_instant(rng) if rng.random() < 0.6 else None
            if decided is not None and decided < opened:
                opened, decided = decided, opened
            d = Dispute(
                invoice_id=rng.choice(inv_rows).id,
                reason=DisputeReason.OTHER,
                status=DisputeStatus.CONFIRMED if decided else DisputeStatus.OPEN,
                opened_by=users[rng.choice(logins[:3])],
                opened_at=pend(opened),
                decided_by=users[rng.choice(["sam", "pat"])] if decided else None,
                decided_at=pend(decided) if decided else None,
            )
            s.add(d)
            g.disputes.append(
                {
                    "opened_at": opened,
                    "opened_by": d.opened_by,
                    "decided_at": decided,
                    "decided_by": d.decided_by,
                }
            )
        for _ in range(240):
            day = rng.choice(HOT_DAYS) + dt.timedelta(days=rng.choice([0, 1, -1]))
            w = WorkItem(day=day, kind=rng.choice(list(WorkKind)), client_id=rng.choice(clients).id)
            s.add(w)
            s.flush()
            outcome = rng.choice([None, None, *WorkOutcome])
            a = Assignment(
                work_item_id=w.id,
                user_id=users[rng.choice(logins[:3])],
                day=day,
                published=rng.random() < 0.85,
                assigned_by=sam,
                outcome=outcome,
                finished_at=pend(local_midnight(day) + dt.timedelta(hours=10)) if outcome else None,
            )
            s.add(a)
            g.assignments.append(
                {
                    "day": day,
                    "user_id": a.user_id,
                    "kind": w.kind,
                    "published": a.published,
                    "outcome": outcome,
                }
            )
        # Work sessions: back to back per person, each ending before the next starts, many of
        # them running over a local midnight.
        for login in ("cleo", "carl", "cora", "sam"):
            uid = users[login]
            for first, last in (
                (dt.date(2026, 2, 26), dt.date(2026, 3, 11)),
                (dt.date(2026, 10, 24), dt.date(2026, 11, 10)),
            ):
                t = local_midnight(first) + dt.timedelta(minutes=rng.randrange(600))
                while t < local_midnight(last):
                    start = t + dt.timedelta(minutes=rng.randrange(60, 1500))
                    length = rng.randrange(30, 600)
                    end = start + dt.timedelta(minutes=length)
                    brk = rng.randrange(5, 25) if length > 120 and rng.random() < 0.5 else 0
                    events = [(ClockKind.IN, start)]
                    if brk:
                        b0 = start + dt.timedelta(minutes=60)
                        events += [
                            (ClockKind.BREAK_START, b0),
                            (ClockKind.BREAK_END, b0 + dt.timedelta(minutes=brk)),
                        ]
                    events.append((ClockKind.OUT, end))
                    for kind, at in events:
                        s.add(
                            ClockEvent(
                                user_id=uid, kind=kind, at=pend(at), source=ClockSource.CLOCK, recorded_by=uid
                            )
                        )
                    g.sessions.append({"user_id": uid, "in": start, "minutes": length - brk})
                    t = end
        # One signed card: carl's week of the fall-back day.
        s.add(
            Timecard(
                user_id=users["carl"],
                period_start=dt.date(2026, 10, 26),
                period_end=dt.date(2026, 11, 1),
                status=TimecardStatus.SIGNED,
            )
        )
        g.signed.append((users["carl"], dt.date(2026, 10, 26), dt.date(2026, 11, 1)))
        return g

    return office.db.write(go)


def per_hour(amount: Any, minutes: int) -> Decimal | None:
    if not minutes:
        return None
    return (Decimal(amount) * 60 / Decimal(minutes)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def recount(g: Generated, start: dt.date, end: dt.date) -> dict[int | None, dict[str, Any]]:
    """The figures by the written rules, per user id (None: the team), from the generated rows."""
    inside = lambda d: d is not None and start <= d <= end  # noqa: E731
    f: dict[int | None, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    billed = [
        i
        for i in g.invoices
        if inside(i["issue_date"])
        and i["kind"] in (InvoiceKind.INVOICE, InvoiceKind.STATEMENT)
        and i["status"] not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
    ]
    clients: dict[int, set[int]] = defaultdict(set)
    for i in billed:
        f[i["issued_by"]]["invoices_issued"] += 1
        f[i["issued_by"]]["amount_billed"] += i["total"]
        clients[i["issued_by"]].add(i["client_id"])
    for uid, cs in clients.items():
        f[uid]["clients_billed"] = len(cs)
    f[None]["clients_billed"] = len({i["client_id"] for i in billed})
    pays = {p["id"]: p for p in g.payments}
    for p in g.payments:
        if inside(p["received_on"]):
            f[p["posted_by"]]["collected"] += p["amount"]
    last_alloc: dict[int, dict[str, Any]] = {}
    for a in g.allocations:  # in id order: the last one wins
        last_alloc[a["invoice_id"]] = a
    status = {i["id"]: i["status"] for i in g.invoices}
    for inv_id, a in last_alloc.items():
        p = pays[a["payment_id"]]
        if status[inv_id] == InvoiceStatus.PAID and inside(p["received_on"]):
            f[p["posted_by"]]["invoices_paid"] += 1
    for c in g.contacts:
        if inside(office_day(c["at"])):
            f[c["made_by"]]["contacts"] += 1
    for d in g.disputes:
        if inside(office_day(d["opened_at"])):
            f[d["opened_by"]]["disputes_opened"] += 1
        if d["decided_at"] is not None and inside(office_day(d["decided_at"])):
            f[d["decided_by"]]["disputes_decided"] += 1
    for a in g.assignments:
        if a["published"] and inside(a["day"]):
            f[a["user_id"]]["items_assigned"] += 1
            f[a["user_id"]][f"assigned:{a['kind'].value}"] += 1
            if a["outcome"] is not None and a["outcome"] != WorkOutcome.SKIPPED:
                f[a["user_id"]]["items_done"] += 1
                f[a["user_id"]][f"done:{a['kind'].value}"] += 1
    for sess in g.sessions:
        day = office_day(sess["in"])  # work belongs to the day of its clock-in
        if inside(day):
            f[sess["user_id"]]["worked_minutes"] += sess["minutes"]
            if any(u == sess["user_id"] and a <= day <= b for u, a, b in g.signed):
                f[sess["user_id"]]["signed_minutes"] += sess["minutes"]
    team = f[None]
    for uid, figs in list(f.items()):
        if uid is None:
            continue
        for k, v in figs.items():
            if k != "clients_billed":
                team[k] += v
    for figs in f.values():
        figs["items_per_hour"] = per_hour(figs["items_done"], figs["worked_minutes"])
        figs["invoices_per_hour"] = per_hour(figs["invoices_issued"], figs["worked_minutes"])
        figs["collected_per_hour"] = per_hour(figs["collected"], figs["worked_minutes"])
    return f


RANGES = [
    (dt.date(2026, 11, 1), dt.date(2026, 11, 1)),  # the 25-hour day
    (dt.date(2026, 3, 8), dt.date(2026, 3, 8)),  # the 23-hour day
    (dt.date(2026, 10, 26), dt.date(2026, 11, 1)),  # a week ending on the fall-back day
    (dt.date(2026, 11, 2), dt.date(2026, 11, 8)),
    (dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
    (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
    (dt.date(2026, 2, 28), dt.date(2026, 3, 1)),
    (dt.date(2026, 3, 9), dt.date(2026, 3, 9)),
    (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
]


def test_every_figure_matches_the_recount(office: Office) -> None:
    g = generate(office)
    checked = 0
    for start, end in RANGES:
        expected = recount(g, start, end)
        rep = office.db.read(lambda s, a=start, b=end: output_report(office.sup, s, a, b))
        assert rep.team is not None
        for row in (*rep.rows, rep.team):
            exp = expected[row.user_id]
            for fig in FIGURES:
                want = exp[fig.key] if fig.key.endswith("_per_hour") else exp.get(fig.key, 0)
                got = row.value(fig.key)
                assert got == want, (start, end, row.login, fig.key, got, want)
                checked += 1
            assert row.signed_minutes == exp.get("signed_minutes", 0), (start, end, row.login)
            for k in row.by_kind:
                assert (k.assigned, k.done) == (
                    exp.get(f"assigned:{k.kind}", 0),
                    exp.get(f"done:{k.kind}", 0),
                ), (start, end, row.login, k.kind)
        # Rows: the three clerks always; a supervisor only with output besides hours.
        logins = {r.login for r in rep.rows}
        assert {"cleo", "carl", "cora"} <= logins
        for sup in ("sam", "pat"):
            uid = g.users[sup]
            has = any(
                v
                for k, v in expected[uid].items()
                if k not in ("worked_minutes", "signed_minutes") and not k.endswith("_per_hour")
            )
            assert (sup in logins) == has, (start, end, sup)
    assert checked > 500
    # The borders matter: the 25-hour day's contacts differ from a naive UTC-date count.
    day = dt.date(2026, 11, 1)
    naive = sum(1 for c in g.contacts if c["at"].date() == day)
    rep = office.db.read(lambda s: output_report(office.sup, s, day, day))
    assert rep.team is not None and rep.team.contacts != naive


def test_midnight_belongs_to_the_day_it_starts(office: Office) -> None:
    def go(s: sa.orm.Session) -> None:
        c = Client(account_number="B0001", first_name="Bo", last_name="Border")
        s.add(c)
        s.flush()
        cleo = office.clerk.user_id
        for at in (
            local_midnight(dt.date(2026, 11, 1)),  # 04:00Z: first instant of 1 Nov
            local_midnight(dt.date(2026, 11, 2)) - dt.timedelta(seconds=1),  # 04:59:59Z: still 1 Nov
            local_midnight(dt.date(2026, 11, 2)),  # 05:00Z: 2 Nov
            local_midnight(dt.date(2026, 11, 1)) - dt.timedelta(seconds=1),  # 31 Oct
        ):
            s.add(
                ContactAttempt(
                    client_id=c.id,
                    at=pend(at),
                    made_by=cleo,
                    channel=Channel.PHONE,
                    direction=ContactDirection.OUTBOUND,
                    outcome=ContactOutcome.NO_ANSWER,
                )
            )

    office.db.write(go)
    count = lambda a, b: office.db.read(  # noqa: E731
        lambda s: output_report(office.clerk, s, a, b).rows[0].contacts
    )
    assert count(dt.date(2026, 11, 1), dt.date(2026, 11, 1)) == 2
    assert count(dt.date(2026, 11, 2), dt.date(2026, 11, 2)) == 1
    assert count(dt.date(2026, 10, 31), dt.date(2026, 10, 31)) == 1
    assert count(dt.date(2026, 10, 31), dt.date(2026, 11, 2)) == 4


def test_a_clerk_sees_only_their_own_figures(office: Office) -> None:
    generate(office)
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    own = office.db.read(lambda s: output_report(office.clerk, s, start, end))
    assert [r.login for r in own.rows] == ["cleo"] and own.team is None
    same = office.db.read(lambda s: output_report(office.clerk, s, start, end, "cleo"))
    assert same == own
    with pytest.raises(PermissionDenied):
        office.db.read(lambda s: output_report(office.clerk, s, start, end, "carl"))
    with pytest.raises(PermissionDenied):
        office.db.read(lambda s: drill(office.clerk, s, "collected", start, end, "carl"))
    # Without a login a clerk's drill-down is still their own rows only.
    page = office.db.read(lambda s: drill(office.clerk, s, "contacts", start, end, limit=500))
    assert page.rows and {cells[-1] for _, cells in page.rows} == {"cleo"}
    with pytest.raises(PermissionDenied):
        office.db.read(lambda s: trend(office.clerk, s, period_of("week", start), "contacts", login="carl"))
    # A supervisor's figures for one clerk equal that clerk's own.
    sup_view = office.db.read(lambda s: output_report(office.sup, s, start, end, "cleo"))
    assert sup_view.rows == own.rows


def test_bad_ranges_are_refused(office: Office) -> None:
    with pytest.raises(ValidationError, match="before"):
        office.db.read(lambda s: output_report(office.sup, s, dt.date(2026, 11, 2), dt.date(2026, 11, 1)))
    with pytest.raises(ValidationError, match="at most 400 days"):
        office.db.read(lambda s: output_report(office.sup, s, dt.date(2025, 1, 1), dt.date(2026, 11, 1)))
    with pytest.raises(ValidationError, match="unknown figure"):
        office.db.read(lambda s: drill(office.sup, s, "[Smith]", dt.date(2026, 11, 1), dt.date(2026, 11, 1)))
    from db.errors import NotFound

    with pytest.raises(NotFound):
        office.db.read(
            lambda s: output_report(office.sup, s, dt.date(2026, 11, 1), dt.date(2026, 11, 1), "nobody")
        )


def test_drill_rows_sum_to_the_figure_and_page_by_key(office: Office) -> None:
    generate(office)
    start, end = dt.date(2026, 10, 25), dt.date(2026, 11, 9)
    rep = office.db.read(lambda s: output_report(office.sup, s, start, end))
    carl = next(r for r in rep.rows if r.login == "carl")

    def all_rows(figure: str, login: str | None) -> list[tuple[Any, tuple[str, ...]]]:
        out: list[tuple[Any, tuple[str, ...]]] = []
        after = None
        while True:
            page = office.db.read(
                lambda s, k=after: drill(office.sup, s, figure, start, end, login, after=k, limit=7)
            )
            out.extend(page.rows)
            if page.next_after is None:
                return out
            after = page.next_after

    inv = all_rows("invoices_issued", "carl")
    assert len(inv) == carl.invoices_issued
    assert len({k for k, _ in inv}) == len(inv)  # no row twice across pages
    total = sum(Decimal(c[6].replace("$", "").replace(",", "")) for _, c in inv)
    assert total == carl.amount_billed
    pays = all_rows("collected", "carl")
    assert sum(Decimal(c[1].replace("$", "").replace(",", "")) for _, c in pays) == carl.collected
    assert {c[-1] for _, c in pays} <= {"carl"}
    assert len(all_rows("invoices_paid", "carl")) == carl.invoices_paid
    assert len(all_rows("contacts", None)) == rep.team.contacts  # type: ignore[union-attr]
    assert len(all_rows("items_done", "carl")) == carl.items_done
    assert len(all_rows("items_assigned", "carl")) == carl.items_assigned
    assert len(all_rows("disputes_decided", None)) == rep.team.disputes_decided  # type: ignore[union-attr]
    assert len(all_rows("disputes_opened", "carl")) == carl.disputes_opened
    hours = all_rows("worked_minutes", "carl")
    minutes = sum(int(c[2].split(":")[0]) * 60 + int(c[2].split(":")[1]) for _, c in hours)
    assert minutes == carl.worked_minutes
    assert any(c[3] == "signed" for _, c in hours) and any(c[3] == "not signed" for _, c in hours)
    team_hours = all_rows("worked_minutes", None)
    assert rep.team is not None
    assert (
        sum(int(c[2].split(":")[0]) * 60 + int(c[2].split(":")[1]) for _, c in team_hours)
        == rep.team.worked_minutes
    )


def test_periods_and_steps() -> None:
    d = dt.date(2026, 11, 18)  # a Wednesday
    assert period_of("week", d) == period_of("week", dt.date(2026, 11, 16))
    w = period_of("week", d)
    assert (w.start, w.end) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert period_of("week", d, week_start=6).start == dt.date(2026, 11, 15)  # Sunday weeks
    m = period_of("month", d)
    assert (m.start, m.end) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert step(m, 3).start == dt.date(2027, 2, 1) and step(m, 3).end == dt.date(2027, 2, 28)
    assert step(m, -11).start == dt.date(2025, 12, 1)
    assert step(period_of("day", d), -1).start == dt.date(2026, 11, 17)
    assert step(w, -1).start == dt.date(2026, 11, 9)


def test_trend_is_the_report_of_each_period(office: Office) -> None:
    generate(office)
    week = period_of("week", dt.date(2026, 11, 2))
    periods, series = office.db.read(lambda s: trend(office.sup, s, week, "contacts", count=4))
    assert [p.start for p in periods] == [
        dt.date(2026, 10, 12),
        dt.date(2026, 10, 19),
        dt.date(2026, 10, 26),
        dt.date(2026, 11, 2),
    ]
    for p, value in zip(periods, series["TEAM"], strict=True):
        rep = office.db.read(lambda s, p=p: output_report(office.sup, s, p.start, p.end))
        assert rep.team is not None and value == rep.team.contacts


def test_hours_equal_the_timecards_days(office: Office) -> None:
    """Hours per day are the timecard's own figure, including a clock-in before midnight for a
    shift that starts at midnight (it belongs to the shift's day) and the DST weeks."""
    from scheduling import shifts
    from scheduling.timecards import timecard_detail

    g = generate(office)

    def night(a, s) -> None:  # type: ignore[no-untyped-def]
        shifts.add_shift_type(a, s, code="N", name="Night", start_time=dt.time(0), minutes=360)
        shifts.set_cell(a, s, "cora", dt.date(2026, 11, 12), "N", expected_version=None)
        shifts.publish(a, s, dt.date(2026, 11, 12), dt.date(2026, 11, 12))

    office.db.write(lambda s: night(office.sup, s))

    def punches(s) -> None:  # type: ignore[no-untyped-def]
        cora = g.users["cora"]
        for kind, at in (
            (ClockKind.IN, "2026-11-12T04:50:00+00:00"),
            (ClockKind.OUT, "2026-11-12T11:00:00+00:00"),
        ):
            s.add(
                ClockEvent(
                    user_id=cora, kind=kind, at=pendulum.parse(at), source=ClockSource.CLOCK, recorded_by=cora
                )
            )

    office.db.write(punches)  # 23:50 on 11 Nov local, for the 00:00 shift of 12 Nov: 370 minutes
    from reports.output import worked_by_day

    ids = [g.users[x] for x in ("cleo", "carl", "cora", "sam")]
    for week_start in (
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 9),
        dt.date(2026, 10, 26),
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 9),
    ):
        week_end = week_start + dt.timedelta(days=6)
        ours = office.db.read(lambda s, a=week_start, b=week_end: worked_by_day(s, ids, a, b))
        for uid in ids:
            card = office.db.read(lambda s, u=uid, a=week_start: timecard_detail(office.sup, s, u, a))
            want = {d.day: d.worked_minutes for d in card.days if d.worked_minutes}
            assert {d: m for d, (m, _) in ours[uid].items()} == want, (week_start, uid)
    nov12 = office.db.read(
        lambda s: worked_by_day(s, [g.users["cora"]], dt.date(2026, 11, 11), dt.date(2026, 11, 12))
    )
    assert nov12 == {g.users["cora"]: {dt.date(2026, 11, 12): (370, False)}}


def test_a_supervisor_with_hours_only_is_no_row_and_not_in_the_team_hours(office: Office) -> None:
    from db.models import Role
    from scheduling import staff

    office.db.write(
        lambda s: staff.add_user(
            office.sup, s, login="sue", name="Sue Lead", role=Role.SUPERVISOR, hire_date=dt.date(2026, 1, 1)
        )
    )

    def punches(s) -> None:  # type: ignore[no-untyped-def]
        sue = s.scalar(sa.select(User.id).where(User.login == "sue"))
        cleo = office.clerk.user_id
        s.execute(sa.update(User).values(hire_date=dt.date(2020, 1, 1)))
        for uid in (sue, cleo):
            for kind, at in (
                (ClockKind.IN, "2026-11-10T13:00:00+00:00"),
                (ClockKind.OUT, "2026-11-10T15:00:00+00:00"),
            ):
                s.add(
                    ClockEvent(
                        user_id=uid,
                        kind=kind,
                        at=pendulum.parse(at),
                        source=ClockSource.CLOCK,
                        recorded_by=uid,
                    )
                )

    office.db.write(punches)
    day = dt.date(2026, 11, 10)
    rep = office.db.read(lambda s: output_report(office.sup, s, day, day))
    assert "sue" not in {r.login for r in rep.rows}
    assert rep.team is not None and rep.team.worked_minutes == 120  # cleo's two hours only
    page = office.db.read(lambda s: drill(office.sup, s, "worked_minutes", day, day))
    assert [(cells[1], cells[2]) for _, cells in page.rows] == [("cleo", "2:00")]
    # Asked for by name, her hours are there.
    sue = office.db.read(lambda s: output_report(office.sup, s, day, day, "sue"))
    assert sue.rows[0].worked_minutes == 120
