"""Daily assignment services (docs/assignment.md): generation, priority, lists, plans, manual changes,
publish, the clerk's day, finishing, rights, version conflicts and the change marker."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from db import timeutil
from db.engine import Database
from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import (
    Assignment,
    AuditEntry,
    ClockKind,
    ServiceRendered,
    WorkItem,
    WorkKind,
    WorkOutcome,
    WorkStatus,
)
from db.rights import Actor
from scheduling import work_items as wi
from scheduling import work_plan as wp
from tests.conftest import Office
from tests.scheduling.assign_setup import TODAY, build_day
from tests.scheduling.factories_time import add_shift, local, punch, time_off

D = Decimal
TOMORROW = TODAY + dt.timedelta(days=1)


def gen(office: Office, day: dt.date = TODAY) -> wi.GenerationResult:
    return office.db.write(lambda s: wi.generate_items(office.sup, s, day))


def rows(office: Office, day: dt.date = TODAY, **kw: Any) -> list[wi.ItemRow]:
    return list(office.db.read(lambda s: wi.list_items(office.sup, s, day, limit=100, **kw)).rows)


def by_key(office: Office, day: dt.date = TODAY) -> dict[str, wi.ItemRow]:
    out = {}
    for r in rows(office, day):
        out[f"{r.kind.value}:{r.account_number}"] = r
    return out


def clerks(office: Office, day: dt.date = TODAY) -> dict[str, wp.ClerkLoad]:
    return {c.login: c for c in office.db.read(lambda s: wp.clerks_on_shift(office.sup, s, day))}


def auto(office: Office, day: dt.date = TODAY) -> tuple[wp.PlanPreview, wp.ApplyResult]:
    preview = office.db.read(lambda s: wp.preview_auto_assign(office.sup, s, day))
    applied = office.db.write(lambda s: wp.apply_plan(office.sup, s, preview))
    return preview, applied


def assignees(office: Office, day: dt.date = TODAY) -> dict[str, str | None]:
    return {k: r.assignee_login for k, r in by_key(office, day).items()}


# --------------------------------------------------------------------------- generation


def test_generation_finds_every_kind_with_exact_priorities(office: Office) -> None:
    build_day(office)
    res = gen(office)
    assert res.created == {
        WorkKind.BILL: 1,
        WorkKind.CHASE: 1,
        WorkKind.VERIFY: 1,
        WorkKind.INSTALLMENT: 1,
        WorkKind.DISPUTE: 1,
    }
    assert (res.carried, res.resolved, res.existing, res.excluded_agency) == (0, 0, 0, 1)
    items = by_key(office)
    assert sorted(items) == ["bill:A-1", "chase:A-2", "dispute:A-5", "installment:A-4", "verify:A-1"]
    # priority desc: chase, verify, dispute, installment, bill
    assert [r.kind.value for r in rows(office)] == ["chase", "verify", "dispute", "installment", "bill"]
    chase = items["chase:A-2"]
    assert chase.terms == wi.PriorityTerms(kind=50, age=0, amount=12, due=110, promise=150)
    assert chase.priority == 322
    assert chase.terms.explain() == "kind 50 + age 0 + amount 12 + due 110 + promise 150 = 322"
    assert (
        chase.summary
        == "S-2 30 days overdue, $300.00 open, Reminder due; promise of $100.00 by 2026-11-10 broken"
    )
    assert chase.needs == ("lang:es",)
    assert (chase.amount, chase.effort_minutes, chase.invoice_number) == (D("300.00"), 10, "S-2")
    bill = items["bill:A-1"]
    assert bill.terms == wi.PriorityTerms(kind=30, age=0, amount=10, due=0, promise=0)
    assert (bill.summary, bill.amount, bill.due_date) == (
        "2 unbilled services since 2026-11-10",
        D("250.00"),
        dt.date(2026, 11, 17),
    )
    assert bill.needs == ("insurer",)
    verify = items["verify:A-1"]
    assert verify.terms == wi.PriorityTerms(kind=20, age=0, amount=10, due=65, promise=0)
    assert verify.summary == "Acme Health: eligibility last checked 2026-10-01 (46 days)"
    assert items["installment:A-4"].terms == wi.PriorityTerms(kind=40, age=0, amount=3, due=20, promise=0)
    assert items["installment:A-4"].summary == "installment 1 of 3, $80.00 due today"
    dispute = items["dispute:A-5"]
    assert dispute.terms == wi.PriorityTerms(kind=60, age=0, amount=16, due=0, promise=0)
    assert (dispute.needs, dispute.effort_minutes, dispute.due_date) == (
        ("government",),
        20,
        dt.date(2026, 11, 18),
    )
    assert res.marker == 1


def test_generation_is_idempotent(office: Office) -> None:
    build_day(office)
    gen(office)
    again = gen(office)
    assert again.total_created == 0
    assert (again.existing, again.carried) == (5, 0)
    assert office.db.read(lambda s: s.scalar(sa.select(sa.func.count(WorkItem.id)))) == 5
    assert again.marker == 2


def test_priority_formula_caps_and_due_terms() -> None:
    t = wi.priority_terms(
        WorkKind.CHASE,
        TODAY,
        TODAY - dt.timedelta(days=30),
        D("999999.00"),
        TODAY - dt.timedelta(days=400),
        True,
    )
    assert t == wi.PriorityTerms(kind=50, age=150, amount=200, due=200, promise=150)
    assert t.total == 750
    t = wi.priority_terms(WorkKind.VERIFY, TODAY, TODAY, D("24.99"), TODAY + dt.timedelta(days=1), False)
    assert t == wi.PriorityTerms(kind=20, age=0, amount=0, due=0, promise=0)
    t = wi.priority_terms(WorkKind.BILL, TODAY, TODAY - dt.timedelta(days=2), D("50.00"), TODAY, False)
    assert t == wi.PriorityTerms(kind=30, age=30, amount=2, due=20, promise=0)


def test_unfinished_items_carry_over_with_their_age_and_resolved_ones_are_noted(office: Office) -> None:
    ids = build_day(office)
    gen(office)
    first = by_key(office)
    # Overnight the unbilled services of A-1 are billed: its bill and verify items are resolved.
    office.db.write(
        lambda s: s.execute(
            sa.update(ServiceRendered).where(ServiceRendered.client_id == ids["doe"]).values(billed=True)
        )
    )
    timeutil.freeze(local("2026-11-17 09:00"))
    res = gen(office, TOMORROW)
    assert (res.total_created, res.carried, res.resolved) == (0, 3, 2)
    items = by_key(office, TOMORROW)
    assert sorted(items) == ["chase:A-2", "dispute:A-5", "installment:A-4"]
    chase = items["chase:A-2"]
    assert chase.carried and chase.origin_day == TODAY and chase.age_days == 1
    # One day older: +15 age, +3 due; 31 days overdue
    assert chase.terms == wi.PriorityTerms(kind=50, age=15, amount=12, due=113, promise=150)
    assert chase.priority == first["chase:A-2"].priority + 18

    def old_states(s: sa.orm.Session) -> dict[str, tuple[str, str]]:
        q = sa.select(WorkItem.kind, WorkItem.status, WorkItem.note).where(WorkItem.day == TODAY)
        return {k.value: (st.value, note) for k, st, note in s.execute(q)}

    assert office.db.read(old_states) == {
        "bill": ("cancelled", "resolved before it was worked: no longer due on 2026-11-17"),
        "verify": ("cancelled", "resolved before it was worked: no longer due on 2026-11-17"),
        "chase": ("carried", ""),
        "installment": ("carried", ""),
        "dispute": ("carried", ""),
    }
    # and it is idempotent on the new day too
    assert gen(office, TOMORROW).total_created == 0
    assert (
        office.db.read(
            lambda s: s.scalar(sa.select(sa.func.count(WorkItem.id)).where(WorkItem.day == TOMORROW))
        )
        == 3
    )


def test_generation_refuses_bad_days_and_clerks(office: Office) -> None:
    build_day(office)
    with pytest.raises(ValidationError, match="9999-12-31 is more than 14 days after today"):
        gen(office, dt.date(9999, 12, 31))
    with pytest.raises(ValidationError, match="more than 7 days before today"):
        gen(office, dt.date(2026, 1, 1))
    with pytest.raises(PermissionDenied, match="may not assign work"):
        office.db.write(lambda s: wi.generate_items(office.clerk, s, TODAY))
    gen(office, TOMORROW)
    with pytest.raises(ValidationError, match="work for a later day \\(2026-11-17\\) exists already"):
        gen(office, TODAY)
    assert (
        office.db.read(lambda s: s.scalar(sa.select(sa.func.count(WorkItem.id)).where(WorkItem.day == TODAY)))
        == 0
    )


# --------------------------------------------------------------------------- lists


def test_list_pages_by_key_and_filters(office: Office) -> None:
    build_day(office)
    gen(office)

    def page(after: Any = None, **kw: Any) -> wi.ItemPage:
        return office.db.read(lambda s: wi.list_items(office.sup, s, TODAY, after=after, limit=2, **kw))

    p1 = page()
    assert [r.kind.value for r in p1.rows] == ["chase", "verify"] and p1.total == 5
    p2 = page(p1.next_after)
    assert [r.kind.value for r in p2.rows] == ["dispute", "installment"]
    p3 = page(p2.next_after)
    assert [r.kind.value for r in p3.rows] == ["bill"] and p3.next_after is None
    # other sorts walk every row once, in their order
    for sort, want in (
        (wi.ItemSort.AMOUNT, ["dispute", "chase", "bill", "verify", "installment"]),  # ties by id
        (wi.ItemSort.KIND, ["bill", "chase", "dispute", "installment", "verify"]),
        (wi.ItemSort.AGE, ["chase", "verify", "dispute", "installment", "bill"]),  # all new: by priority
    ):
        seen: list[str] = []
        after = None
        while True:
            p = page(after, sort=sort)
            seen += [r.kind.value for r in p.rows]
            after = p.next_after
            if after is None:
                break
        assert seen == want, sort
    assert [r.account_number for r in page(filter_text="garc").rows] == ["A-2"]
    assert [r.kind.value for r in page(filter_text="ver").rows] == ["verify"]
    assert page(filter_text="[Smith]%").rows == ()
    assert page(filter_text="a-1").total == 2
    assert page(assigned=wi.AssignedFilter.ASSIGNED).total == 0
    assert page(assigned=wi.AssignedFilter.UNASSIGNED).total == 5
    with pytest.raises(ValidationError, match="page key"):
        page(p1.next_after, sort=wi.ItemSort.KIND)


# --------------------------------------------------------------------------- clerks and plans


def test_clerks_on_shift_states_and_keys(office: Office) -> None:
    build_day(office, shifts=False)
    add_shift(
        office.db, office.clerk, TODAY, by=office.sup, code="E", start="08:00", minutes=480, unpaid_break=30
    )
    add_shift(
        office.db, office.clerk2, TODAY, by=office.sup, code="E", start="08:00", minutes=480, unpaid_break=30
    )
    add_shift(
        office.db, office.clerk3, TODAY, by=office.sup, code="E", start="08:00", minutes=480, unpaid_break=30
    )
    punch(office.db, office.clerk, ClockKind.IN, "2026-11-16 07:58")
    punch(office.db, office.clerk3, ClockKind.IN, "2026-11-16 08:01")
    punch(office.db, office.clerk3, ClockKind.OUT, "2026-11-16 09:30")
    cs = clerks(office)
    assert {k: (c.state, c.available, c.capacity_minutes, c.key) for k, c in cs.items()} == {
        "carl": ("absent", False, 450, "c"),  # started 08:00, no clock-in by 10:00
        "cleo": ("in", True, 450, "l"),
        "cora": ("left", False, 450, "o"),
    }
    assert cs["cleo"].shift_local == "08:00–16:00"
    # tomorrow nobody has a shift; a clerk with approved time off is absent
    add_shift(office.db, office.clerk, TOMORROW, by=office.sup, code="E")
    time_off(office.db, office.clerk, "2026-11-17", "2026-11-17", by=office.sup)
    assert {k: c.state for k, c in clerks(office, TOMORROW).items()} == {"cleo": "absent"}


def test_auto_assign_keeps_skills_capacity_and_owners(office: Office) -> None:
    build_day(office)
    gen(office)
    preview, applied = auto(office)
    assert assignees(office) == {
        "chase:A-2": "cleo",  # only cleo speaks Spanish (the owner, carl, does not)
        "verify:A-1": "cleo",  # owner
        "bill:A-1": "cleo",  # owner
        "dispute:A-5": "carl",  # government
        "installment:A-4": "cora",  # least loaded
    }
    assert preview.owner_kept_pct == 100.0
    assert [(m.item.kind.value, m.from_login, m.to_login) for m in preview.moves] == [
        ("chase", None, "cleo"),
        ("verify", None, "cleo"),
        ("dispute", None, "carl"),
        ("installment", None, "cora"),
        ("bill", None, "cleo"),
    ]
    assert [(lc.login, lc.capacity_minutes, lc.before_minutes, lc.after_minutes) for lc in preview.loads] == [
        ("carl", 20, 0, 20),
        ("cleo", 480, 0, 33),
        ("cora", 480, 0, 5),
    ]
    assert preview.unassigned == ()
    assert (applied.moved, applied.unassigned) == (5, 0)
    # Nothing is visible to clerks before publishing.
    assert office.db.read(lambda s: wi.my_day(office.clerk, s, TODAY)).items == ()
    status = office.db.read(lambda s: wi.day_status(office.sup, s, TODAY))
    assert (status.total, status.unassigned, status.assigned_open, status.published) == (5, 0, 5, False)
    assert status.undo is not None and status.undo.startswith("auto-assign at ")


def test_items_nobody_can_take_stay_unassigned_with_the_reason(office: Office) -> None:
    build_day(office, shifts=False)
    add_shift(office.db, office.clerk3, TODAY, by=office.sup, code="D", start="12:00", minutes=480)
    gen(office)
    preview, _ = auto(office)
    assert {u.item.kind.value: u.reason for u in preview.unassigned} == {
        "chase": "nobody on shift has the skill lang:es",
        "verify": "nobody on shift has the skill insurer",
        "dispute": "nobody on shift has the skill government",
        "bill": "nobody on shift has the skill insurer",
    }
    assert assignees(office)["installment:A-4"] == "cora"


def test_manual_moves_are_kept_by_a_replan_and_over_capacity_is_a_warning(office: Office) -> None:
    build_day(office)
    gen(office)
    auto(office)
    items = by_key(office)
    inst = items["installment:A-4"]
    res = office.db.write(
        lambda s: wp.assign_items(office.sup, s, TODAY, [(inst.id, inst.version)], office.clerk2.user_id)
    )
    assert res.warnings == ("carl is over capacity: 25 of 20 min",)
    assert res.items[0].manual and res.items[0].assignee_login == "carl"
    preview, _ = auto(office)
    assert preview.kept_manual == 1
    assert assignees(office)["installment:A-4"] == "carl"
    # the plan itself never overfills: carl's manual item leaves no room for the dispute
    assert [(u.item.kind.value, u.reason) for u in preview.unassigned] == [
        ("dispute", "no clerk with government has 20 min left today")
    ]
    # skills are hard for manual moves too; nothing changes
    dispute = by_key(office)["dispute:A-5"]
    with pytest.raises(ValidationError, match="cora lacks government needed for Gov, Gail \\(dispute\\)"):
        office.db.write(
            lambda s: wp.assign_items(
                office.sup, s, TODAY, [(dispute.id, dispute.version)], office.clerk3.user_id
            )
        )
    assert assignees(office)["dispute:A-5"] is None


def test_unassign_and_stale_versions(office: Office) -> None:
    build_day(office)
    gen(office)
    auto(office)
    bill = by_key(office)["bill:A-1"]
    office.db.write(lambda s: wp.unassign_items(office.sup, s, TODAY, [(bill.id, bill.version)]))
    assert assignees(office)["bill:A-1"] is None
    with pytest.raises(ConflictError, match=r"Doe, Jane \(bill\) was unassigned meanwhile: reload."):
        office.db.write(
            lambda s: wp.assign_items(office.sup, s, TODAY, [(bill.id, bill.version)], office.clerk.user_id)
        )
    with pytest.raises(ValidationError, match="Select at least one item"):
        office.db.write(lambda s: wp.unassign_items(office.sup, s, TODAY, []))


def test_an_absent_or_off_shift_clerk_cannot_be_given_work(office: Office) -> None:
    build_day(office)
    gen(office)
    item = by_key(office)["installment:A-4"]
    with pytest.raises(ValidationError, match="sam has no published shift on 2026-11-16"):
        office.db.write(
            lambda s: wp.assign_items(office.sup, s, TODAY, [(item.id, item.version)], office.sup.user_id)
        )
    office.db.write(lambda s: wp.set_away(office.sup, s, TODAY, office.clerk3.user_id, True))
    with pytest.raises(ValidationError, match="cora cannot take work on 2026-11-16: away"):
        office.db.write(
            lambda s: wp.assign_items(office.sup, s, TODAY, [(item.id, item.version)], office.clerk3.user_id)
        )


def test_rebalance_moves_an_absent_clerks_open_items_to_skilled_clerks(office: Office) -> None:
    build_day(office)
    gen(office)
    auto(office)
    office.db.write(lambda s: wp.publish_day(office.sup, s, TODAY))
    # cleo finishes the verify item, then leaves: her other two items move.
    verify = by_key(office)["verify:A-1"]
    office.db.write(lambda s: wi.finish_item(office.clerk, s, verify.id, verify.version, "done"))
    # give cora the skills so the items have somewhere to go
    office.db.write(lambda s: _skills(s, office.clerk3, ["other", "insurer", "lang:es"]))
    preview = office.db.read(lambda s: wp.preview_rebalance(office.sup, s, TODAY, office.clerk.user_id))
    assert sorted((m.item.kind.value, m.from_login, m.to_login) for m in preview.moves) == [
        ("bill", "cleo", "cora"),
        ("chase", "cleo", "cora"),
    ]
    res = office.db.write(lambda s: wp.apply_plan(office.sup, s, preview))
    assert (res.moved, res.unassigned) == (2, 0)
    got = assignees(office)
    assert (got["bill:A-1"], got["chase:A-2"], got["verify:A-1"]) == ("cora", "cora", "cleo")
    assert clerks(office)["cleo"].state == "away"
    # the clerk's list follows at once (published day)
    assert [r.kind.value for r in office.db.read(lambda s: wi.my_day(office.clerk3, s, TODAY)).items] == [
        "chase",
        "installment",
        "bill",
    ]
    # a re-plan never gives cleo anything now
    auto(office)
    assert [k for k, v in assignees(office).items() if v == "cleo"] == ["verify:A-1"]
    # until she is back
    back = office.db.write(lambda s: wp.set_away(office.sup, s, TODAY, office.clerk.user_id, False))
    assert (back.state, back.available, back.done_minutes) == ("scheduled", True, 8)


def _skills(s: sa.orm.Session, actor: Actor, skills: list[str]) -> None:
    from db.models import User

    u = s.get(User, actor.user_id)
    assert u is not None
    u.skills = skills


def test_undo_reverts_the_last_plan_but_not_later_changes(office: Office) -> None:
    build_day(office)
    gen(office)
    auto(office)
    office.db.write(lambda s: wp.publish_day(office.sup, s, TODAY))
    chase = by_key(office)["chase:A-2"]
    office.db.write(lambda s: wi.finish_item(office.clerk, s, chase.id, chase.version, "no_answer"))
    res = office.db.write(lambda s: wp.undo_last_plan(office.sup, s, TODAY))
    assert (res.moved, res.unassigned) == (0, 4)
    assert res.skipped == ("Garcia, Luis (chase) was already finished (no answer) by cleo: reload.",)
    assert assignees(office) == {
        "chase:A-2": "cleo",
        "verify:A-1": None,
        "bill:A-1": None,
        "dispute:A-5": None,
        "installment:A-4": None,
    }
    with pytest.raises(NotFound, match="Nothing to undo"):
        office.db.write(lambda s: wp.undo_last_plan(office.sup, s, TODAY))


def test_a_stale_preview_is_refused(office: Office) -> None:
    build_day(office)
    gen(office)
    preview = office.db.read(lambda s: wp.preview_auto_assign(office.sup, s, TODAY))
    bill = by_key(office)["bill:A-1"]
    office.db.write(
        lambda s: wp.assign_items(office.sup, s, TODAY, [(bill.id, bill.version)], office.clerk.user_id)
    )
    with pytest.raises(ConflictError, match="Preview the plan again"):
        office.db.write(lambda s: wp.apply_plan(office.sup, s, preview))
    assert sum(1 for v in assignees(office).values() if v) == 1


# --------------------------------------------------------------------------- the clerk's day


def test_my_day_progress_and_finishing(office: Office) -> None:
    build_day(office)
    gen(office)
    auto(office)
    pub = office.db.write(lambda s: wp.publish_day(office.sup, s, TODAY))
    assert (pub.assigned, pub.unassigned, pub.clerks) == (5, 0, 3)
    day = office.db.read(lambda s: wi.my_day(office.clerk, s))
    assert [r.kind.value for r in day.items] == ["chase", "verify", "bill"]
    assert (day.done, day.total, day.done_minutes, day.total_minutes, day.published) == (0, 3, 0, 33, True)
    chase = day.items[0]
    done = office.db.write(
        lambda s: wi.finish_item(office.clerk, s, chase.id, chase.version, "promise_to_pay", "pays Friday")
    )
    assert (done.outcome, done.outcome_note, done.status, done.finished_at_local) == (
        WorkOutcome.PROMISE_TO_PAY,
        "pays Friday",
        WorkStatus.DONE,
        "10:00",
    )
    day = office.db.read(lambda s: wi.my_day(office.clerk, s))
    assert [r.kind.value for r in day.items] == ["verify", "bill", "chase"]  # finished last
    assert (day.done, day.total, day.done_minutes, day.total_minutes) == (1, 3, 10, 33)
    # skipped needs a reason; unknown outcomes are refused; nothing changes
    bill = day.items[1]
    with pytest.raises(ValidationError, match="note: say why the item is skipped"):
        office.db.write(lambda s: wi.finish_item(office.clerk, s, bill.id, bill.version, "skipped", "  "))
    with pytest.raises(ValidationError, match="unknown outcome '1e309'"):
        office.db.write(lambda s: wi.finish_item(office.clerk, s, bill.id, bill.version, "1e309"))
    assert office.db.read(lambda s: wi.get_item(office.sup, s, bill.id)).outcome is None
    # a clerk cannot finish another clerk's item
    dispute = by_key(office)["dispute:A-5"]
    with pytest.raises(PermissionDenied, match="cleo may not finish another clerk's item"):
        office.db.write(lambda s: wi.finish_item(office.clerk, s, dispute.id, dispute.version, "done"))
    # nor look at another clerk's list
    with pytest.raises(PermissionDenied):
        office.db.read(lambda s: wi.my_day(office.clerk, s, TODAY, office.clerk2.user_id))
    # finished items cannot move
    chase_now = by_key(office)["chase:A-2"]
    with pytest.raises(ValidationError, match="is finished; it cannot move"):
        office.db.write(
            lambda s: wp.assign_items(
                office.sup, s, TODAY, [(chase_now.id, chase_now.version)], office.clerk3.user_id
            )
        )
    # reopen by mistake
    back = office.db.write(lambda s: wi.reopen_item(office.clerk, s, chase_now.id, chase_now.version))
    assert back.outcome is None and back.status == WorkStatus.OPEN


def test_every_change_bumps_the_marker_and_is_audited(office: Office) -> None:
    build_day(office)
    marker = lambda: office.db.read(lambda s: wi.change_marker(office.clerk, s, TODAY))  # noqa: E731
    assert marker() == 0
    gen(office)
    assert marker() == 1
    auto(office)
    assert marker() == 2
    office.db.write(lambda s: wp.publish_day(office.sup, s, TODAY))
    assert marker() == 3
    item = office.db.read(lambda s: wi.my_day(office.clerk, s)).items[0]
    office.db.write(lambda s: wi.finish_item(office.clerk, s, item.id, item.version, "done"))
    assert marker() == 4
    actions = office.db.read(
        lambda s: [
            a
            for (a,) in s.execute(
                sa.select(AuditEntry.action)
                .where(AuditEntry.entity.in_(("work_day", "work_item")))
                .order_by(AuditEntry.id)
            )
        ]
    )
    assert actions == ["generate", "auto_assign", "publish", "finish"]


# --------------------------------------------------------------------------- concurrency


def _race(db_url: str, fns: list[Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(len(fns))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(fn: Any) -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            r = db.write(fn)
            with lock:
                results.append(r)
        except BaseException as e:  # collected and asserted on below
            with lock:
                errors.append(e)
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


@pytest.mark.slow
def test_concurrent_move_and_finish_of_one_item_lose_nothing(
    office: Office, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_day(office)
    gen(office)
    auto(office)
    office.db.write(lambda s: wp.publish_day(office.sup, s, TODAY))
    office.db.write(lambda s: _skills(s, office.clerk3, ["other", "insurer", "lang:es"]))
    item = by_key(office)["chase:A-2"]
    real = wi.bump_item

    def slow(*a: Any, **kw: Any) -> bool:
        time.sleep(0.05)  # both transactions have read the item before either writes
        return real(*a, **kw)

    monkeypatch.setattr(wi, "bump_item", slow)
    monkeypatch.setattr(wp, "bump_item", slow)
    move = lambda s: wp.assign_items(office.sup, s, TODAY, [(item.id, item.version)], office.clerk3.user_id)  # noqa: E731
    finish = lambda s: wi.finish_item(office.clerk, s, item.id, item.version, "done")  # noqa: E731
    results, errors = _race(db_url, [move, finish])
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ConflictError)
    now_row = by_key(office)["chase:A-2"]
    if isinstance(results[0], wp.AssignResult):  # the move won: not finished, with cora
        assert str(errors[0]) == "Garcia, Luis (chase) was changed meanwhile and is now with cora: reload."
        assert (now_row.assignee_login, now_row.outcome) == ("cora", None)
    else:  # the finish won: done by cleo, not moved
        assert str(errors[0]) == "Garcia, Luis (chase) was already finished (done) by cleo: reload."
        assert (now_row.assignee_login, now_row.outcome) == ("cleo", WorkOutcome.DONE)
    assert now_row.version == item.version + 1
    assert (
        office.db.read(
            lambda s: s.scalar(
                sa.select(sa.func.count(Assignment.id)).where(Assignment.work_item_id == item.id)
            )
        )
        == 1
    )


def test_a_deactivated_clerk_gets_nothing(office: Office) -> None:
    build_day(office)
    gen(office)

    def deactivate(s: sa.orm.Session) -> None:
        from db.models import User

        u = s.get(User, office.clerk3.user_id)
        assert u is not None
        u.active = False

    office.db.write(deactivate)
    cora = clerks(office)["cora"]
    assert (cora.state, cora.available) == ("inactive", False)
    preview, _ = auto(office)
    assert "cora" not in set(assignees(office).values())
    assert assignees(office)["installment:A-4"] == "cleo"
    assert [lc.after_minutes for lc in preview.loads if lc.login == "cora"] == [0]
