"""The public API's one error shape, and the handlers that produce it for /api/ paths:

    {"error": {"code": "validation_error", "message": "…", "details": [{"field": "name", "message": "…"}]}}

Validation problems are 400 with one detail per field; unknown routes 404; anything unexpected 500 with a
reference id and nothing else (the type of the exception goes to the server log, never to the client).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["API_PREFIX", "ApiError", "ErrorBody", "error_response", "install_error_handlers"]

API_PREFIX = "/api/v1"
log = logging.getLogger("sierra_sync.web.api")

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    error: ErrorInfo


class ApiError(Exception):
    """An answer other than success, with a machine code and a message that says what to fix."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request.state.error_code = code
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, parts = parts[0], parts[1:]
        if where != "body":
            return ".".join(parts) or where
    return ".".join(parts) or "body"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(request, exc.status, exc.code, exc.message, exc.details, exc.headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _is_api(request):
            return await request_validation_exception_handler(request, exc)
        details = []
        for err in exc.errors():
            message = str(err.get("msg", "invalid value"))
            if err.get("type") == "json_invalid":
                message = "the body is not valid JSON"
            details.append({"field": _field(err.get("loc", ())), "message": message})
        return error_response(
            request, 400, "validation_error", "the request is not valid; see details", details
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not _is_api(request):
            return await http_exception_handler(request, exc)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
        return error_response(request, exc.status_code, code, message, headers=dict(exc.headers or {}))

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def internal_error(request: Request, exc: BaseException) -> JSONResponse:
    """500 with a reference only; the server log gets the reference and the exception's type."""
    ref = uuid.uuid4().hex[:12]
    log.error("api %s %s failed: %s (ref %s)", request.method, request.url.path, type(exc).__name__, ref)
    return error_response(request, 500, "internal_error", f"internal error (reference {ref})")
