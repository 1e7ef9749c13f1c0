"""The scratch copy the agent works in: files, snapshots, ignore rules, quota and the safe deploy."""
