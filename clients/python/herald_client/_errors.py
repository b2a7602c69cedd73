"""Herald's errors as Python exceptions: one class per gRPC status code Herald answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple, Optional

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


class FieldViolation(NamedTuple):
    """A field Herald refused (`google.rpc.BadRequest.FieldViolation`), e.g.
    ("notification.title", "must not be empty")."""

    field: str
    description: str


class HeraldError(Exception):
    """A call Herald refused or could not answer.

    `code` is the gRPC status code (for the HTTP endpoints, the code of the HTTP status),
    `message` Herald's message, `field_violations` the fields it named (from the
    `google.rpc.BadRequest` in `grpc-status-details-bin`, or from an HTTP error's body), and
    `http_status` the HTTP status for a refusal of an HTTP endpoint (None for gRPC calls).
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: Sequence[FieldViolation] = (),
        http_status: Optional[int] = None,
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.field_violations: list[FieldViolation] = list(field_violations)
        self.http_status = http_status

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        if self.field_violations:
            text += " (" + "; ".join(f"{v.field}: {v.description}" for v in self.field_violations) + ")"
        return text


class InvalidArgumentError(HeraldError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(HeraldError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(HeraldError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPreconditionError(HeraldError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDeniedError(HeraldError):
    code = grpc.StatusCode.PERMISSION_DENIED


class UnauthenticatedError(HeraldError):
    code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhaustedError(HeraldError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnavailableError(HeraldError):
    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceededError(HeraldError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class UnimplementedError(HeraldError):
    code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(HeraldError):
    code = grpc.StatusCode.INTERNAL


_BY_CODE: dict[grpc.StatusCode, type[HeraldError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        AlreadyExistsError,
        FailedPreconditionError,
        PermissionDeniedError,
        UnauthenticatedError,
        ResourceExhaustedError,
        UnavailableError,
        DeadlineExceededError,
        UnimplementedError,
        InternalError,
    )
}

# The gRPC code of each HTTP status Herald's HTTP endpoints answer (the REST mapping in reverse).
_HTTP_CODES: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    500: grpc.StatusCode.INTERNAL,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def make_error(
    code: grpc.StatusCode,
    message: str,
    field_violations: Sequence[FieldViolation] = (),
    http_status: Optional[int] = None,
) -> HeraldError:
    """The HeraldError subclass for `code` (HeraldError itself for a code without one)."""
    return _BY_CODE.get(code, HeraldError)(code, message, field_violations, http_status)


def error_from_call(call: grpc.Call) -> HeraldError:
    """The error of a failed gRPC call, with the field violations of its status details."""
    violations: list[FieldViolation] = []
    try:
        status = rpc_status.from_call(call)
    except ValueError:  # details that contradict the call's own code or message: ignore them
        status = None
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                violations.extend(FieldViolation(v.field, v.description) for v in bad_request.field_violations)
    return make_error(call.code(), call.details() or "", violations)


def _flatten(details: Any, prefix: str = "") -> list[FieldViolation]:
    """marshmallow's error details ({"user_uuid": ["Length must be 36."], "extra": {"k": [...]}})
    as violations of dotted field paths."""
    if isinstance(details, dict):
        found: list[FieldViolation] = []
        for key, value in details.items():
            found.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(details, list):
        return [violation for item in details for violation in _flatten(item, prefix)]
    return [FieldViolation(prefix, details if isinstance(details, str) else json.dumps(details))]


def error_from_http(status: int, body: bytes) -> HeraldError:
    """The error of a refused HTTP request, from its JSON body: Herald's REST form
    `{"error": {"code", "message", "field"}}`, or wazo-webhookd's `{"message", "details"}`
    whose details are the fields' failures for a 400 and carry a `reason` otherwise."""
    code = _HTTP_CODES.get(status, grpc.StatusCode.UNKNOWN)
    try:
        document = json.loads(body)
    except ValueError:
        return make_error(code, body.decode("utf-8", "replace") or f"HTTP {status}", http_status=status)
    if not isinstance(document, dict):
        return make_error(code, json.dumps(document), http_status=status)
    error = document.get("error")
    if isinstance(error, dict):
        named = error.get("code")
        if isinstance(named, str) and named in grpc.StatusCode.__members__:
            code = grpc.StatusCode[named]
        message = str(error.get("message", ""))
        field = error.get("field")
        violations = [FieldViolation(str(field), message)] if field else []
        return make_error(code, message, violations, status)
    message = str(document.get("message", f"HTTP {status}"))
    details = document.get("details") or {}
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return make_error(code, message, _flatten(details), status)
    if isinstance(details, dict) and isinstance(details.get("reason"), str):
        message = f"{message}: {details['reason']}"
    return make_error(code, message, http_status=status)
