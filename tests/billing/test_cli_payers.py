"""``clerkdesk payer list|codes|map|unmap``: the crosswalk from the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from tests.billing.billing_setup import World, make_world
from tests.conftest import Office, mark_demo
from tui.cli import main


@pytest.fixture
def world(office: Office) -> World:
    mark_demo(office.db.url)  # so --as works
    return make_world(office)


def run(db_url: str, login: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", db_url, "--as", login, *args])


def test_payer_list_and_codes(world: World, db_url: str) -> None:
    r = run(db_url, "cleo", "payer", "list", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "name,kind,terms_days,crosswalk_entries,active"
    assert "Acme Health,insurer,30,2,True" in r.stdout.splitlines()
    r = run(db_url, "cleo", "payer", "codes", "acme health", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = {e["code"]: e for e in json.loads(r.stdout)}
    assert (rows["G0008"]["payer_code"], rows["G0008"]["allowed_amount"]) == ("FLU-ADM", "40.00")
    assert rows["E0114"]["payer_code"] == "E0114"
    text = run(db_url, "cleo", "payer", "codes", "Acme Health").stdout
    assert "FLU-ADM" in text and "$40.00" in text


def test_payer_map_and_unmap_need_a_supervisor_and_good_input(world: World, db_url: str) -> None:
    r = run(db_url, "cleo", "payer", "map", "Acme Health", "T1013", "--as", "MILES")
    assert r.exit_code == 1 and "may not change payers or the code catalog" in r.stderr
    r = run(db_url, "sam", "payer", "map", "Acme Health", "T1013", "--as", "MILES", "--allowed", "8.25")
    assert (r.exit_code, r.stdout) == (0, "Acme Health: T1013 is billed as MILES at $8.25 a unit\n")
    codes = json.loads(run(db_url, "cleo", "payer", "codes", "Acme Health", "--format", "json").stdout)
    assert {e["code"]: e["payer_code"] for e in codes}["T1013"] == "MILES"
    for bad, why in (
        (["Nobody Health", "T1013"], "no payer named 'Nobody Health'"),
        (["Acme Health", "ZZZZZ"], "ZZZZZ"),
        (["Acme Health", "T1013", "--allowed", "1e309"], "allowed_amount"),
        (["Acme Health", "T1013", "--allowed", "-5"], "allowed_amount"),
        (["Acme Health", "T1013", "--as", "no spaces [x]"], "payer_code"),
    ):
        r = run(db_url, "sam", "payer", "map", *bad)
        assert r.exit_code == 2 and why in r.stderr, (bad, r.stderr)
        assert "Traceback" not in r.output
    after = json.loads(run(db_url, "cleo", "payer", "codes", "Acme Health", "--format", "json").stdout)
    assert after == codes  # nothing changed by the refused commands
    r = run(db_url, "sam", "payer", "unmap", "Acme Health", "t1013")
    assert (r.exit_code, r.stdout) == (0, "Acme Health: no entry for T1013 any more\n")
    r = run(db_url, "sam", "payer", "unmap", "Acme Health", "T1013")
    assert r.exit_code == 2 and "no crosswalk entry for T1013" in r.stderr
