"""Error root of the simulators package."""

__all__ = ["SimulatorError"]


class SimulatorError(Exception):
    """Root of every error the simulators package raises on purpose."""
