"""What may appear in a name or a one-line text: no control characters of any kind.

C0 controls (NUL, ESC, newline...), DEL and the C1 range (U+0080-U+009F, where U+009B is a
one-byte escape sequence introducer on some terminals) could repaint a clerk's terminal or
break a print; bidirectional overrides make a name read differently from what it is.
"""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def has_control_chars(text: str, *, allow: str = "") -> bool:
    """True if ``text`` holds a control character not in ``allow`` (e.g. "\\n\\t" for notes)."""
    return any(c not in allow and (unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS) for c in text)
