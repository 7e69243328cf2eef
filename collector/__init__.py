"""Collector: reads device telemetry (MQTT, serial), decodes it and stores it durably."""
