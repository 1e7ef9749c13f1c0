"""Many headless runs at once (`tui-agent batch`): tasks from a JSONL file, spread over the sandbox hosts."""
