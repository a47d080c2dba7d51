"""The stack's monitoring programs written in Python: the marketplace and PgBouncer exporters,
Alertmanager's webhook receiver, the dashboards' source and their proof, the configs of
Prometheus and Alertmanager."""
