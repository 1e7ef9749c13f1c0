"""The agent loop and what steers it: control, breakpoints, conversation, context, termination."""
