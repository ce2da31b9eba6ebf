"""State shared by the demo steps: the database, a seeded RNG, today, and who is who."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from db.engine import Database
from db.rights import SYSTEM, Actor
from db.settings import office_timezone, put_setting
from db.timeutil import office_today

T = TypeVar("T")


@dataclass
class DemoContext:
    db: Database
    seed: int
    rng: random.Random
    today: dt.date
    tz: str
    supervisors: list[Actor] = field(default_factory=list)
    clerks: list[Actor] = field(default_factory=list)
    # Free-form hand-over between steps (e.g. client ids for the billing history).
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, db: Database, seed: int) -> DemoContext:
        def mark(s: Session) -> tuple[str, dt.date]:
            put_setting(s, "office.demo", True)
            put_setting(s, "office.name", "Riverside Billing Services (demo)")
            put_setting(s, "office.address", "120 Harbor Street, Suite 4, Springfield, MA 01103")
            put_setting(s, "office.phone", "(413) 555-0142")
            tz = office_timezone(s)
            return tz, office_today(tz)

        tz, today = db.write(mark)
        return cls(db=db, seed=seed, rng=random.Random(seed), today=today, tz=tz)

    @property
    def system(self) -> Actor:
        return SYSTEM

    @property
    def supervisor(self) -> Actor:
        return self.supervisors[0]

    def write(self, actor: Actor, fn: Callable[[Actor, Session], T]) -> T:
        return self.db.write(lambda s: fn(actor, s))

    def rng_for(self, name: str) -> random.Random:
        """An independent stream per step, so adding a step never changes another's data."""
        return random.Random(f"{self.seed}:{name}")
