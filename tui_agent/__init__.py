"""tui-agent: run a self-correcting coding agent safely in your terminal and watch it work."""

__version__ = "0.1.0"
