"""Session records: the JSONL recorder, the catalog of recorded sessions, what a resume or a fork starts from."""
