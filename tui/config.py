"""User configuration: ``config.toml`` in the user config directory (or $CLERKDESK_CONFIG).

```toml
theme = "clerkdesk"          # any Textual theme name
exports = "~/clerkdesk-exports"  # where prints and exports go (own machine; server mode: per login)
[keymap]                     # binding id = keys (comma-separated), e.g.
"app.help" = "f1,question_mark"
"staff.add" = "ctrl+n"
```
A broken file never stops the app: the problems are shown once as a notification.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_dir


def config_path() -> Path:
    env = os.environ.get("CLERKDESK_CONFIG")
    if env:
        return Path(env)
    return Path(user_config_dir("clerkdesk", appauthor=False)) / "config.toml"


@dataclass
class Config:
    theme: str = "clerkdesk"
    exports: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_config(path: Path | None = None) -> Config:
    path = path or config_path()
    cfg = Config()
    if not path.exists():
        return cfg
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        cfg.problems.append(f"{path}: {e}; using defaults")
        return cfg
    theme = data.get("theme")
    if isinstance(theme, str) and theme:
        cfg.theme = theme
    elif theme is not None:
        cfg.problems.append(f"{path}: theme must be a string")
    exports = data.get("exports")
    if isinstance(exports, str) and exports.strip():
        cfg.exports = exports.strip()
    elif exports is not None:
        cfg.problems.append(f"{path}: exports must be a folder name")
    keymap = data.get("keymap", {})
    if isinstance(keymap, dict):
        for k, v in keymap.items():
            if isinstance(v, str) and v.strip():
                cfg.keymap[str(k)] = v.strip()
            else:
                cfg.problems.append(f"{path}: keymap.{k} must be a key string like 'ctrl+n'")
    else:
        cfg.problems.append(f"{path}: [keymap] must be a table")
    return cfg
