from google.protobuf import field_mask_pb2 as _field_mask_pb2
from herald_client._proto.herald.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CapScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAP_SCOPE_UNSPECIFIED: _ClassVar[CapScope]
    CAP_SCOPE_DEVICE: _ClassVar[CapScope]
    CAP_SCOPE_USER: _ClassVar[CapScope]

class ApiKeyScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    API_KEY_SCOPE_UNSPECIFIED: _ClassVar[ApiKeyScope]
    API_KEY_SCOPE_SERVER: _ClassVar[ApiKeyScope]
    API_KEY_SCOPE_APP: _ClassVar[ApiKeyScope]
CAP_SCOPE_UNSPECIFIED: CapScope
CAP_SCOPE_DEVICE: CapScope
CAP_SCOPE_USER: CapScope
API_KEY_SCOPE_UNSPECIFIED: ApiKeyScope
API_KEY_SCOPE_SERVER: ApiKeyScope
API_KEY_SCOPE_APP: ApiKeyScope

class Tenant(_message.Message):
    __slots__ = ("tenant_id", "display_name", "created_at_ms", "settings")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    display_name: str
    created_at_ms: int
    settings: TenantSettings
    def __init__(self, tenant_id: _Optional[str] = ..., display_name: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., settings: _Optional[_Union[TenantSettings, _Mapping]] = ...) -> None: ...

class TenantSettings(_message.Message):
    __slots__ = ("allow_http_web_push", "topic_messaging_disabled", "segment_messaging_disabled", "default_time_zone", "quiet_hours", "frequency_caps", "rate_limits")
    ALLOW_HTTP_WEB_PUSH_FIELD_NUMBER: _ClassVar[int]
    TOPIC_MESSAGING_DISABLED_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_MESSAGING_DISABLED_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    QUIET_HOURS_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_CAPS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    allow_http_web_push: bool
    topic_messaging_disabled: bool
    segment_messaging_disabled: bool
    default_time_zone: str
    quiet_hours: _common_pb2.QuietHours
    frequency_caps: _containers.RepeatedCompositeFieldContainer[FrequencyCap]
    rate_limits: _containers.RepeatedCompositeFieldContainer[RateLimit]
    def __init__(self, allow_http_web_push: bool = ..., topic_messaging_disabled: bool = ..., segment_messaging_disabled: bool = ..., default_time_zone: _Optional[str] = ..., quiet_hours: _Optional[_Union[_common_pb2.QuietHours, _Mapping]] = ..., frequency_caps: _Optional[_Iterable[_Union[FrequencyCap, _Mapping]]] = ..., rate_limits: _Optional[_Iterable[_Union[RateLimit, _Mapping]]] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("provider", "per_minute")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    provider: _common_pb2.Provider
    per_minute: int
    def __init__(self, provider: _Optional[_Union[_common_pb2.Provider, str]] = ..., per_minute: _Optional[int] = ...) -> None: ...

class FrequencyCap(_message.Message):
    __slots__ = ("max", "window_seconds", "per")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PER_FIELD_NUMBER: _ClassVar[int]
    max: int
    window_seconds: int
    per: CapScope
    def __init__(self, max: _Optional[int] = ..., window_seconds: _Optional[int] = ..., per: _Optional[_Union[CapScope, str]] = ..., **kwargs) -> None: ...

class UpdateTenantRequest(_message.Message):
    __slots__ = ("tenant", "update_mask")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tenant: Tenant
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tenant: _Optional[_Union[Tenant, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class CreateTenantRequest(_message.Message):
    __slots__ = ("display_name",)
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    def __init__(self, display_name: _Optional[str] = ...) -> None: ...

class ListTenantsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTenantsResponse(_message.Message):
    __slots__ = ("tenants", "next_page_token")
    TENANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tenants: _containers.RepeatedCompositeFieldContainer[Tenant]
    next_page_token: str
    def __init__(self, tenants: _Optional[_Iterable[_Union[Tenant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("key_id", "tenant_id", "display_name", "prefix", "created_at_ms", "revoked_at_ms", "scope")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    tenant_id: str
    display_name: str
    prefix: str
    created_at_ms: int
    revoked_at_ms: int
    scope: ApiKeyScope
    def __init__(self, key_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., display_name: _Optional[str] = ..., prefix: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., revoked_at_ms: _Optional[int] = ..., scope: _Optional[_Union[ApiKeyScope, str]] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("tenant_id", "display_name", "scope")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    display_name: str
    scope: ApiKeyScope
    def __init__(self, tenant_id: _Optional[str] = ..., display_name: _Optional[str] = ..., scope: _Optional[_Union[ApiKeyScope, str]] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("api_key", "key")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: ApiKey
    key: str
    def __init__(self, api_key: _Optional[_Union[ApiKey, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("tenant_id", "page_size", "page_token")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    page_size: int
    page_token: str
    def __init__(self, tenant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("api_keys", "next_page_token")
    API_KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    api_keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    next_page_token: str
    def __init__(self, api_keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("tenant_id", "key_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    key_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
