"""Demo staff: two supervisors leading two teams, twelve clerks with skills and hours."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.models import Role
from db.rights import Actor
from scheduling import staff
from scheduling.staff import resolve_actor
from tui.demo.context import DemoContext

DEMO_SUPERVISOR = "mreyes"
DEMO_CLERK = "jchen"

TEAMS = [
    ("Insurance", "Commercial insurers"),
    ("Public & Employer", "Government agencies, employers and self-pay"),
]

# login, name, role, team, skills, hours per week
PEOPLE: list[tuple[str, str, Role, str, str, float]] = [
    ("mreyes", "Maria Reyes", Role.SUPERVISOR, "Insurance", "insurer,lang:es", 40),
    ("dokafor", "Daniel Okafor", Role.SUPERVISOR, "Public & Employer", "government,employer", 40),
    ("jchen", "Jenny Chen", Role.CLERK, "Insurance", "insurer,lang:zh", 40),
    ("aruiz", "Ana Ruiz", Role.CLERK, "Insurance", "insurer,lang:es", 40),
    ("bwalker", "Ben Walker", Role.CLERK, "Insurance", "insurer,other", 32),
    ("cnguyen", "Chris Nguyen", Role.CLERK, "Insurance", "insurer,lang:vi", 40),
    ("dpatel", "Divya Patel", Role.CLERK, "Insurance", "insurer,employer", 24),
    ("eschmidt", "Eva Schmidt", Role.CLERK, "Insurance", "insurer", 40),
    ("fadeyemi", "Femi Adeyemi", Role.CLERK, "Public & Employer", "government", 40),
    ("gmorales", "Gabriel Morales", Role.CLERK, "Public & Employer", "government,lang:es", 40),
    ("hkim", "Hana Kim", Role.CLERK, "Public & Employer", "employer,other", 32),
    ("ibrown", "Isaac Brown", Role.CLERK, "Public & Employer", "government,employer", 40),
    ("jlopez", "Julia Lopez", Role.CLERK, "Public & Employer", "other,lang:es", 20),
    ("kmurphy", "Kevin Murphy", Role.CLERK, "Public & Employer", "government,other", 40),
]


def build_staff(ctx: DemoContext) -> None:
    rng = ctx.rng_for("staff")
    hired = {p[0]: ctx.today - dt.timedelta(days=rng.randint(120, 2500)) for p in PEOPLE}

    def add(actor: Actor, s: Session, person: tuple[str, str, Role, str, str, float]) -> None:
        login, name, role, team, skills, hours = person
        staff.add_user(
            actor,
            s,
            login=login,
            name=name,
            role=role,
            team=team,
            skills=skills,
            contracted_minutes=round(hours * 60),
            email=f"{login}@riverside.example",
            hire_date=hired[login],
        )

    # The system may only bootstrap the first supervisor; she hires everyone else.
    def first(actor: Actor, s: Session) -> None:
        staff.add_team(actor, s, *TEAMS[0])
        add(actor, s, PEOPLE[0])

    ctx.write(ctx.system, first)
    sup = ctx.db.read(lambda s: resolve_actor(s, DEMO_SUPERVISOR))

    def rest(actor: Actor, s: Session) -> None:
        for name, desc in TEAMS[1:]:
            staff.add_team(actor, s, name, desc)
        for person in PEOPLE[1:]:
            add(actor, s, person)
        # A former clerk, terminated, whose history stays.
        staff.add_user(
            actor,
            s,
            login="lgrant",
            name="Liam Grant",
            role=Role.CLERK,
            team="Insurance",
            skills="insurer",
            hire_date=ctx.today - dt.timedelta(days=900),
        )
        staff.deactivate_user(actor, s, "lgrant", termination_date=ctx.today - dt.timedelta(days=40))

    ctx.write(sup, rest)

    def actors(s: Session) -> None:
        for p in PEOPLE:
            (ctx.supervisors if p[2] == Role.SUPERVISOR else ctx.clerks).append(resolve_actor(s, p[0]))

    ctx.db.read(actors)
