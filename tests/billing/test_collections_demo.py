"""The demo collections step on the small history of the payments-step test."""

from __future__ import annotations

from billing import contacts, dunning
from billing.contacts import PromiseState
from db import audit
from db.engine import Database
from db.models import AdjustmentReason, Dispute, DisputeStatus, Placement, PlacementStatus
from tests.billing.factories_payments import count_rows
from tests.billing.test_payments_demo import _build
from tui.demo.collections import build_collections


def test_demo_collections_step(db: Database) -> None:
    ctx = _build(db)
    build_collections(ctx)
    made = ctx.data["collections"]
    sup = ctx.supervisor
    assert [lv.level for lv in db.read(lambda s: dunning.list_levels(sup, s))] == [1, 2, 3]
    assert count_rows(db, AdjustmentReason) == 5
    assert db.read(lambda s: s.get(Placement, made["placement"]).status) == PlacementStatus.ACTIVE  # type: ignore[union-attr]
    assert db.read(lambda s: s.get(Dispute, made["dispute"]).status) == DisputeStatus.OPEN  # type: ignore[union-attr]
    pending = db.read(lambda s: contacts.open_promise(sup, s, made["promise_client"]))
    assert pending is not None and pending.promise_state == PromiseState.PENDING
    broken = db.read(lambda s: contacts.broken_promises(sup, s, as_of=ctx.today))
    assert [r.client_id for r in broken.rows] == [made["broken_client"]]
    why = {r.why for r in db.read(lambda s: dunning.preview_run(sup, s)).rows}
    assert {"invoice on dispute hold", "account placed with an agency"} <= why
    assert db.read(lambda s: audit.verify(s)).ok
