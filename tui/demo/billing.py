"""Demo billing: payers of every kind, the HCPCS catalog, ~400 clients, coverage, eight weeks
of services billed and issued, and today's work (unbilled services, a stale check, a missing
crosswalk entry, a client without an address).

History is written through the real services with the program clock set to each past billing
day (so issue dates, due dates and eligibility ages are what they would have been), then the
clock is put back. Hands over in ``ctx.data``:

* ``payer_ids``: payer name → id
* ``client_ids``: every demo client id
* ``issued_invoice_ids``: issued invoices and statements (not void, not credit notes), oldest first
* ``statement_ids``: the issued client statements among them
* ``unbilled_client_ids``: clients with services waiting to be billed (today's, and those a
  void or a full credit in the history gave back)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import catalog, clients, coverage, imports, invoices, services
from db import timeutil
from db.models import BillTo, Channel, CoverageRank, EligibilityResult, PayerKind, User
from db.money import to_money
from db.rights import Actor
from tui.demo.context import DemoContext

WEEKS = 8
CLIENTS = 400

# name, kind, terms, crosswalk: None (standard codes at the catalog fee) or (allowed % of fee, code prefix)
PAYERS: list[tuple[str, PayerKind, int, tuple[int, str] | None, str]] = [
    ("Bluewater Health Plan", PayerKind.INSURER, 30, (85, ""), "PO Box 4410, Hartford, CT 06101"),
    ("Summit Mutual Insurance", PayerKind.INSURER, 30, None, "77 Summit Avenue, Albany, NY 12207"),
    ("Harborview Care Alliance", PayerKind.INSURER, 45, (90, "HV-"), "1 Harbor Plaza, Boston, MA 02110"),
    ("Pioneer Benefit Insurance", PayerKind.INSURER, 30, (80, ""), "PO Box 902, Worcester, MA 01601"),
    (
        "Senior Health Program (fictional)",
        PayerKind.GOVERNMENT,
        30,
        (70, ""),
        "Claims Unit, 200 State Street, Boston, MA 02109",
    ),
    (
        "Medical Assistance Program (fictional)",
        PayerKind.GOVERNMENT,
        45,
        (65, ""),
        "Claims Unit, 600 Washington Street, Boston, MA 02111",
    ),
    (
        "Northgate Logistics Employee Health",
        PayerKind.EMPLOYER,
        30,
        None,
        "Benefits Office, 15 Depot Road, Chicopee, MA 01020",
    ),
    (
        "Valley Schools Staff Benefit Plan",
        PayerKind.EMPLOYER,
        60,
        None,
        "Human Resources, 9 College Street, Holyoke, MA 01040",
    ),
    ("St. Brigid Community Care Fund", PayerKind.OTHER, 60, None, "44 Chapel Street, Springfield, MA 01103"),
]
SECONDARY_PAYERS = ("Medical Assistance Program (fictional)", "St. Brigid Community Care Fund")
UNMAPPED = ("Harborview Care Alliance", "S9446")  # today's work shows the "code mapped" check

# code, weight, units range (per 15 minutes, per mile, per mg, …)
SERVICE_MIX: list[tuple[str, int, tuple[int, int]]] = [
    ("G0008", 14, (1, 1)),
    ("G0009", 5, (1, 1)),
    ("G0010", 3, (1, 1)),
    ("T1015", 14, (1, 1)),
    ("T1013", 8, (2, 6)),
    ("H0004", 6, (2, 4)),
    ("H0001", 2, (1, 1)),
    ("G0439", 6, (1, 1)),
    ("G0438", 2, (1, 1)),
    ("J1100", 4, (4, 10)),
    ("J3420", 4, (1, 1)),
    ("J1885", 3, (1, 2)),
    ("J0696", 2, (1, 4)),
    ("A0428", 3, (1, 1)),
    ("A0425", 3, (4, 28)),
    ("A0429", 1, (1, 1)),
    ("E0114", 2, (1, 1)),
    ("E0143", 1, (1, 1)),
    ("E0100", 2, (1, 1)),
    ("A4253", 3, (1, 2)),
    ("A4259", 2, (1, 1)),
    ("S9443", 2, (1, 1)),
    ("S9442", 1, (1, 1)),
    ("S9445", 2, (1, 1)),
    ("T2003", 3, (1, 2)),
    ("Q0091", 2, (1, 1)),
    ("V2020", 1, (1, 1)),
    ("V2100", 1, (2, 2)),
]

FIRST = {
    "en": "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Susan Richard "
    "Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Donald Ashley "
    "Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kevin Carol Brian Amanda George Melissa "
    "Timothy Deborah Ronald Stephanie Jason Rebecca Edward Laura Jeffrey Helen Ryan Sharon".split(),
    "es": "José María Juan Guadalupe Luis Carmen Carlos Rosa Jorge Ana Miguel Lucía Pedro Isabel Alejandro "
    "Sofía Francisco Valentina Manuel Camila Javier Elena Ramón Dolores Andrés Pilar".split(),
    "vi": "Anh Bảo Châu Dũng Hương Hùng Lan Linh Minh Ngọc Phương Quang Thảo Thanh Trung Tuấn Vy Đức".split(),
    "zh": "Wei Fang Jing Lei Min Jun Yan Hui Xiu Qiang Ling Ming Tao Xin Yong Hong Chen Li".split(),
}
LAST = {
    "en": "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin "
    "Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green "
    "Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins "
    "O'Brien Murphy Sullivan Kowalski Nowak Okafor Mensah Haddad Khan Patel Cohen Rossi".split(),
    "es": "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores Rivera "
    "Gómez Díaz Cruz Morales Reyes Ortiz Gutiérrez Chávez Ramos Vargas Castillo Jiménez Núñez".split(),
    "vi": "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split(),
    "zh": "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Zheng".split(),
}
LANG_WEIGHTS = [("en", 62), ("es", 20), ("vi", 9), ("zh", 9)]
STREETS = (
    "Main Street",
    "State Street",
    "Maple Avenue",
    "Chestnut Street",
    "Dwight Street",
    "Sumner Avenue",
    "Boston Road",
    "Carew Street",
    "Liberty Street",
    "Allen Street",
    "Wilbraham Road",
    "Belmont Avenue",
    "Plainfield Street",
    "Page Boulevard",
)
TOWNS = (
    ("Springfield", "01103"),
    ("Springfield", "01108"),
    ("Springfield", "01109"),
    ("Chicopee", "01013"),
    ("Holyoke", "01040"),
    ("West Springfield", "01089"),
    ("Agawam", "01001"),
    ("Ludlow", "01056"),
    ("Westfield", "01085"),
)
AREA_CODES = ("413", "413", "413", "774", "508", "617")


@dataclass
class _Plan:
    """What the demo decided for one client."""

    client_id: int
    owner: Actor
    lang: str
    coverage_ids: list[int]
    payer_names: list[str]
    has_address: bool = True


def _weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


@contextlib.contextmanager
def _clock_at(ctx: DemoContext, day: dt.date, hour: int = 16) -> Iterator[None]:
    """Run with the program clock at ``hour`` o'clock office time on ``day``, then restore it."""
    previous = timeutil._frozen  # tests freeze the clock; put back exactly what was there
    timeutil.freeze(timeutil.local_instant(day, dt.time(hour, 0), ctx.tz))
    try:
        yield
    finally:
        timeutil.freeze(previous)


