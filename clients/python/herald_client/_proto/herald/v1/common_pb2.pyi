from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Platform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLATFORM_UNSPECIFIED: _ClassVar[Platform]
    PLATFORM_ANDROID: _ClassVar[Platform]
    PLATFORM_IOS: _ClassVar[Platform]
    PLATFORM_MACOS: _ClassVar[Platform]
    PLATFORM_HUAWEI: _ClassVar[Platform]
    PLATFORM_WEB: _ClassVar[Platform]

class Browser(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BROWSER_UNSPECIFIED: _ClassVar[Browser]
    BROWSER_CHROME: _ClassVar[Browser]
    BROWSER_FIREFOX: _ClassVar[Browser]
    BROWSER_SAFARI: _ClassVar[Browser]
    BROWSER_EDGE: _ClassVar[Browser]
    BROWSER_OPERA: _ClassVar[Browser]

class Provider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_UNSPECIFIED: _ClassVar[Provider]
    PROVIDER_FCM: _ClassVar[Provider]
    PROVIDER_APNS: _ClassVar[Provider]
    PROVIDER_WEBPUSH: _ClassVar[Provider]
    PROVIDER_HMS: _ClassVar[Provider]

class MessageClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_CLASS_UNSPECIFIED: _ClassVar[MessageClass]
    MESSAGE_CLASS_STANDARD: _ClassVar[MessageClass]
    MESSAGE_CLASS_TRANSACTIONAL: _ClassVar[MessageClass]
    MESSAGE_CLASS_MARKETING: _ClassVar[MessageClass]

class QuietAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUIET_ACTION_UNSPECIFIED: _ClassVar[QuietAction]
    QUIET_ACTION_HOLD: _ClassVar[QuietAction]
    QUIET_ACTION_DROP: _ClassVar[QuietAction]
PLATFORM_UNSPECIFIED: Platform
PLATFORM_ANDROID: Platform
PLATFORM_IOS: Platform
PLATFORM_MACOS: Platform
PLATFORM_HUAWEI: Platform
PLATFORM_WEB: Platform
BROWSER_UNSPECIFIED: Browser
BROWSER_CHROME: Browser
BROWSER_FIREFOX: Browser
BROWSER_SAFARI: Browser
BROWSER_EDGE: Browser
BROWSER_OPERA: Browser
PROVIDER_UNSPECIFIED: Provider
PROVIDER_FCM: Provider
PROVIDER_APNS: Provider
PROVIDER_WEBPUSH: Provider
PROVIDER_HMS: Provider
MESSAGE_CLASS_UNSPECIFIED: MessageClass
MESSAGE_CLASS_STANDARD: MessageClass
MESSAGE_CLASS_TRANSACTIONAL: MessageClass
MESSAGE_CLASS_MARKETING: MessageClass
QUIET_ACTION_UNSPECIFIED: QuietAction
QUIET_ACTION_HOLD: QuietAction
QUIET_ACTION_DROP: QuietAction

class QuietHours(_message.Message):
    __slots__ = ("start", "end", "standard", "marketing")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STANDARD_FIELD_NUMBER: _ClassVar[int]
    MARKETING_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    standard: QuietAction
    marketing: QuietAction
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ..., standard: _Optional[_Union[QuietAction, str]] = ..., marketing: _Optional[_Union[QuietAction, str]] = ...) -> None: ...
