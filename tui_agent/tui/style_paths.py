"""Where the .tcss files live: the installed `tui_agent.styles` package, else `styles/` at the repo top."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

REPO_STYLES = Path(__file__).resolve().parents[2] / "styles"


def styles_dir() -> Path:
    try:
        found = importlib.resources.files("tui_agent.styles")
    except ModuleNotFoundError:
        return REPO_STYLES
    path = Path(str(found))
    return path if (path / "app.tcss").is_file() else REPO_STYLES


def style(name: str) -> Path:
    """The absolute path of one stylesheet, e.g. style("main.tcss")."""
    return styles_dir() / name
