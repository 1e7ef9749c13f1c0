"""Session records: the JSONL recorder and the catalog of recorded sessions."""
