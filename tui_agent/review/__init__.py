"""`tui-agent review SESSION`: a finished session's changes, deployed whole or per hunk (rechecked in a sandbox)."""

from tui_agent.review.run import NOT_MET, ReviewRun

__all__ = ["NOT_MET", "ReviewRun"]
