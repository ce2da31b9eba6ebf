"""The load bar reads the same with and without colour: cells, figures, OVER, no capacity."""

from __future__ import annotations

from tui.widgets.loadbar import bar_cells, load_bar, minutes_text


def test_half_full() -> None:
    assert load_bar(240, 480, width=10).plain == "█████░░░░░ 240/480 50%"


def test_a_little_work_shows_one_cell() -> None:
    assert bar_cells(5, 480, 10) == 1
    assert load_bar(5, 480, width=10).plain == "█░░░░░░░░░ 5/480 1%"


def test_nothing_assigned() -> None:
    assert load_bar(0, 480, width=4).plain == "░░░░ 0/480 0%"


def test_exactly_full_is_not_over() -> None:
    assert load_bar(480, 480, width=4).plain == "████ 480/480 100%"


def test_over_capacity_is_flagged_in_words() -> None:
    t = load_bar(540, 480, width=6)
    assert t.plain == "█████! 540/480 112% OVER"
    assert any("reverse" in str(span.style) for span in t.spans)


def test_no_capacity() -> None:
    assert load_bar(0, 0, width=3).plain == "░░░ no capacity"
    assert load_bar(30, 0, width=3).plain == "░░░ 30/0 no capacity"
    assert load_bar(30, 0, width=3, figures=False).plain == "░░░"


def test_minutes_text() -> None:
    assert minutes_text(45) == "45m"
    assert minutes_text(95) == "1h35"
    assert minutes_text(480) == "8h00"
