"""Words for work items shared by the supervisor's assignment screen and the clerk's list."""

from __future__ import annotations


def kind_word(kind: str) -> str:
    """The kind in at most 7 cells (the list columns): ``installment`` → ``install``."""
    return {"installment": "install"}.get(kind, kind)
