from herald_client._proto.herald.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeviceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEVICE_STATE_UNSPECIFIED: _ClassVar[DeviceState]
    DEVICE_STATE_ACTIVE: _ClassVar[DeviceState]
    DEVICE_STATE_INACTIVE: _ClassVar[DeviceState]
    DEVICE_STATE_EXPIRED: _ClassVar[DeviceState]
    DEVICE_STATE_UNSUBSCRIBED: _ClassVar[DeviceState]
DEVICE_STATE_UNSPECIFIED: DeviceState
DEVICE_STATE_ACTIVE: DeviceState
DEVICE_STATE_INACTIVE: DeviceState
DEVICE_STATE_EXPIRED: DeviceState
DEVICE_STATE_UNSUBSCRIBED: DeviceState

class ImportDevicesRequest(_message.Message):
    __slots__ = ("rows", "dry_run")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[ImportRow]
    dry_run: bool
    def __init__(self, rows: _Optional[_Iterable[_Union[ImportRow, _Mapping]]] = ..., dry_run: bool = ...) -> None: ...

class ImportRow(_message.Message):
    __slots__ = ("line", "device", "topics")
    LINE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    line: int
    device: RegisterDeviceRequest
    topics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, line: _Optional[int] = ..., device: _Optional[_Union[RegisterDeviceRequest, _Mapping]] = ..., topics: _Optional[_Iterable[str]] = ...) -> None: ...

class ImportRowError(_message.Message):
    __slots__ = ("line", "field", "reason")
    LINE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    line: int
    field: str
    reason: str
    def __init__(self, line: _Optional[int] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ImportDevicesResponse(_message.Message):
    __slots__ = ("imported", "created", "errors", "error_count")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    imported: int
    created: int
    errors: _containers.RepeatedCompositeFieldContainer[ImportRowError]
    error_count: int
    def __init__(self, imported: _Optional[int] = ..., created: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ImportRowError, _Mapping]]] = ..., error_count: _Optional[int] = ...) -> None: ...

class WebSubscription(_message.Message):
    __slots__ = ("endpoint", "p256dh", "auth")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    P256DH_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    p256dh: str
    auth: str
    def __init__(self, endpoint: _Optional[str] = ..., p256dh: _Optional[str] = ..., auth: _Optional[str] = ...) -> None: ...

class Device(_message.Message):
    __slots__ = ("device_id", "user_id", "customer_id", "platform", "push_token", "browser", "web_subscription", "sandbox", "app_version", "locale", "state", "state_reason", "created_at_ms", "updated_at_ms", "last_active_at_ms", "time_zone")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PUSH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BROWSER_FIELD_NUMBER: _ClassVar[int]
    WEB_SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SANDBOX_FIELD_NUMBER: _ClassVar[int]
    APP_VERSION_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVE_AT_MS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    user_id: str
    customer_id: str
    platform: _common_pb2.Platform
    push_token: str
    browser: _common_pb2.Browser
    web_subscription: WebSubscription
    sandbox: bool
    app_version: str
    locale: str
    state: DeviceState
    state_reason: str
    created_at_ms: int
    updated_at_ms: int
    last_active_at_ms: int
    time_zone: str
    def __init__(self, device_id: _Optional[str] = ..., user_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., platform: _Optional[_Union[_common_pb2.Platform, str]] = ..., push_token: _Optional[str] = ..., browser: _Optional[_Union[_common_pb2.Browser, str]] = ..., web_subscription: _Optional[_Union[WebSubscription, _Mapping]] = ..., sandbox: bool = ..., app_version: _Optional[str] = ..., locale: _Optional[str] = ..., state: _Optional[_Union[DeviceState, str]] = ..., state_reason: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., last_active_at_ms: _Optional[int] = ..., time_zone: _Optional[str] = ...) -> None: ...

class RegisterDeviceRequest(_message.Message):
    __slots__ = ("user_id", "customer_id", "platform", "push_token", "browser", "web_subscription", "sandbox", "app_version", "locale", "time_zone")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PUSH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BROWSER_FIELD_NUMBER: _ClassVar[int]
    WEB_SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SANDBOX_FIELD_NUMBER: _ClassVar[int]
    APP_VERSION_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    customer_id: str
    platform: _common_pb2.Platform
    push_token: str
    browser: _common_pb2.Browser
    web_subscription: WebSubscription
    sandbox: bool
    app_version: str
    locale: str
    time_zone: str
    def __init__(self, user_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., platform: _Optional[_Union[_common_pb2.Platform, str]] = ..., push_token: _Optional[str] = ..., browser: _Optional[_Union[_common_pb2.Browser, str]] = ..., web_subscription: _Optional[_Union[WebSubscription, _Mapping]] = ..., sandbox: bool = ..., app_version: _Optional[str] = ..., locale: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class RegisterDeviceResponse(_message.Message):
    __slots__ = ("device", "created")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    device: Device
    created: bool
    def __init__(self, device: _Optional[_Union[Device, _Mapping]] = ..., created: bool = ...) -> None: ...

class UnregisterDeviceRequest(_message.Message):
    __slots__ = ("device_id",)
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    def __init__(self, device_id: _Optional[str] = ...) -> None: ...

class UnregisterDeviceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDeviceRequest(_message.Message):
    __slots__ = ("device_id",)
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    def __init__(self, device_id: _Optional[str] = ...) -> None: ...

class ListDevicesRequest(_message.Message):
    __slots__ = ("user_id", "page_size", "page_token", "platform", "browser", "state")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    BROWSER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    page_size: int
    page_token: str
    platform: _common_pb2.Platform
    browser: _common_pb2.Browser
    state: DeviceState
    def __init__(self, user_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., platform: _Optional[_Union[_common_pb2.Platform, str]] = ..., browser: _Optional[_Union[_common_pb2.Browser, str]] = ..., state: _Optional[_Union[DeviceState, str]] = ...) -> None: ...

class ListDevicesResponse(_message.Message):
    __slots__ = ("devices", "next_page_token")
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    next_page_token: str
    def __init__(self, devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
