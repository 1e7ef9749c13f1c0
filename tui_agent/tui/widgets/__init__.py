"""The panels of the main screen: plan, output, fixes, permissions, status line."""
