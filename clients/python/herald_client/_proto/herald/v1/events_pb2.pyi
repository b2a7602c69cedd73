from herald_client._proto.herald.v1 import common_pb2 as _common_pb2
from herald_client._proto.herald.v1 import devices_pb2 as _devices_pb2
from herald_client._proto.herald.v1 import notifications_pb2 as _notifications_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PublishEventRequest(_message.Message):
    __slots__ = ("event_type", "variables", "destination", "idempotency_key", "payload_json")
    class VariablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    event_type: str
    variables: _containers.ScalarMap[str, str]
    destination: _notifications_pb2.Destination
    idempotency_key: str
    payload_json: str
    def __init__(self, event_type: _Optional[str] = ..., variables: _Optional[_Mapping[str, str]] = ..., destination: _Optional[_Union[_notifications_pb2.Destination, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., payload_json: _Optional[str] = ...) -> None: ...

class PublishEventResponse(_message.Message):
    __slots__ = ("message_ids", "event_id", "outcomes", "duplicate")
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    message_ids: _containers.RepeatedScalarFieldContainer[str]
    event_id: str
    outcomes: _containers.RepeatedCompositeFieldContainer[TriggerOutcome]
    duplicate: bool
    def __init__(self, message_ids: _Optional[_Iterable[str]] = ..., event_id: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[TriggerOutcome, _Mapping]]] = ..., duplicate: bool = ...) -> None: ...

