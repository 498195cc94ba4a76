"""One error shape for the API, friendly pages for people.

API errors (any path under ``/api/``) are JSON::

    {"error": {"code": "not_found", "message": "…", "details": {…}}}

``code`` is stable and meant for programs; ``message`` is for people.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class ObserveError(Exception):
    """A failure to report to the caller, with a stable code and an HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(ObserveError):
    status = 422
    code = "validation_failed"

    @classmethod
    def naming(cls, lead: str, problems: dict[str, Any]) -> ValidationFailed:
        """``lead: field: problem; field: problem`` — each problem also in ``details``."""
        text = "; ".join(f"{field}: {message}" for field, message in problems.items())
        return cls(f"{lead}: {text}", details=problems)


class ProblemList(ValidationFailed):
    """Bad input with many located problems (a file's rows or keys); nothing was written."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message, details={"problems": problems})
        self.problems = problems


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class NotFound(ObserveError):
    status = 404
    code = "not_found"


class Forbidden(ObserveError):
    status = 403
    code = "forbidden"


class ServiceBusy(ObserveError):
    """Too many costly requests at once; the caller may try again after ``retry_after`` s."""

    status = 503
    code = "busy"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(ObserveError):
    """The request is fine but the thing is not in a state that allows it."""

    status = 409
    code = "conflict"


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    503: "busy",
    405: "method_not_allowed",
    413: "too_large",
    422: "validation_failed",
    500: "server_error",
}


# A JSON body (API paths) or an error page, and the HTTP status.
ErrorResponse = tuple[Response | str, int]


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> ErrorResponse:
    if wants_json():
        body: dict[str, Any] = {"code": code, "message": message}
        if details:
            body["details"] = details
        return jsonify(error=body), status
    return render_template("error.html", status=status, message=message, details=details), status


def _http_message(status: int) -> str | None:
    """A person's words for an HTTP error that came with no message of our own."""
    return {
        404: gettext("There is no page at this address. Check the link, or start again."),
        403: gettext("You are not allowed to open this page."),
        405: gettext("This page cannot be used that way."),
        413: gettext("What was sent is too large."),
    }.get(status)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ObserveError)
    def handle_observe_error(
        error: ObserveError,
    ) -> ErrorResponse | tuple[Response | str, int, dict[str, str]]:
        response = error_response(error.status, error.code, error.message, error.details)
        if isinstance(error, ServiceBusy):
            body, status = response
            return body, status, {"Retry-After": str(error.retry_after)}
        return response

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError) -> ErrorResponse:
        return error_response(
            400,
            "csrf_failed",
            gettext(
                "This form has expired or did not come from this site. "
                "Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> ErrorResponse:
        status = error.code or 500
        message = error.description or ""
        if message == type(error).description and not wants_json():
            # Werkzeug's own wording, in English: a person gets it in their language.
            message = _http_message(status) or message
        return error_response(status, _CODES.get(status, "error"), message)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> ErrorResponse:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            500, "server_error", gettext("Something went wrong on the server; nothing was saved.")
        )
