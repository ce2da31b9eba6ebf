"""Names and texts with control characters are refused (issue 11 §6): an escape sequence in a
name would repaint a clerk's terminal; a NUL or newline breaks prints and exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing import clients, payments
from db.errors import ValidationError
from db.models import Role
from scheduling import staff
from tests.conftest import Office

BAD = ["Evil\x1b[31m", "Nul\x00l", "Two\nLines", "Bell\x07", "Del\x7f", "C1\x9b2J"]


@pytest.mark.parametrize("bad", BAD)
def test_team_names(office: Office, bad: str) -> None:
    with pytest.raises(ValidationError):
        office.db.write(lambda s: staff.add_team(office.sup, s, bad))


@pytest.mark.parametrize("bad", BAD)
def test_user_names(office: Office, bad: str) -> None:
    with pytest.raises(ValidationError):
        office.db.write(lambda s: staff.add_user(office.sup, s, login="zed", name=bad, role=Role.CLERK))


@pytest.mark.parametrize("bad", BAD)
def test_client_names(office: Office, bad: str) -> None:
    with pytest.raises(ValidationError):
        office.db.write(lambda s: clients.register_client(office.clerk, s, first_name="Ann", last_name=bad))


@pytest.mark.parametrize("bad", BAD)
def test_payment_reference_and_key(office: Office, bad: str) -> None:
    def go(field: str) -> None:
        kw = {"reference": "ok", "idempotency_key": "k-ok"} | {field: bad}
        office.db.write(
            lambda s: payments.post_payment(
                office.clerk, s, side="client", client_id=1, amount=Decimal("1.00"), method="check",
                received_on=dt.date(2026, 11, 16), **kw,
            )
        )  # fmt: skip

    for field in ("reference", "idempotency_key"):
        with pytest.raises(ValidationError):
            go(field)
