"""The bubblewrap sandbox: namespaces, cgroups, seccomp, one process per run."""
