"""The examples, and the Wazo endpoint behind mobile_notifications, against a real Herald."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType

import grpc
import pytest

from herald_client import Client, FieldViolation, InvalidArgumentError, UnauthenticatedError, pb

from .conftest import Herald

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wazo_events_for(client: Client, user_uuid: str) -> list[pb.EventRecord]:
    """The events Wazo's endpoint recorded for the user (ListEvents leaves out the payloads:
    GetEvent has them)."""
    records = [
        client.events.GetEvent(pb.GetEventRequest(event_id=e.event_id))
        for e in client.iter_events(event_type="exampleNotification")
        if e.source == "wazo"
    ]
    return [r for r in records if json.loads(r.payload_json).get("user_uuid") == user_uuid]


def test_the_wazo_example_pushes_to_the_users_mobile_session(herald: Herald, client: Client) -> None:
    user_uuid = str(uuid.uuid4())
    session = client.events.StartMobileSession(
        pb.StartMobileSessionRequest(
            user_id=user_uuid,
            device=pb.RegisterDeviceRequest(platform=pb.PLATFORM_ANDROID, push_token=f"demo-token-{uuid.uuid4().hex}"),
        )
    )
    example = load_example("wazo_mobile_notification")

    example.send_example_notification(herald.endpoint, herald.api_key, herald.tenant_id, user_uuid)

    events = wazo_events_for(client, user_uuid)
    assert len(events) == 1, events
    assert json.loads(events[0].payload_json)["extra"] == {"mykey": "myvalue"}
    assert len(events[0].message_ids) == 1, events[0]
    message_id = events[0].message_ids[0]
    deadline = time.monotonic() + 30
    message = client.get_message(message_id)
    while message.message.state != pb.MESSAGE_STATE_SUBMITTED and time.monotonic() < deadline:
        time.sleep(0.2)
        message = client.get_message(message_id)
    assert message.message.state == pb.MESSAGE_STATE_SUBMITTED, message
    assert [d.device_id for d in message.deliveries] == [session.device_id]
    assert message.message.notification.title == "Example notification"
    assert message.message.notification.body == "This is an example notification"
    assert message.message.notification.data["mykey"] == "myvalue"


def test_a_body_webhookd_would_refuse_raises_with_each_fields_failures(herald: Herald) -> None:
    with herald.client(tenant=herald.tenant_id) as client, pytest.raises(InvalidArgumentError) as raised:
        client.mobile_notifications.send(
            {
                "notification_type": "exampleNotification",
                "title": "Example notification",
                "body": "This is an example notification",
                "user_uuid": "not-a-uuid",
                "extra": {"mykey": "myvalue"},
            }
        )
    error = raised.value
    assert error.http_status == 400
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert error.message == "Sent data is invalid"
    assert error.field_violations == [FieldViolation("user_uuid", "Length must be 36.")]


def test_a_tenant_the_key_may_not_act_for_is_unauthenticated(herald: Herald) -> None:
    with herald.client(tenant="tnt_someoneelse") as client, pytest.raises(UnauthenticatedError) as raised:
        client.mobile_notifications.send(
            {
                "notification_type": "exampleNotification",
                "title": "Example notification",
                "body": "This is an example notification",
                "user_uuid": str(uuid.uuid4()),
                "extra": {},
            }
        )
    assert raised.value.http_status == 401


def test_the_send_and_wait_example_prints_the_outcome(herald: Herald, client: Client, user_id: str) -> None:
    client.register_device(user_id, f"demo-token-{uuid.uuid4().hex}")
    env = dict(os.environ, HERALD_ENDPOINT=herald.endpoint, HERALD_API_KEY=herald.api_key)

    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "send_and_wait.py"), "--user", user_id, "--title", "Hello"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "ONSUBMIT" in run.stdout
    assert "FCM  DELIVERY_STATUS_SUBMITTED  projects/herald-test/messages/" in run.stdout


def test_each_failing_field_of_a_refused_body_is_a_violation(herald: Herald) -> None:
    with herald.client() as client, pytest.raises(InvalidArgumentError) as raised:
        client.mobile_notifications.send({"title": 5, "user_uuid": str(uuid.uuid4()), "unknown": 1})
    assert sorted(raised.value.field_violations) == [
        FieldViolation("body", "Missing data for required field."),
        FieldViolation("notification_type", "Missing data for required field."),
        FieldViolation("title", "Not a valid string."),
        FieldViolation("unknown", "Unknown field."),
    ]


def test_a_missing_token_is_unauthenticated_with_the_reason(herald: Herald) -> None:
    with Client(herald.endpoint) as client, pytest.raises(UnauthenticatedError) as raised:
        client.mobile_notifications.send({"notification_type": "exampleNotification"})
    assert raised.value.http_status == 401
    assert raised.value.message == "Unauthorized: no X-Auth-Token header"
    assert raised.value.field_violations == []