def _owner_for(rng: random.Random, lang: str, clerks: list[Actor], by_skill: dict[str, list[Actor]]) -> Actor:
    speakers = by_skill.get(f"lang:{lang}", [])
    if speakers and rng.random() < 0.8:
        return rng.choice(speakers)
    return rng.choice(clerks)


def build_billing(ctx: DemoContext) -> None:
    rng = ctx.rng_for("billing")
    sup = ctx.supervisor
    today = ctx.today
    start = today - dt.timedelta(days=7 * WEEKS + 14)
    skills = ctx.db.read(lambda s: _skills(s, [c.user_id for c in ctx.clerks]))
    by_skill: dict[str, list[Actor]] = {}
    for clerk in ctx.clerks:
        for skill in skills.get(clerk.user_id, ()):
            by_skill.setdefault(skill, []).append(clerk)

    # ---------------------------------------------------------------- catalog and payers
    with _clock_at(ctx, start, 9):
        payer_ids = ctx.write(sup, lambda a, s: _catalog(a, s))
    ctx.data["payer_ids"] = payer_ids

    # ---------------------------------------------------------------- clients and coverage
    plans: list[_Plan] = []
    last_check: dict[int, dt.date] = {}  # coverage id → day of its latest eligibility check
    names_seen: set[tuple[str, str]] = set()
    people: list[dict[str, object]] = []
    for i in range(CLIENTS):
        lang = _weighted(rng, LANG_WEIGHTS)
        while True:
            first, last = rng.choice(FIRST[lang]), rng.choice(LAST[lang])
            if (first, last) not in names_seen or rng.random() < 0.02:
                break
        names_seen.add((first, last))
        if i == 17:
            first, last = "Alex", "[Smith]"  # brackets: catches markup bugs in screens
        town, postal = rng.choice(TOWNS)
        people.append(
            {
                "first_name": first,
                "last_name": last,
                "date_of_birth": dt.date(rng.randint(1938, 2021), rng.randint(1, 12), rng.randint(1, 28)),
                "address_line1": f"{rng.randint(3, 1999)} {rng.choice(STREETS)}",
                "address_line2": rng.choice(["", "", "", "", f"Apt {rng.randint(1, 40)}"]),
                "city": town,
                "region": "MA",
                "postal_code": postal,
                "phone": f"{rng.choice(AREA_CODES)}-555-01{rng.randint(0, 99):02d}",
                "email": (
                    f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@example.com".replace(" ", "")
                    if rng.random() < 0.55 and first.isascii() and last.isalpha() and last.isascii()
                    else ""
                ),
                "preferred_channel": rng.choice(
                    [Channel.PHONE] * 5 + [Channel.EMAIL] * 2 + [Channel.LETTER, Channel.SMS]
                ),
                "language": lang,
                "special_concerns": rng.choice(
                    [""] * 12
                    + ["Hard of hearing: prefers letters", "Needs an interpreter", "Call after 5 pm"]
                ),
            }
        )
    insurers = [p[0] for p in PAYERS if p[1] == PayerKind.INSURER]
    government = [p[0] for p in PAYERS if p[1] == PayerKind.GOVERNMENT]
    employers = [p[0] for p in PAYERS if p[1] == PayerKind.EMPLOYER]
    for chunk_start in range(0, CLIENTS, 100):
        chunk = people[chunk_start : chunk_start + 100]
        choices = []
        for p in chunk:
            owner = _owner_for(rng, str(p["language"]), ctx.clerks, by_skill)
            roll = rng.random()
            if roll < 0.22:
                cov_names: list[str] = []
            else:
                dob = p["date_of_birth"]
                assert isinstance(dob, dt.date)
                senior = (today.year - dob.year) >= 65
                if senior and rng.random() < 0.8:
                    primary = government[0]
                elif rng.random() < 0.15:
                    primary = government[1]
                elif rng.random() < 0.2:
                    primary = rng.choice(employers)
                elif rng.random() < 0.06:
                    primary = SECONDARY_PAYERS[1]  # the charity fund carries a few uninsured clients
                else:
                    primary = rng.choice(insurers)
                cov_names = [primary]
                if rng.random() < 0.16:
                    second = rng.choice([n for n in SECONDARY_PAYERS if n != primary])
                    cov_names.append(second)
            choices.append((owner, cov_names))
        reg_day = start + dt.timedelta(days=1 + chunk_start // 100)
        with _clock_at(ctx, reg_day, 10):
            made = ctx.write(
                sup,
                lambda a, s, chunk=chunk, choices=choices, day=reg_day: _register(
                    a, s, rng, chunk, choices, payer_ids, start, day, last_check
                ),
            )
        plans.extend(made)
    ctx.data["client_ids"] = [p.client_id for p in plans]

    # ---------------------------------------------------------------- eight weeks of services and bills
    issued: list[int] = []
    statements: list[int] = []
    mix = [(c, w) for c, w, _ in SERVICE_MIX]
    units_for = {c: u for c, _, u in SERVICE_MIX}
    week0 = today - dt.timedelta(days=today.weekday())  # this Monday
    for k in range(WEEKS, 0, -1):
        monday = week0 - dt.timedelta(days=7 * k)
        billing_day = monday + dt.timedelta(days=4)  # bills go out on Fridays
        week_clients = rng.sample(plans, k=rng.randint(30, 38))
        work: list[tuple[_Plan, list[tuple[dt.date, str, int]]]] = []
        for plan in week_clients:
            visits = []
            for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                code = _weighted(rng, mix)
                if plan.payer_names and (plan.payer_names[0], code) == UNMAPPED:
                    code = "G0008"
                lo, hi = units_for[code]
                visits.append((monday + dt.timedelta(days=rng.randint(0, 4)), code, rng.randint(lo, hi)))
            # One record per code and day (the accuracy checks refuse a code entered twice on a day).
            once: dict[tuple[dt.date, str], tuple[dt.date, str, int]] = {}
            for v in visits:
                once.setdefault((v[0], v[1]), v)
            work.append((plan, list(once.values())))
        with _clock_at(ctx, billing_day):
            for batch in range(0, len(work), 40):
                part = work[batch : batch + 40]
                got = ctx.write(
                    sup, lambda a, s, part=part, day=billing_day: _bill_week(s, part, day, last_check, rng)
                )
                issued.extend(got[0])
                statements.extend(got[1])

    # A correction and a void in the history, as an office would have.
    with _clock_at(ctx, week0 - dt.timedelta(days=10), 11):
        fixed = ctx.write(sup, lambda a, s: _corrections(a, s, issued))
    for iid in fixed:
        if iid in issued:
            issued.remove(iid)
        if iid in statements:
            statements.remove(iid)

    # ---------------------------------------------------------------- today's work
    waiting = [p for p in plans if p.has_address]
    rng.shuffle(waiting)
    today_clients = waiting[:28]
    with _clock_at(ctx, today, 9):
        unbilled = ctx.write(
            sup, lambda a, s: _todays_work(a, s, rng, today_clients, plans, last_check, today)
        )
    ctx.data["issued_invoice_ids"] = issued
    ctx.data["statement_ids"] = statements
    # Today's services, plus the services a void or a full credit in the history gave back.
    rebill = ctx.db.read(
        lambda s: [r.client_id for r in services.clients_with_unbilled(sup, s, limit=1000).rows]
    )
    ctx.data["unbilled_client_ids"] = sorted(set(unbilled) | set(rebill))


def _skills(s: Session, user_ids: list[int]) -> dict[int, list[str]]:
    return {u.id: list(u.skills or ()) for u in s.scalars(sa.select(User).where(User.id.in_(user_ids)))}


def _catalog(actor: Actor, s: Session) -> dict[str, int]:
    with resources.as_file(resources.files("billing.data") / "hcpcs_demo.csv") as path:
        imports.import_codes(actor, s, path)
    codes = catalog.list_codes(actor, s, limit=1000, include_inactive=False).rows
    ids: dict[str, int] = {}
    for n, (name, kind, terms, walk, address) in enumerate(PAYERS, start=1):
        payer = catalog.add_payer(
            actor,
            s,
            name=name,
            kind=kind,
            terms_days=terms,
            payer_ref=f"DEMO{n:03d}",
            address=address,
            phone=f"(800) 555-01{n:02d}",
        )
        ids[name] = payer.id
        if walk is None:
            continue
        pct, prefix = walk
        for code in codes:
            if (name, code.code) == UNMAPPED:
                continue
            allowed = to_money(code.fee * pct / 100)
            catalog.set_crosswalk(
                actor, s, payer.id, code.code, payer_code=f"{prefix}{code.code}", allowed_amount=allowed
            )
    return ids


def _register(
    actor: Actor,
    s: Session,
    rng: random.Random,
    chunk: list[dict[str, object]],
    choices: list[tuple[Actor, list[str]]],
    payer_ids: dict[str, int],
    start: dt.date,
    reg_day: dt.date,
    last_check: dict[int, dt.date],
) -> list[_Plan]:
    out = []
    for person, (owner, cov_names) in zip(chunk, choices, strict=True):
        view = clients.register_client(owner, s, allow_duplicate=True, **person)  # type: ignore[arg-type]  # a generated person: a dict of register_client's keywords
        cov_ids = []
        for rank, name in zip((CoverageRank.PRIMARY, CoverageRank.SECONDARY), cov_names, strict=False):
            kind = next(p[1] for p in PAYERS if p[0] == name)
            deductible = (
                Decimal(rng.choice([0, 0, 250, 500, 1000])) if kind != PayerKind.OTHER else Decimal(0)
            )
            cov = coverage.add_coverage(
                owner,
                s,
                view.id,
                payer_id=payer_ids[name],
                rank=rank,
                member_id=f"{name[:2].upper()}{rng.randint(10_000_000, 99_999_999)}",
                group_number=f"G{rng.randint(1000, 9999)}"
                if kind in (PayerKind.INSURER, PayerKind.EMPLOYER)
                else "",
                effective_from=start - dt.timedelta(days=rng.randint(30, 2000)),
                copay=Decimal(rng.choice([0, 10, 15, 20, 25, 40]))
                if rank == CoverageRank.PRIMARY
                else Decimal(0),
                coinsurance_percent=rng.choice([0, 10, 20, 20, 30]) if kind != PayerKind.OTHER else 0,
                deductible=deductible,
                deductible_remaining=(deductible * rng.choice([0, 1, 1, 2, 4]) / 4).quantize(Decimal("0.01")),
            )
            cov_ids.append(cov.id)
            if rng.random() < 0.85:  # verified at registration; the rest still wait for a check
                coverage.record_eligibility_check(
                    owner,
                    s,
                    cov.id,
                    result=EligibilityResult.ELIGIBLE,
                    checked_on=reg_day,
                    notes="At registration",
                )
                last_check[cov.id] = reg_day
        out.append(_Plan(view.id, owner, str(person["language"]), cov_ids, cov_names))
    return out


def _check_eligibility(
    owner: Actor, s: Session, plan: _Plan, day: dt.date, last_check: dict[int, dt.date], rng: random.Random
) -> None:
    for cov_id in plan.coverage_ids:
        seen = last_check.get(cov_id)
        if seen is None or (day - seen).days > 24:
            checked = day - dt.timedelta(days=rng.randint(0, 3))
            coverage.record_eligibility_check(
                owner,
                s,
                cov_id,
                result=EligibilityResult.ELIGIBLE,
                checked_on=checked,
                covered_services="Outpatient services, DME, vaccines, transport",
                notes=rng.choice(
                    ["Payer portal", "Phone, rep confirmed", "Payer portal", "270/271 response"]
                ),
            )
            last_check[cov_id] = checked


def _bill_week(
    s: Session,
    part: list[tuple[_Plan, list[tuple[dt.date, str, int]]]],
    billing_day: dt.date,
    last_check: dict[int, dt.date],
    rng: random.Random,
) -> tuple[list[int], list[int]]:
    issued: list[int] = []
    statements: list[int] = []
    for plan, visits in part:
        owner = plan.owner
        for day, code, units in sorted(visits):
            services.record_service(owner, s, plan.client_id, service_date=day, code=code, units=units)
        _check_eligibility(owner, s, plan, billing_day, last_check, rng)
        built = invoices.build_invoices(owner, s, plan.client_id)
        for view in invoices.issue_drafts(owner, s, [d.id for d in built.drafts]):
            issued.append(view.id)
            if view.bill_to == BillTo.CLIENT:
                statements.append(view.id)
    return issued, statements


def _corrections(actor: Actor, s: Session, issued: list[int]) -> list[int]:
    """Void one payer invoice and credit one statement in full (both then rebilled later)."""
    changed: list[int] = []
    payer_inv = next(iid for iid in issued[5:] if invoices.get_invoice(actor, s, iid).bill_to == BillTo.PAYER)
    invoices.void_invoice(actor, s, payer_inv, reason="Billed to the wrong payer: client changed plans")
    changed.append(payer_inv)
    stmt = next(iid for iid in issued[12:] if invoices.get_invoice(actor, s, iid).bill_to == BillTo.CLIENT)
    invoices.credit_invoice(actor, s, stmt, reason="Copay collected at the front desk")
    changed.append(stmt)
    return changed


def _todays_work(
    actor: Actor,
    s: Session,
    rng: random.Random,
    chosen: list[_Plan],
    plans: list[_Plan],
    last_check: dict[int, dt.date],
    now_day: dt.date,
) -> list[int]:
    """Unbilled services from the last few days for the clerks to bill today."""
    ids: list[int] = []
    mix = [(c, w) for c, w, _ in SERVICE_MIX]
    units_for = {c: u for c, _, u in SERVICE_MIX}
    for plan in chosen:
        # Most of today's clients were verified this week; the stale ones below were not.
        _check_eligibility(
            plan.owner, s, plan, now_day - dt.timedelta(days=rng.randint(0, 3)), last_check, rng
        )
        seen: set[tuple[dt.date, str]] = set()
        for _ in range(rng.choice([1, 1, 2])):
            code = _weighted(rng, mix)
            lo, hi = units_for[code]
            day, units = now_day - dt.timedelta(days=rng.randint(0, 3)), rng.randint(lo, hi)
            if (day, code) in seen:
                continue  # one record per code and day, as the accuracy checks want
            seen.add((day, code))
            services.record_service(plan.owner, s, plan.client_id, service_date=day, code=code, units=units)
        ids.append(plan.client_id)
    # A Harborview client with a code Harborview has not mapped: "code mapped" fails until a
    # supervisor adds the crosswalk entry.
    hv = next((p for p in plans if p.payer_names[:1] == [UNMAPPED[0]] and p.client_id not in ids), None)
    if hv is not None:
        services.record_service(hv.owner, s, hv.client_id, service_date=now_day, code=UNMAPPED[1], units=1)
        ids.append(hv.client_id)
    # A client whose address is missing: the statement check says so.
    nowhere = next(p for p in plans if not p.payer_names and p.client_id not in ids)
    view = clients.get_client(actor, s, nowhere.client_id)
    clients.edit_client(
        nowhere.owner,
        s,
        nowhere.client_id,
        expected_version=view.version,
        changes={"address_line1": "", "address_line2": "", "city": "", "postal_code": ""},
    )
    nowhere.has_address = False
    services.record_service(nowhere.owner, s, nowhere.client_id, service_date=now_day, code="T1015", units=1)
    ids.append(nowhere.client_id)
    # Two insured clients whose last check is stale: one blocks billing until someone checks,
    # the other a supervisor let through (portal down) with a reason.
    stale = [
        p
        for p in plans
        if p.coverage_ids
        and p.client_id not in ids
        and all(c in last_check and (now_day - last_check[c]).days > 30 for c in p.coverage_ids)
    ]
    rng.shuffle(stale)
    for plan in stale[:2]:
        day = now_day - dt.timedelta(days=1)
        services.record_service(plan.owner, s, plan.client_id, service_date=day, code="G0008", units=1)
        ids.append(plan.client_id)
    if len(stale) > 1:
        for cov_id in stale[1].coverage_ids:
            coverage.grant_eligibility_override(
                actor,
                s,
                cov_id,
                reason="Payer portal down; member card seen at the front desk",
                valid_until=now_day,
            )
    return ids
