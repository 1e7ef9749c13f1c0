"""The bundled examples: each folder has example.toml (goal, check, scripted model) beside its files."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tui_agent.config import ConfigError


def example_flags(folder: Path) -> dict:
    """Settings flags for an example; its scripted model path is made absolute."""
    try:
        data = tomllib.loads((folder / "example.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{folder}/example.toml: {exc}") from None
    flags: dict[str, object] = {k: data[k] for k in ("goal", "check", "pass_pattern", "max_iterations") if k in data}
    if "allow" in data:
        flags["permissions"] = {"allow": list(data["allow"])}
    flags["model"] = "scripted:" + str((folder / data.get("model", "model.json")).resolve())
    return flags
