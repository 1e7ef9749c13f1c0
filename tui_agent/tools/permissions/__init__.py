"""Permission rules and the policy that applies them (allow / ask / deny, deny wins)."""
