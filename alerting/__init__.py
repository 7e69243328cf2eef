"""Alerting: turns scores into deduplicated alerts and dispatches work orders."""
