"""Error root of the application package."""

__all__ = ["GatewayError", "StageFailed"]


class GatewayError(Exception):
    """Root of every error the application layer raises on purpose."""


class StageFailed(GatewayError):
    """A daemon stage failed in a way it cannot recover from; the process should exit.

    The message names the stage and the cause; a supervisor (systemd) restarts
    the daemon, which resumes from its stores and saved model state.
    """
