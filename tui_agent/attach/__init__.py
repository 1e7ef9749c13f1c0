"""One run, several windows: a live run served over a Unix socket in its session folder, and a RunHandle on it."""
