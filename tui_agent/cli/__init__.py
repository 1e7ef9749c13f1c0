"""The `tui-agent` command: argument parsing, subcommands, headless output."""
