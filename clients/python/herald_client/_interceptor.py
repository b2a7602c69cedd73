"""The client interceptor behind every stub: the API key, the default deadline, retries on
UNAVAILABLE, and errors raised as HeraldError."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

import grpc

from herald_client._errors import HeraldError, error_from_call
from herald_client._retry import RetryPolicy

Metadata = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class _CallDetails(grpc.ClientCallDetails):
    method: str
    timeout: Optional[float]
    metadata: Optional[Metadata]
    credentials: Optional[grpc.CallCredentials]
    wait_for_ready: Optional[bool]
    compression: Optional[grpc.Compression]


class ErrorMappingStream:
    """A server-streaming call whose errors are raised as HeraldError; every other attribute
    (cancel, code, trailing_metadata, ...) is the call's own."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as error:
            raise error_from_call(error) from error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)


class HeraldInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
):
    """Adds `authorization: Bearer <api key>` to every call (unless the call sets its own),
    gives unary calls `timeout` as their deadline when they have none, retries unary calls that
    fail with UNAVAILABLE under `retry`, and raises every failure as a HeraldError.

    Streaming calls get no default deadline (a watch lasts as long as the message's deliveries)
    and are not retried here: a request stream cannot be replayed, and Client.watch_message
    resumes a watch itself."""

    def __init__(self, api_key: Optional[str], timeout: Optional[float], retry: RetryPolicy) -> None:
        self._authorization = f"Bearer {api_key}" if api_key else None
        self._timeout = timeout
        self._retry = retry

    def _details(self, details: grpc.ClientCallDetails, timeout: Optional[float]) -> _CallDetails:
        metadata = list(details.metadata or ())
        if self._authorization and not any(key == "authorization" for key, _ in metadata):
            metadata.append(("authorization", self._authorization))
        return _CallDetails(
            method=details.method,
            timeout=timeout,
            metadata=metadata,
            credentials=details.credentials,
            wait_for_ready=getattr(details, "wait_for_ready", None),
            compression=getattr(details, "compression", None),
        )

    def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> Any:
        timeout = client_call_details.timeout if client_call_details.timeout is not None else self._timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        attempt = 1
        while True:
            call = continuation(self._details(client_call_details, timeout), request)
            code = call.code()
            if code is grpc.StatusCode.OK:
                return call
            if code is not grpc.StatusCode.UNAVAILABLE or attempt >= self._retry.max_attempts:
                raise _error(call)
            pause = self._retry.delay(attempt)
            if deadline is not None and time.monotonic() + pause >= deadline:
                raise _error(call)
            time.sleep(pause)
            attempt += 1
            if deadline is not None:
                timeout = deadline - time.monotonic()

    def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> ErrorMappingStream:
        return ErrorMappingStream(
            continuation(self._details(client_call_details, client_call_details.timeout), request)
        )

    def intercept_stream_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Iterator[Any]], Any],
        client_call_details: grpc.ClientCallDetails,
        request_iterator: Iterator[Any],
    ) -> Any:
        call = continuation(self._details(client_call_details, client_call_details.timeout), request_iterator)
        if call.code() is not grpc.StatusCode.OK:
            raise _error(call)
        return call


def _error(call: Any) -> HeraldError:
    """The HeraldError of a failed call outcome; the cause is the grpc.RpcError when there is one."""
    error = error_from_call(call)
    if isinstance(call, BaseException):
        error.__cause__ = call
    return error
