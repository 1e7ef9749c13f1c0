"""Housekeeping: finish or undo an interrupted deploy, clean what a killed run left, prune old sessions."""
