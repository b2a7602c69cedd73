"""The client against a real Herald (`herald up --with-mocks`, the mock FCM behind it)."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any, Optional

import grpc
import pytest

from herald_client import (
    Client,
    InvalidArgumentError,
    NotFoundError,
    UnauthenticatedError,
    pb,
)

from .conftest import Herald


def register(client: Client, user_id: str) -> pb.Device:
    return client.register_device(user_id, f"demo-token-{uuid.uuid4().hex}", "android").device


def test_send_and_wait_answers_submitted_with_the_delivery(client: Client, user_id: str) -> None:
    device = register(client, user_id)

    result = client.send_and_wait(user_id=user_id, title="Hello", body="First push", data={"order": "42"})

    assert result.outcome == pb.WAIT_OUTCOME_ONSUBMIT, result
    assert result.message_id.startswith("msg_")
    assert [d.device_id for d in result.deliveries] == [device.device_id]
    delivery = result.deliveries[0]
    assert delivery.provider == pb.PROVIDER_FCM
    assert delivery.status == pb.DELIVERY_STATUS_SUBMITTED
    assert delivery.provider_message_id.startswith("projects/herald-test/messages/")


def test_send_then_get_message_reaches_submitted(client: Client, user_id: str) -> None:
    register(client, user_id)

    sent = client.send(user_id=user_id, title="Hello", correlation_id="order-42")

    assert sent.message_id.startswith("msg_") and not sent.duplicate
    deadline = time.monotonic() + 30
    message = client.get_message(sent.message_id)
    while message.message.state != pb.MESSAGE_STATE_SUBMITTED and time.monotonic() < deadline:
        time.sleep(0.2)
        message = client.get_message(sent.message_id)
    assert message.message.state == pb.MESSAGE_STATE_SUBMITTED, message
    assert message.message.correlation_id == "order-42"
    assert message.message.notification.title == "Hello"
    assert [d.status for d in message.deliveries] == [pb.DELIVERY_STATUS_SUBMITTED]


def test_a_repeated_idempotency_key_answers_the_first_message(client: Client, user_id: str) -> None:
    register(client, user_id)
    first = client.send(user_id=user_id, title="Once", idempotency_key=f"key-{user_id}")
    again = client.send(user_id=user_id, title="Once", idempotency_key=f"key-{user_id}")
    assert again.message_id == first.message_id and again.duplicate


def test_watch_message_yields_each_delivery_change_until_it_is_final(client: Client, user_id: str) -> None:
    register(client, user_id)
    sent = client.send(user_id=user_id, title="Watched")

    statuses: list[int] = []
    for update in client.watch_message(sent.message_id, timeout=60):
        assert update.message_id == sent.message_id
        statuses.append(update.delivery.status)
        if update.delivery.status == pb.DELIVERY_STATUS_SUBMITTED:
            # The device reports it read: the delivery is final and the stream ends by itself.
            client.notifications.ReportDeliveryEvent(
                pb.ReportDeliveryEventRequest(delivery_id=update.delivery.delivery_id, kind=pb.DEVICE_EVENT_KIND_READ)
            )

    assert pb.DELIVERY_STATUS_SUBMITTED in statuses
    assert statuses[-1] == pb.DELIVERY_STATUS_READ
    assert statuses == sorted(statuses), "statuses climb"


def test_leaving_a_watch_early_cancels_its_call(client: Client, user_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    register(client, user_id)
    sent = client.send(user_id=user_id, title="Watched briefly")
    calls: list[Any] = []
    watch = client.notifications.WatchMessage

    def recorded_watch(request: pb.WatchMessageRequest, timeout: Optional[float] = None) -> Any:
        calls.append(watch(request, timeout=timeout))
        return calls[-1]

    monkeypatch.setattr(client.notifications, "WatchMessage", recorded_watch)
    updates = client.watch_message(sent.message_id, timeout=60)
    first = next(updates)
    updates.close()

    assert first.delivery.status in (pb.DELIVERY_STATUS_QUEUED, pb.DELIVERY_STATUS_SUBMITTED)
    assert len(calls) == 1
    # A SUBMITTED delivery is not final: only the cancel ends this stream before its deadline.
    assert calls[0].code() is grpc.StatusCode.CANCELLED


def test_iter_devices_follows_the_pages(client: Client, user_id: str) -> None:
    registered = {register(client, user_id).device_id for _ in range(25)}
    pages: list[int] = []

    def list_devices(request: pb.ListDevicesRequest) -> pb.ListDevicesResponse:
        response: pb.ListDevicesResponse = client.devices.ListDevices(request)
        pages.append(len(response.devices))
        return response

    listed = [d.device_id for d in client.paginate(list_devices, pb.ListDevicesRequest(user_id=user_id, page_size=10))]

    assert pages == [10, 10, 5]
    assert sorted(listed) == sorted(registered)
    assert {d.device_id for d in client.iter_devices(user_id=user_id, page_size=10)} == registered


def test_iter_messages_lists_the_newest_first_across_pages(client: Client, user_id: str) -> None:
    register(client, user_id)
    sent = [client.send(user_id=user_id, title=f"Message {n}").message_id for n in range(3)]

    newest = [m.message_id for m in itertools.islice(client.iter_messages(page_size=2), 3)]

    assert newest == sent[::-1]


def test_an_empty_notification_is_invalid_argument_naming_the_field(client: Client, user_id: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.send(user_id=user_id, title="", body="")
    error = raised.value
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in error.field_violations] == ["notification"], error
    assert "title" in error.field_violations[0].description


def test_a_title_over_the_limit_is_invalid_argument_naming_the_title(client: Client, user_id: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.send(user_id=user_id, title="x" * 6000)
    assert raised.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in raised.value.field_violations] == ["notification.title"], raised.value
    assert "notification.title" in raised.value.message


def test_send_and_wait_names_the_field_within_its_own_request(client: Client, user_id: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.send_and_wait(user_id=user_id, title="x" * 6000)
    assert [v.field for v in raised.value.field_violations] == ["request.notification.title"], raised.value


def test_an_unknown_message_is_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError) as raised:
        client.get_message("msg_doesnotexist")
    assert raised.value.code is grpc.StatusCode.NOT_FOUND


def test_a_wrong_api_key_is_unauthenticated(herald: Herald) -> None:
    with Client(herald.endpoint, api_key="hrld_wrong") as client, pytest.raises(UnauthenticatedError) as raised:
        client.get_message("msg_any")
    assert raised.value.code is grpc.StatusCode.UNAUTHENTICATED


def test_the_admin_key_creates_tenants_and_keys(herald: Herald) -> None:
    with Client(herald.endpoint, api_key=herald.admin_key) as admin:
        tenant = admin.create_tenant("second tenant")
        created = admin.create_api_key(tenant.tenant_id, "ci")
        keys = list(admin.iter_api_keys(tenant_id=tenant.tenant_id))
    assert tenant.tenant_id.startswith("tnt_")
    assert created.key.startswith("hrld_")
    assert created.api_key.key_id in {k.key_id for k in keys}
