"""Simulators: realistic device fleets with injected faults, speaking the real protocols."""
