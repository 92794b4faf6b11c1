"""Typed errors of the tarn client, carrying the server's stable error codes."""

from __future__ import annotations

from typing import Any


class TarnError(Exception):
    """An error a tarn server answered: a stable ``code`` (``BRANCH_NOT_FOUND``, ``MERGE_CONFLICT``, ...), the
    message and the context a user needs (ref, table, ...).

    Example::

        try:
            client.branch("nope")
        except tarn.NotFoundError as e:
            print(e.code, e.context)
    """

    def __init__(self, code: str, message: str, context: dict[str, Any] | None = None, status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.context = context or {}
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidRequestError(TarnError):
    """The request was refused as invalid (HTTP 400 or 422): a bad name, ref, SQL or argument."""


class UnauthorizedError(TarnError):
    """No valid API key (HTTP 401)."""


class ForbiddenError(TarnError):
    """The API key lacks a rule the operation needs (HTTP 403); the message names the rule."""


class NotFoundError(TarnError):
    """A branch, tag, commit, table, namespace or job does not exist (HTTP 404)."""


class ConflictError(TarnError):
    """A conflict (HTTP 409): a merge conflict, a moved branch head, an existing name, a sealed or protected branch."""


class TooManyRequestsError(TarnError):
    """The server is at its limit of concurrent work (HTTP 429); retry later."""


_BY_STATUS: dict[int, type[TarnError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: TooManyRequestsError,
}


def error_for(status: int, code: str, message: str, context: dict[str, Any] | None) -> TarnError:
    """The typed error for an HTTP status and an error document.

    Example::

        raise error_for(404, "BRANCH_NOT_FOUND", "no branch dev", {"branch": "dev"})
    """
    return _BY_STATUS.get(status, TarnError)(code, message, context, status)
