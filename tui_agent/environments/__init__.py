"""Project environments: what a project declares, built in the sandbox (network through the index proxy only), cached."""
