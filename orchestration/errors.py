"""Errors the runtime reports to people; each carries a Chinese message and an HTTP-like status."""

from __future__ import annotations


class FangtiaoError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(FangtiaoError):
    status = 404


class Forbidden(FangtiaoError):
    status = 403


class Conflict(FangtiaoError):
    """The task was completed or the case changed since the user loaded it."""

    status = 409


class InvalidData(FangtiaoError):
    status = 422

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class ProcedureError(FangtiaoError):
    """A handler or the engine refused the step; nothing of it was stored."""

    status = 422
