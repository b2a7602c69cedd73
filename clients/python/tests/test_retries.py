"""Retries on UNAVAILABLE, the API key and the error mapping, against an in-process gRPC server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from herald_client import (
    Client,
    FieldViolation,
    InvalidArgumentError,
    RetryPolicy,
    UnavailableError,
    pb,
)
from herald_client._proto.herald.v1.devices_pb2_grpc import DevicesServicer, add_DevicesServicer_to_server
from herald_client._proto.herald.v1.notifications_pb2_grpc import (
    NotificationsServicer,
    add_NotificationsServicer_to_server,
)

from .conftest import free_port

FAST = RetryPolicy(max_attempts=5, initial_backoff=0.01, max_backoff=0.05)


class FlakyDevices(DevicesServicer):
    """GetDevice fails `failures` times with `code`, then answers; every call is recorded."""

    def __init__(self, failures: int, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE) -> None:
        self.failures = failures
        self.code = code
        self.calls = 0
        self.authorizations: list[str] = []

    def GetDevice(self, request: pb.GetDeviceRequest, context: grpc.ServicerContext) -> pb.Device:
        self.calls += 1
        self.authorizations.append(dict(context.invocation_metadata()).get("authorization", ""))
        if self.calls <= self.failures:
            if self.code is grpc.StatusCode.INVALID_ARGUMENT:
                detail = any_pb2.Any()
                detail.Pack(
                    error_details_pb2.BadRequest(
                        field_violations=[
                            error_details_pb2.BadRequest.FieldViolation(
                                field="device_id", description="must start with dev_"
                            )
                        ]
                    )
                )
                status = status_pb2.Status(
                    code=code_pb2.INVALID_ARGUMENT, message="device_id: must start with dev_", details=[detail]
                )
                context.abort_with_status(rpc_status.to_status(status))
            context.abort(self.code, "not now")
        return pb.Device(device_id=request.device_id)


def serve(servicer: FlakyDevices, port: int) -> grpc.Server:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    add_DevicesServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server


@pytest.fixture
def port() -> int:
    return free_port()


@contextmanager
def running(servicer: FlakyDevices, port: int) -> Iterator[None]:
    server = serve(servicer, port)
    try:
        yield
    finally:
        server.stop(None)


def get_device(port: int, retries: int | RetryPolicy, device_id: str = "dev_1") -> pb.Device:
    with Client(f"127.0.0.1:{port}", api_key="hrld_test", retries=retries) as client:
        return client.devices.GetDevice(pb.GetDeviceRequest(device_id=device_id))


def test_a_call_failing_twice_with_unavailable_is_retried_and_answers(port: int) -> None:
    devices = FlakyDevices(failures=2)
    with running(devices, port):
        device = get_device(port, FAST)
    assert device.device_id == "dev_1"
    assert devices.calls == 3
    assert devices.authorizations == ["Bearer hrld_test"] * 3


def test_retries_stop_after_max_attempts(port: int) -> None:
    devices = FlakyDevices(failures=10)
    with running(devices, port), pytest.raises(UnavailableError) as raised:
        get_device(port, RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05))
    assert devices.calls == 3
    assert raised.value.code is grpc.StatusCode.UNAVAILABLE
    assert raised.value.message == "not now"


def test_other_errors_are_not_retried_and_carry_their_field_violations(port: int) -> None:
    devices = FlakyDevices(failures=1, code=grpc.StatusCode.INVALID_ARGUMENT)
    with running(devices, port), pytest.raises(InvalidArgumentError) as raised:
        get_device(port, FAST, device_id="x")
    assert devices.calls == 1
    assert raised.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.field_violations == [FieldViolation("device_id", "must start with dev_")]


def test_a_call_waits_for_a_server_that_starts_later(port: int) -> None:
    devices = FlakyDevices(failures=0)
    servers: list[grpc.Server] = []
    timer = threading.Timer(1.0, lambda: servers.append(serve(devices, port)))
    timer.start()
    try:
        device = get_device(port, RetryPolicy(max_attempts=30, initial_backoff=0.1, max_backoff=0.3), "dev_2")
    finally:
        timer.join()
        for server in servers:
            server.stop(None)
    assert device.device_id == "dev_2"
    assert devices.calls == 1


def test_retries_zero_makes_a_single_attempt(port: int) -> None:
    devices = FlakyDevices(failures=1)
    with running(devices, port), pytest.raises(UnavailableError):
        get_device(port, 0)
    assert devices.calls == 1


class InterruptedWatch(NotificationsServicer):
    """WatchMessage as Herald streams it across a restart: the first call sends the delivery
    QUEUED and then fails with UNAVAILABLE; the next resumes from the stored state (QUEUED
    again), then sends SUBMITTED and ends."""

    def __init__(self) -> None:
        self.calls = 0

    def WatchMessage(
        self, request: pb.WatchMessageRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.DeliveryUpdate]:
        self.calls += 1
        yield self.update(request.message_id, pb.DELIVERY_STATUS_QUEUED)
        if self.calls == 1:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the bus stopped")
        yield self.update(request.message_id, pb.DELIVERY_STATUS_SUBMITTED)

    @staticmethod
    def update(message_id: str, status: pb.DeliveryStatus) -> pb.DeliveryUpdate:
        return pb.DeliveryUpdate(message_id=message_id, delivery=pb.Delivery(delivery_id="dlv_1", status=status))


def test_watch_message_resumes_after_unavailable_without_repeating_an_update(port: int) -> None:
    watch = InterruptedWatch()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    add_NotificationsServicer_to_server(watch, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        with Client(f"127.0.0.1:{port}", api_key="hrld_test", retries=FAST) as client:
            statuses = [u.delivery.status for u in client.watch_message("msg_1", timeout=10)]
    finally:
        server.stop(None)
    assert statuses == [pb.DELIVERY_STATUS_QUEUED, pb.DELIVERY_STATUS_SUBMITTED]
    assert watch.calls == 2
