"""herald_client.Client: the stubs of every Herald service on one channel, and the calls most
applications make."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Generator, Iterator, Mapping
from types import TracebackType
from typing import Any, Callable, Optional, Union

import grpc
from google.protobuf.message import Message as ProtoMessage

from herald_client import pb
from herald_client._errors import UnavailableError
from herald_client._interceptor import HeraldInterceptor
from herald_client._mobile import MobileNotifications
from herald_client._proto.herald.v1.admin_pb2_grpc import AdminStub
from herald_client._proto.herald.v1.credentials_pb2_grpc import CredentialsStub
from herald_client._proto.herald.v1.customers_pb2_grpc import CustomersStub
from herald_client._proto.herald.v1.devices_pb2_grpc import DevicesStub
from herald_client._proto.herald.v1.events_pb2_grpc import EventsStub
from herald_client._proto.herald.v1.notifications_pb2_grpc import NotificationsStub
from herald_client._proto.herald.v1.topics_pb2_grpc import TopicsStub
from herald_client._proto.herald.v1.webhooks_pb2_grpc import WebhooksStub
from herald_client._retry import RetryPolicy

DEFAULT_ENDPOINT = "127.0.0.1:50051"
# How much longer than its wait a SendAndWait call may take (the server answers before the
# call's deadline; this covers the send and the network).
_SEND_AND_WAIT_MARGIN = 10.0
_WAIT_FOR: dict[str, pb.WaitFor] = {
    "submitted": pb.WAIT_FOR_SUBMIT,
    "delivered": pb.WAIT_FOR_DELIVERY_REPORT,
    "read": pb.WAIT_FOR_READ_REPORT,
}


def _platform(platform: Union[str, pb.Platform]) -> Union[str, pb.Platform]:
    """A platform as RegisterDeviceRequest takes it: "android" is "PLATFORM_ANDROID"."""
    if isinstance(platform, str) and not platform.upper().startswith("PLATFORM_"):
        return "PLATFORM_" + platform.upper()
    return platform


def _wait_for(wait_for: Union[str, pb.WaitFor]) -> pb.WaitFor:
    if not isinstance(wait_for, str):
        return wait_for
    try:
        return _WAIT_FOR[wait_for]
    except KeyError:
        raise ValueError(f"wait_for must be one of {', '.join(_WAIT_FOR)}, not {wait_for!r}") from None


def _destination(
    user_id: Optional[str],
    device_id: Optional[str],
    customer_id: Optional[str],
    topic: Optional[str],
    segment: Optional[str],
    push_id: Optional[pb.PushId],
) -> pb.Destination:
    given: dict[str, Any] = {
        name: value
        for name, value in (
            ("user_id", user_id),
            ("device_id", device_id),
            ("customer_id", customer_id),
            ("topic", topic),
            ("segment", segment),
            ("push_id", push_id),
        )
        if value is not None
    }
    if len(given) != 1:
        raise ValueError("give exactly one destination: user_id, device_id, customer_id, topic, segment or push_id")
    return pb.Destination(**given)


def _items_field(response: ProtoMessage) -> str:
    repeated = [field.name for field in response.DESCRIPTOR.fields if field.is_repeated]
    if len(repeated) != 1:
        raise ValueError(f"{response.DESCRIPTOR.name} has no single list of items: name it with items=")
    return repeated[0]


class Client:
    """A connection to Herald's gRPC API (and its HTTP endpoints on the same port).

    `endpoint` is host:port, optionally with a scheme (`https://` means `secure`). Every call
    carries `authorization: Bearer <api_key>` (a tenant key `hrld_…`, or the operator's admin
    key for Admin calls), unary calls get `timeout` seconds as their deadline unless given
    one, calls that fail with UNAVAILABLE are retried with exponential backoff (`retries`: the
    number of retries, or a RetryPolicy), and every failure is raised as a HeraldError.
    `tenant` is the `Wazo-Tenant` that `mobile_notifications` sends.

    The stubs (`admin`, `devices`, `notifications`, `credentials`, `topics`, `customers`,
    `webhooks`, `events`) take the request messages of `herald_client.pb`. Closing the client
    (or leaving its `with` block) closes the channel.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        api_key: Optional[str] = None,
        *,
        secure: bool = False,
        root_certificates: Optional[bytes] = None,
        timeout: Optional[float] = 30.0,
        retries: Union[int, RetryPolicy] = 4,
        tenant: Optional[str] = None,
    ) -> None:
        address = endpoint
        for scheme in ("http://", "https://"):
            if endpoint.startswith(scheme):
                address = endpoint[len(scheme) :].rstrip("/")
                secure = secure or scheme == "https://"
        self.endpoint = address
        self.retry = RetryPolicy.of(retries)
        options = [
            # Reconnect as often as calls are retried, so a retry finds a server that came back.
            ("grpc.initial_reconnect_backoff_ms", int(self.retry.initial_backoff * 1000)),
            ("grpc.min_reconnect_backoff_ms", int(self.retry.initial_backoff * 1000)),
            ("grpc.max_reconnect_backoff_ms", int(self.retry.max_backoff * 1000)),
        ]
        if secure:
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._raw_channel = grpc.secure_channel(address, credentials, options=options)
        else:
            self._raw_channel = grpc.insecure_channel(address, options=options)
        channel = grpc.intercept_channel(self._raw_channel, HeraldInterceptor(api_key, timeout, self.retry))
        self.admin = AdminStub(channel)
        self.devices = DevicesStub(channel)
        self.notifications = NotificationsStub(channel)
        self.credentials = CredentialsStub(channel)
        self.topics = TopicsStub(channel)
        self.customers = CustomersStub(channel)
        self.webhooks = WebhooksStub(channel)
        self.events = EventsStub(channel)
        ssl_context: Optional[ssl.SSLContext] = None
        if secure:
            ssl_context = ssl.create_default_context(
                cadata=root_certificates.decode("ascii") if root_certificates else None
            )
        self.mobile_notifications = MobileNotifications(
            f"{'https' if secure else 'http'}://{address}", api_key, tenant, timeout, self.retry, ssl_context
        )

    def close(self) -> None:
        self._raw_channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    # Sending.

    def _send_request(
        self,
        user_id: Optional[str],
        device_id: Optional[str],
        customer_id: Optional[str],
        topic: Optional[str],
        segment: Optional[str],
        push_id: Optional[pb.PushId],
        title: Optional[str],
        body: Optional[str],
        data: Optional[Mapping[str, str]],
        notification: Optional[pb.Notification],
        idempotency_key: Optional[str],
        fields: Mapping[str, Any],
    ) -> pb.SendRequest:
        content = pb.Notification()
        if notification is not None:
            content.CopyFrom(notification)
        if title is not None:
            content.title = title
        if body is not None:
            content.body = body
        if data:
            content.data.update(data)
        return pb.SendRequest(
            destination=_destination(user_id, device_id, customer_id, topic, segment, push_id),
            notification=content,
            idempotency_key=str(uuid.uuid4()) if idempotency_key is None else idempotency_key,
            **fields,
        )

    def send(
        self,
        *,
        user_id: Optional[str] = None,
        device_id: Optional[str] = None,
        customer_id: Optional[str] = None,
        topic: Optional[str] = None,
        segment: Optional[str] = None,
        push_id: Optional[pb.PushId] = None,
        title: Optional[str] = None,
        body: Optional[str] = None,
        data: Optional[Mapping[str, str]] = None,
        notification: Optional[pb.Notification] = None,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        **fields: Any,
    ) -> pb.SendResponse:
        """Sends a notification to exactly one destination and answers its message id.

        `title`, `body` and `data` fill (or override the fields of) `notification`; any other
        SendRequest field (correlation_id, callback_data, notify_url, variables, send_at_ms,
        local_time, ...) may be given by name. Without an `idempotency_key` one is generated,
        so a retry after UNAVAILABLE never delivers twice (pass "" for none).
        """
        request = self._send_request(
            user_id,
            device_id,
            customer_id,
            topic,
            segment,
            push_id,
            title,
            body,
            data,
            notification,
            idempotency_key,
            fields,
        )
        return self.notifications.Send(request, timeout=timeout)

    def send_and_wait(
        self,
        *,
        user_id: Optional[str] = None,
        device_id: Optional[str] = None,
        customer_id: Optional[str] = None,
        topic: Optional[str] = None,
        segment: Optional[str] = None,
        push_id: Optional[pb.PushId] = None,
        title: Optional[str] = None,
        body: Optional[str] = None,
        data: Optional[Mapping[str, str]] = None,
        notification: Optional[pb.Notification] = None,
        idempotency_key: Optional[str] = None,
        wait_for: Union[str, pb.WaitFor] = "submitted",
        timeout_seconds: int = 30,
        **fields: Any,
    ) -> pb.SendAndWaitResponse:
        """Sends as `send` does, then waits (at most `timeout_seconds`) until a delivery is
        `submitted` to its provider, `delivered` or `read` (or a pb.WaitFor), and answers the
        outcome (pb.WAIT_OUTCOME_ONSUBMIT, ...), its reason and the deliveries as they stood.
        A policy failure is the outcome ONPOLICYFAIL, not an error."""
        request = pb.SendAndWaitRequest(
            request=self._send_request(
                user_id,
                device_id,
                customer_id,
                topic,
                segment,
                push_id,
                title,
                body,
                data,
                notification,
                idempotency_key,
                fields,
            ),
            wait_for=_wait_for(wait_for),
            timeout_seconds=timeout_seconds,
        )
        return self.notifications.SendAndWait(request, timeout=timeout_seconds + _SEND_AND_WAIT_MARGIN)

    def get_message(self, message_id: str) -> pb.GetMessageResponse:
        """The message as accepted and the status of each of its deliveries."""
        return self.notifications.GetMessage(pb.GetMessageRequest(message_id=message_id))

    def watch_message(
        self, message_id: str, *, timeout: Optional[float] = None
    ) -> Generator[pb.DeliveryUpdate, None, None]:
        """Yields the message's deliveries as they are, then each change, until every delivery
        is final (read, failed or expired) or `timeout` seconds pass (DeadlineExceededError).

        A watch cut by UNAVAILABLE (Herald restarting) is resumed under the client's retry
        policy, skipping what was already yielded. Leaving the loop early (or close()) cancels
        the call."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: set[tuple[str, int]] = set()
        failures = 0
        while True:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            call = self.notifications.WatchMessage(pb.WatchMessageRequest(message_id=message_id), timeout=remaining)
            try:
                for update in call:
                    failures = 0
                    key = (update.delivery.delivery_id, update.delivery.status)
                    if key not in seen:
                        seen.add(key)
                        yield update
                return
            except UnavailableError:
                failures += 1
                if failures >= self.retry.max_attempts:
                    raise
                time.sleep(self.retry.delay(failures))
            finally:
                call.cancel()

    # Paging.

    def paginate(
        self, method: Callable[..., Any], request: ProtoMessage, *, items: Optional[str] = None
    ) -> Iterator[Any]:
        """Yields the items of every page of a List call, following next_page_token:
        `client.paginate(client.devices.ListDevices, pb.ListDevicesRequest(user_id="alice"))`.
        `items` names the response's list field; by default its only repeated field."""
        page = type(request)()
        page.CopyFrom(request)
        while True:
            response = method(page)
            yield from getattr(response, items or _items_field(response))
            if not response.next_page_token:
                return
            page.page_token = response.next_page_token

    def iter_devices(self, **fields: Any) -> Iterator[pb.Device]:
        """Every device matching the ListDevicesRequest fields given (user_id, platform,
        browser, state; page_size sets the page)."""
        return self.paginate(self.devices.ListDevices, pb.ListDevicesRequest(**fields))

    def iter_tenants(self, **fields: Any) -> Iterator[pb.Tenant]:
        return self.paginate(self.admin.ListTenants, pb.ListTenantsRequest(**fields))

    def iter_api_keys(self, **fields: Any) -> Iterator[pb.ApiKey]:
        return self.paginate(self.admin.ListApiKeys, pb.ListApiKeysRequest(**fields))

    def iter_credentials(self, **fields: Any) -> Iterator[pb.CredentialInfo]:
        return self.paginate(self.credentials.ListCredentials, pb.ListCredentialsRequest(**fields))

    def iter_customers(self, **fields: Any) -> Iterator[pb.Customer]:
        return self.paginate(self.customers.ListCustomers, pb.ListCustomersRequest(**fields))

    def iter_topics(self, **fields: Any) -> Iterator[pb.Topic]:
        return self.paginate(self.topics.ListTopics, pb.ListTopicsRequest(**fields))

    def iter_segments(self, **fields: Any) -> Iterator[pb.Segment]:
        return self.paginate(self.topics.ListSegments, pb.ListSegmentsRequest(**fields))

    def iter_webhooks(self, **fields: Any) -> Iterator[pb.Webhook]:
        return self.paginate(self.webhooks.ListWebhooks, pb.ListWebhooksRequest(**fields))

    def iter_webhook_attempts(self, **fields: Any) -> Iterator[pb.WebhookAttempt]:
        return self.paginate(self.webhooks.ListWebhookAttempts, pb.ListWebhookAttemptsRequest(**fields))

    def iter_events(self, **fields: Any) -> Iterator[pb.EventRecord]:
        return self.paginate(self.events.ListEvents, pb.ListEventsRequest(**fields))

    def iter_triggers(self, **fields: Any) -> Iterator[pb.Trigger]:
        return self.paginate(self.events.ListTriggers, pb.ListTriggersRequest(**fields))

    def iter_mobile_sessions(self, **fields: Any) -> Iterator[pb.MobileSession]:
        return self.paginate(self.events.ListMobileSessions, pb.ListMobileSessionsRequest(**fields))

    def iter_messages(self, **fields: Any) -> Iterator[pb.Message]:
        """The tenant's messages, newest first (without their deliveries: get_message has them)."""
        return self.paginate(self.notifications.ListMessages, pb.ListMessagesRequest(**fields))

    def iter_scheduled_messages(self, **fields: Any) -> Iterator[pb.Message]:
        return self.paginate(self.notifications.ListScheduledMessages, pb.ListScheduledMessagesRequest(**fields))

    # Set-up.

    def register_device(
        self, user_id: str, push_token: str, platform: Union[str, pb.Platform] = "android", **fields: Any
    ) -> pb.RegisterDeviceResponse:
        """Registers a device (`platform` by name, "android", "ios", "huawei", ..., or a
        pb.Platform); other RegisterDeviceRequest fields by name."""
        request = pb.RegisterDeviceRequest(
            user_id=user_id, push_token=push_token, platform=_platform(platform), **fields
        )
        return self.devices.RegisterDevice(request)

    def set_fcm_credential(
        self, service_account_json: str, *, project_id: str = "", label: str = ""
    ) -> pb.CredentialInfo:
        """Stores the tenant's FCM credential: a Firebase service-account JSON (its text)."""
        fcm = pb.FcmCredential(service_account_json=service_account_json, project_id=project_id)
        return self.credentials.SetCredential(pb.SetCredentialRequest(fcm=fcm, label=label))

    def create_tenant(self, display_name: str) -> pb.Tenant:
        """Creates a tenant (needs the operator's admin key)."""
        return self.admin.CreateTenant(pb.CreateTenantRequest(display_name=display_name))

    def create_api_key(
        self, tenant_id: str = "", display_name: str = "", scope: pb.ApiKeyScope = pb.API_KEY_SCOPE_SERVER
    ) -> pb.CreateApiKeyResponse:
        """Creates an API key; its secret (`.key`, hrld_…) is shown only in this answer.
        With the admin key, name the tenant; with a tenant key, leave it empty."""
        return self.admin.CreateApiKey(
            pb.CreateApiKeyRequest(tenant_id=tenant_id, display_name=display_name, scope=scope)
        )
