"""The Textual UI: renders the engine's events and sends the person's commands (see app.py)."""
