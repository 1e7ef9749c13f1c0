"""`python -m tui_agent` is the `tui-agent` command."""

import sys

from tui_agent.cli.main import main

sys.exit(main())
