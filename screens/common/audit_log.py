"""The audit log: every change, who and when, newest first; paged from the database."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from reports.audit_log import AuditRow, audit_page
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.paged import Page, PagedTable


def _summary(before: str, after: str) -> str:
    """What changed, in one short line: 'name: Ann → Anna; team: …'."""
    try:
        b: dict[str, Any] = json.loads(before) if before else {}
        a: dict[str, Any] = json.loads(after) if after else {}
    except json.JSONDecodeError:
        return ""
    if not b:
        return ", ".join(f"{k}={v}" for k, v in list(a.items())[:4])
    changed = [f"{k}: {b.get(k)} → {a.get(k)}" for k in a if b.get(k) != a.get(k)]
    return "; ".join(changed[:4])


class AuditLogScreen(DbScreen):
    HELP_TITLE = "Audit log"
    HELP = (
        "Newest first, one page at a time. / filters: a login, entity or action prefix, "
        "'entity:id' for one record (e.g. user:3), or '#1234' to start at a row."
    )
    BINDINGS = [Binding("escape", "back", "Back", id="audit.back", tooltip="Back to the previous screen")]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[int, AuditRow] = {}

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Audit log", style="bold"), classes="title")
        with Horizontal():
            yield PagedTable(
                ["#", "When", "Who", "Entity", "Action", "Change"],
                self.fetch,
                page_size=50,
                filter_placeholder="login, entity, action, entity:id or #row",
                id="audit",
            )
            yield Static("", id="detail", classes="side")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()

    def fetch(self, session: Any, after: int | None, limit: int, text: str) -> Page[int]:
        rows, nxt = audit_page(self.actor, session, before_id=after, limit=limit, text=text)
        tz = self.cd_app.tz
        for r in rows:
            self.rows[r.id] = r
        return Page(
            rows=[
                (
                    r.id,
                    [
                        str(r.id),
                        r.at.in_timezone(tz).format("YYYY-MM-DD HH:mm"),
                        r.actor_login,
                        f"{r.entity}:{r.entity_id}",
                        r.action,
                        Text(_summary(r.before, r.after)),
                    ],
                )
                for r in rows
            ],
            next_after=nxt,
        )

    def reload(self) -> None:
        self.query_one(PagedTable).reload()

    @on(PagedTable.Chosen)
    def _chosen(self, event: PagedTable.Chosen) -> None:
        r = self.rows.get(event.key)
        if r is None:
            return
        self.query_one("#detail", Static).update(
            Text.assemble(
                (f"Row {r.id}\n", "bold"),
                f"{r.entity}:{r.entity_id} {r.action} by {r.actor_login}\n\n",
                ("Before\n", "bold"),
                _pretty(r.before),
                "\n\n",
                ("After\n", "bold"),
                _pretty(r.after),
            )
        )


def _pretty(raw: str) -> str:
    if not raw:
        return "—"
    try:
        return json.dumps(json.loads(raw), indent=1, ensure_ascii=False)
    except json.JSONDecodeError:
        return raw
