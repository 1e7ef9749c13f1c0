"""Project environments: what a project declares, built in the sandbox (network via the index proxy only), cached."""
