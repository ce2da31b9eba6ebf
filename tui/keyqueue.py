"""Keys typed fast are handled one at a time, each where the one before it left the focus.

Textual forwards a key to the focused widget and goes straight on to the next key in the App's
queue; the first key's binding only runs when it has bubbled back up to the App. So a burst like
``g`` ``a`` (open go-to, pick Audit log) or ``s`` ``a`` ``f`` ``a`` ``y`` (Staff, Add, type a
login) sent the later keys to the screen that was in front before the first one acted: they were
lost or, worse, ran that screen's keys. Here a key that went to a widget is followed by a marker
down the same path; until the marker is back (or that path has gone with its screen), until the
screen in front is mounted, and until the App has run what the key queued, later keys wait in
order (the marker goes down twice, the second time behind the messages the key made, such as
an Input's Submitted). Keys typed at human speed never wait: the marker is back long before the
next key.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from textual import events
from textual.app import ScreenStackError
from textual.message import Message
from textual.message_pump import MessagePump
from textual.timer import Timer
from textual.widgets import Input, TextArea

# A key never waits longer than this for the one before it (a path that never answers).
HOLD_LIMIT = 1.0
RETRY = 0.005


class KeyHandled(Message):
    """Sent after a key to the same widget; bubbles to the App once that key is dealt with."""

    def __init__(self, lap: int = 1) -> None:
        super().__init__()
        self.lap = lap


class KeysInOrder:
    """Mixin for the App (first in the bases, before ``App``)."""

    _keys_held: deque[events.Key]
    _keys_flight: tuple[KeyHandled, MessagePump, float] | None
    _keys_releasing: events.Key | None
    _keys_held_since: float
    _keys_retry: Timer | None
    _keys_flushing: bool

    def _keys_reset(self) -> None:
        self._keys_held = deque()
        self._keys_flight = None
        self._keys_releasing = None
        self._keys_held_since = 0.0
        self._keys_retry = None
        self._keys_flushing = False

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)  # type: ignore[misc]
            return
        if not hasattr(self, "_keys_held"):
            self._keys_reset()
        if event is self._keys_releasing:
            self._keys_releasing = None
        elif self._keys_held or not self._keys_ready():
            if not self._keys_held:
                self._keys_held_since = time.monotonic()
            self._keys_held.append(event)
            self._keys_later()
            return
        app: Any = self
        await super().on_event(event)  # type: ignore[misc]
        target: MessagePump = app.focused or app.screen
        # A character typed into a text box is the box's own: it moves no focus and opens no
        # screen, so the next key may follow at once (10,000 typed keys stay as fast as before).
        if event.is_forwarded and not (event.is_printable and isinstance(target, (Input, TextArea))):
            # It went to a widget: its binding runs when it comes back up.
            marker = KeyHandled()
            self._keys_flight = (marker, target, time.monotonic())
            if not target.post_message(marker):
                self._keys_flight = None
        if self._keys_held and self._keys_flight is None:  # else the marker's return will do
            self._keys_later()

    def on_key_handled(self, message: KeyHandled) -> None:
        if self._keys_flight is None or self._keys_flight[0] is not message:
            return
        _, target, since = self._keys_flight
        self._keys_flight = None
        if message.lap == 1 and target.is_attached:
            # Messages the key made (an Input's Submitted, whose handler moves the focus) were
            # queued behind the first marker: a second one goes behind them.
            again = KeyHandled(lap=2)
            if target.post_message(again):
                self._keys_flight = (again, target, since)
                return
        self._keys_flush()

    def _keys_flush(self) -> None:
        """What the key left queued on the App runs before the next key: a ``call_later`` (how
        ``Widget.focus`` moves the focus, how a dismissed dialog's callback runs). A callback
        of our own joins the back of that queue; the next key goes when it runs."""
        app: Any = self
        self._keys_flushing = True

        def flushed() -> None:
            self._keys_flushing = False
            if self._keys_held:
                self._keys_later()

        app.call_later(flushed)

    def keys_waiting(self) -> int:
        """Keys typed that have not yet been handed on (tests wait for none)."""
        held = getattr(self, "_keys_held", ())
        return len(held) + (getattr(self, "_keys_releasing", None) is not None)

    def _keys_ready(self) -> bool:
        app: Any = self
        if self._keys_releasing is not None:
            return False  # the key let go last is still on its way through the App's queue
        if self._keys_flight is not None:
            _, target, since = self._keys_flight
            gone = not target.is_attached or getattr(target, "screen", None) not in app.screen_stack
            if not gone and time.monotonic() - since < HOLD_LIMIT:
                return False
            self._keys_flight = None
            self._keys_flush()
            return False
        try:
            screen = app.screen
        except ScreenStackError:  # the app is closing
            return False
        if not screen.is_mounted:
            return False
        return not self._keys_flushing

    def _keys_later(self) -> None:
        """Hand on the next held key now if it can go (or has waited too long), else look again
        in a moment."""
        app: Any = self
        if not app.is_running or not self._keys_held:
            return
        if time.monotonic() - self._keys_held_since > HOLD_LIMIT or self._keys_ready():
            if self._keys_retry is not None:
                self._keys_retry.stop()
                self._keys_retry = None
            self._keys_release()
        elif self._keys_retry is None:
            self._keys_retry = app.set_timer(RETRY, self._keys_retry_now, name="keys-in-order")

    def _keys_retry_now(self) -> None:
        self._keys_retry = None
        self._keys_later()

    def _keys_release(self) -> None:
        key = self._keys_held.popleft()
        self._keys_held_since = time.monotonic()
        self._keys_releasing = key
        self._keys_flight = None
        app: Any = self
        app.post_message(key)
