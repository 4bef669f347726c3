"""The project's base exception: a message that tells the user what is wrong and what to do.

Everything a user can cause (bad input, a missing connection, an unreachable database) is raised as a
SierraError (or a subclass); the command line prints its message as one line and exits non-zero.
Messages never contain secrets: callers pass redacted text only.
"""

from __future__ import annotations


class SierraError(Exception):
    """An actionable error: `str(err)` says what is wrong and what to do about it."""

    exit_code: int = 1
    retryable: bool = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ConfigError(SierraError):
    """A setting (environment variable or flag) is malformed."""

    exit_code = 2


class DatabaseUnavailableError(SierraError):
    """The configured database cannot be reached or opened."""

    exit_code = 3
    retryable = True


class NotFoundError(SierraError):
    """A record named by the user (company, integration, invoice) does not exist."""

    exit_code = 4
