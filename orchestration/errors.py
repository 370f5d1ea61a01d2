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


class Gone(Conflict):
    """The task was completed by someone else or no longer exists."""

    def __init__(self, message: str = "该任务已办理完毕或已不存在，请刷新待办列表") -> None:
        super().__init__(message)


class InvalidData(FangtiaoError):
    status = 422

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class ProcedureError(FangtiaoError):
    """A handler or the engine refused the step; nothing of it was stored."""

    status = 422


class TooManyAttempts(FangtiaoError):
    """Logins refused for a while after too many failures (the message says until when)."""

    status = 429
