"""The stack's monitoring programs written in Python: Alertmanager's webhook receiver."""
