from google.protobuf import field_mask_pb2 as _field_mask_pb2
from herald_client._proto.herald.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChannelIdentity(_message.Message):
    __slots__ = ("channel", "id")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    channel: str
    id: str
    def __init__(self, channel: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class CustomerPreferences(_message.Message):
    __slots__ = ("push_opt_out", "opted_out_topics", "quiet_hours")
    PUSH_OPT_OUT_FIELD_NUMBER: _ClassVar[int]
    OPTED_OUT_TOPICS_FIELD_NUMBER: _ClassVar[int]
    QUIET_HOURS_FIELD_NUMBER: _ClassVar[int]
    push_opt_out: bool
    opted_out_topics: _containers.RepeatedScalarFieldContainer[str]
    quiet_hours: _common_pb2.QuietHours
    def __init__(self, push_opt_out: bool = ..., opted_out_topics: _Optional[_Iterable[str]] = ..., quiet_hours: _Optional[_Union[_common_pb2.QuietHours, _Mapping]] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("customer_id", "name", "locale", "time_zone", "attributes", "user_ids", "identities", "preferences", "created_at_ms", "updated_at_ms")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    name: str
    locale: str
    time_zone: str
    attributes: _containers.ScalarMap[str, str]
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    identities: _containers.RepeatedCompositeFieldContainer[ChannelIdentity]
    preferences: CustomerPreferences
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, customer_id: _Optional[str] = ..., name: _Optional[str] = ..., locale: _Optional[str] = ..., time_zone: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., user_ids: _Optional[_Iterable[str]] = ..., identities: _Optional[_Iterable[_Union[ChannelIdentity, _Mapping]]] = ..., preferences: _Optional[_Union[CustomerPreferences, _Mapping]] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class UpdateCustomerRequest(_message.Message):
    __slots__ = ("customer", "update_mask")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class DeleteCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class DeleteCustomerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "next_page_token")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    next_page_token: str
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class LinkUserRequest(_message.Message):
    __slots__ = ("customer_id", "user_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    user_id: str
    def __init__(self, customer_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class UnlinkUserRequest(_message.Message):
    __slots__ = ("customer_id", "user_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    user_id: str
    def __init__(self, customer_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...