class TriggerOutcome(_message.Message):
    __slots__ = ("trigger_id", "display_name", "matched", "message_ids", "reason")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    trigger_id: str
    display_name: str
    matched: bool
    message_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, trigger_id: _Optional[str] = ..., display_name: _Optional[str] = ..., matched: bool = ..., message_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class EventRecord(_message.Message):
    __slots__ = ("event_id", "event_type", "payload_json", "destination", "idempotency_key", "created_at_ms", "outcomes", "message_ids", "source")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_type: str
    payload_json: str
    destination: _notifications_pb2.Destination
    idempotency_key: str
    created_at_ms: int
    outcomes: _containers.RepeatedCompositeFieldContainer[TriggerOutcome]
    message_ids: _containers.RepeatedScalarFieldContainer[str]
    source: str
    def __init__(self, event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., payload_json: _Optional[str] = ..., destination: _Optional[_Union[_notifications_pb2.Destination, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., outcomes: _Optional[_Iterable[_Union[TriggerOutcome, _Mapping]]] = ..., message_ids: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("event_type", "page_size", "page_token")
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    event_type: str
    page_size: int
    page_token: str
    def __init__(self, event_type: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventRecord]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[EventRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Trigger(_message.Message):
    __slots__ = ("trigger_id", "display_name", "event_type", "condition", "template", "providers", "enabled", "destination", "mobile_sessions", "builtin", "created_at_ms", "updated_at_ms")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    MOBILE_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    trigger_id: str
    display_name: str
    event_type: str
    condition: str
    template: _notifications_pb2.Notification
    providers: _containers.RepeatedScalarFieldContainer[_common_pb2.Provider]
    enabled: bool
    destination: _notifications_pb2.Destination
    mobile_sessions: bool
    builtin: bool
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, trigger_id: _Optional[str] = ..., display_name: _Optional[str] = ..., event_type: _Optional[str] = ..., condition: _Optional[str] = ..., template: _Optional[_Union[_notifications_pb2.Notification, _Mapping]] = ..., providers: _Optional[_Iterable[_Union[_common_pb2.Provider, str]]] = ..., enabled: bool = ..., destination: _Optional[_Union[_notifications_pb2.Destination, _Mapping]] = ..., mobile_sessions: bool = ..., builtin: bool = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., **kwargs) -> None: ...

class CreateTriggerRequest(_message.Message):
    __slots__ = ("display_name", "event_type", "condition", "template", "providers", "destination", "mobile_sessions", "disabled")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    MOBILE_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    event_type: str
    condition: str
    template: _notifications_pb2.Notification
    providers: _containers.RepeatedScalarFieldContainer[_common_pb2.Provider]
    destination: _notifications_pb2.Destination
    mobile_sessions: bool
    disabled: bool
    def __init__(self, display_name: _Optional[str] = ..., event_type: _Optional[str] = ..., condition: _Optional[str] = ..., template: _Optional[_Union[_notifications_pb2.Notification, _Mapping]] = ..., providers: _Optional[_Iterable[_Union[_common_pb2.Provider, str]]] = ..., destination: _Optional[_Union[_notifications_pb2.Destination, _Mapping]] = ..., mobile_sessions: bool = ..., disabled: bool = ..., **kwargs) -> None: ...

class Channels(_message.Message):
    __slots__ = ("providers",)
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedScalarFieldContainer[_common_pb2.Provider]
    def __init__(self, providers: _Optional[_Iterable[_Union[_common_pb2.Provider, str]]] = ...) -> None: ...

class UpdateTriggerRequest(_message.Message):
    __slots__ = ("trigger_id", "display_name", "event_type", "condition", "template", "channels", "destination", "mobile_sessions", "enabled")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    MOBILE_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    trigger_id: str
    display_name: str
    event_type: str
    condition: str
    template: _notifications_pb2.Notification
    channels: Channels
    destination: _notifications_pb2.Destination
    mobile_sessions: bool
    enabled: bool
    def __init__(self, trigger_id: _Optional[str] = ..., display_name: _Optional[str] = ..., event_type: _Optional[str] = ..., condition: _Optional[str] = ..., template: _Optional[_Union[_notifications_pb2.Notification, _Mapping]] = ..., channels: _Optional[_Union[Channels, _Mapping]] = ..., destination: _Optional[_Union[_notifications_pb2.Destination, _Mapping]] = ..., mobile_sessions: bool = ..., enabled: bool = ..., **kwargs) -> None: ...

class GetTriggerRequest(_message.Message):
    __slots__ = ("trigger_id",)
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    trigger_id: str
    def __init__(self, trigger_id: _Optional[str] = ...) -> None: ...

class DeleteTriggerRequest(_message.Message):
    __slots__ = ("trigger_id",)
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    trigger_id: str
    def __init__(self, trigger_id: _Optional[str] = ...) -> None: ...

class DeleteTriggerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTriggersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "event_type")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    event_type: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., event_type: _Optional[str] = ...) -> None: ...

class ListTriggersResponse(_message.Message):
    __slots__ = ("triggers", "next_page_token")
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    triggers: _containers.RepeatedCompositeFieldContainer[Trigger]
    next_page_token: str
    def __init__(self, triggers: _Optional[_Iterable[_Union[Trigger, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class MobileSession(_message.Message):
    __slots__ = ("session_id", "user_id", "device_id", "voip_device_id", "created_at_ms")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    VOIP_DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    user_id: str
    device_id: str
    voip_device_id: str
    created_at_ms: int
    def __init__(self, session_id: _Optional[str] = ..., user_id: _Optional[str] = ..., device_id: _Optional[str] = ..., voip_device_id: _Optional[str] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class StartMobileSessionRequest(_message.Message):
    __slots__ = ("user_id", "device", "voip_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    VOIP_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    device: _devices_pb2.RegisterDeviceRequest
    voip_token: str
    def __init__(self, user_id: _Optional[str] = ..., device: _Optional[_Union[_devices_pb2.RegisterDeviceRequest, _Mapping]] = ..., voip_token: _Optional[str] = ...) -> None: ...

class EndMobileSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class EndMobileSessionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMobileSessionsRequest(_message.Message):
    __slots__ = ("user_id", "page_size", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    page_size: int
    page_token: str
    def __init__(self, user_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMobileSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[MobileSession]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[MobileSession, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
