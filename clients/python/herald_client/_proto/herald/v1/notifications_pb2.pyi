from herald_client._proto.herald.v1 import common_pb2 as _common_pb2
from herald_client._proto.herald.v1 import devices_pb2 as _devices_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_TYPE_UNSPECIFIED: _ClassVar[ActionType]
    ACTION_TYPE_OPEN_APP: _ClassVar[ActionType]
    ACTION_TYPE_OPEN_URL: _ClassVar[ActionType]
    ACTION_TYPE_OPEN_WEBVIEW: _ClassVar[ActionType]
    ACTION_TYPE_DEEPLINK: _ClassVar[ActionType]
    ACTION_TYPE_OPEN_HTML: _ClassVar[ActionType]

class InteractionCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERACTION_CATEGORY_UNSPECIFIED: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_DISMISS: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_SUBSCRIBE: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_UNSUBSCRIBE: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_SHARE: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_OPEN: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_SUBSCRIBE_OR_UNSUBSCRIBE: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_SHARE_OR_CANCEL: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_LIKE_OR_SHARE: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_YES_OR_NO: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_ACCEPT_OR_CANCEL: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_SHOPNOW_OR_CANCEL: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_LATER_OR_NOW: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_PLAYNOW_OR_PLAYLATER: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_OK_OR_LEARNMORE: _ClassVar[InteractionCategory]
    INTERACTION_CATEGORY_BUYNOW_OR_BUYLATER: _ClassVar[InteractionCategory]

class AttachmentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTACHMENT_TYPE_UNSPECIFIED: _ClassVar[AttachmentType]
    ATTACHMENT_TYPE_IMAGE: _ClassVar[AttachmentType]
    ATTACHMENT_TYPE_VIDEO: _ClassVar[AttachmentType]
    ATTACHMENT_TYPE_AUDIO: _ClassVar[AttachmentType]
    ATTACHMENT_TYPE_GIF: _ClassVar[AttachmentType]

class ApnsPushType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APNS_PUSH_TYPE_UNSPECIFIED: _ClassVar[ApnsPushType]
    APNS_PUSH_TYPE_ALERT: _ClassVar[ApnsPushType]
    APNS_PUSH_TYPE_BACKGROUND: _ClassVar[ApnsPushType]
    APNS_PUSH_TYPE_VOIP: _ClassVar[ApnsPushType]

class WaitFor(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WAIT_FOR_UNSPECIFIED: _ClassVar[WaitFor]
    WAIT_FOR_SUBMIT: _ClassVar[WaitFor]
    WAIT_FOR_DELIVERY_REPORT: _ClassVar[WaitFor]
    WAIT_FOR_READ_REPORT: _ClassVar[WaitFor]

class WaitOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WAIT_OUTCOME_UNSPECIFIED: _ClassVar[WaitOutcome]
    WAIT_OUTCOME_ONSUBMIT: _ClassVar[WaitOutcome]
    WAIT_OUTCOME_ONDRSUCCESS: _ClassVar[WaitOutcome]
    WAIT_OUTCOME_ONREAD: _ClassVar[WaitOutcome]
    WAIT_OUTCOME_ONDRFAIL: _ClassVar[WaitOutcome]
    WAIT_OUTCOME_ONPOLICYFAIL: _ClassVar[WaitOutcome]
    WAIT_OUTCOME_ONERROR: _ClassVar[WaitOutcome]
    WAIT_OUTCOME_ONTIMEOUT: _ClassVar[WaitOutcome]

class MessageState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_STATE_UNSPECIFIED: _ClassVar[MessageState]
    MESSAGE_STATE_ACCEPTED: _ClassVar[MessageState]
    MESSAGE_STATE_ROUTED: _ClassVar[MessageState]
    MESSAGE_STATE_FAILED: _ClassVar[MessageState]
    MESSAGE_STATE_SUBMITTED: _ClassVar[MessageState]
    MESSAGE_STATE_PARTIALLY_FAILED: _ClassVar[MessageState]
    MESSAGE_STATE_ROUTING: _ClassVar[MessageState]
    MESSAGE_STATE_SCHEDULED: _ClassVar[MessageState]
    MESSAGE_STATE_CANCELLED: _ClassVar[MessageState]

class DeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATUS_UNSPECIFIED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_QUEUED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_SUBMITTED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_DELIVERED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_READ: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_FAILED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_EXPIRED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_CANCELLED: _ClassVar[DeliveryStatus]

class DeviceEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEVICE_EVENT_KIND_UNSPECIFIED: _ClassVar[DeviceEventKind]
    DEVICE_EVENT_KIND_DELIVERED: _ClassVar[DeviceEventKind]
    DEVICE_EVENT_KIND_READ: _ClassVar[DeviceEventKind]
    DEVICE_EVENT_KIND_CLICKED: _ClassVar[DeviceEventKind]
    DEVICE_EVENT_KIND_BUTTON: _ClassVar[DeviceEventKind]

class RecallAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECALL_ACTION_UNSPECIFIED: _ClassVar[RecallAction]
    RECALL_ACTION_CANCELLED: _ClassVar[RecallAction]
    RECALL_ACTION_IN_FLIGHT: _ClassVar[RecallAction]
    RECALL_ACTION_ALREADY_SENT: _ClassVar[RecallAction]
    RECALL_ACTION_ALREADY_FINAL: _ClassVar[RecallAction]
    RECALL_ACTION_REMOVAL_REQUESTED: _ClassVar[RecallAction]
ACTION_TYPE_UNSPECIFIED: ActionType
ACTION_TYPE_OPEN_APP: ActionType
ACTION_TYPE_OPEN_URL: ActionType
ACTION_TYPE_OPEN_WEBVIEW: ActionType
ACTION_TYPE_DEEPLINK: ActionType
ACTION_TYPE_OPEN_HTML: ActionType
INTERACTION_CATEGORY_UNSPECIFIED: InteractionCategory
INTERACTION_CATEGORY_DISMISS: InteractionCategory
INTERACTION_CATEGORY_SUBSCRIBE: InteractionCategory
INTERACTION_CATEGORY_UNSUBSCRIBE: InteractionCategory
INTERACTION_CATEGORY_SHARE: InteractionCategory
INTERACTION_CATEGORY_OPEN: InteractionCategory
INTERACTION_CATEGORY_SUBSCRIBE_OR_UNSUBSCRIBE: InteractionCategory
INTERACTION_CATEGORY_SHARE_OR_CANCEL: InteractionCategory
INTERACTION_CATEGORY_LIKE_OR_SHARE: InteractionCategory
INTERACTION_CATEGORY_YES_OR_NO: InteractionCategory
INTERACTION_CATEGORY_ACCEPT_OR_CANCEL: InteractionCategory
INTERACTION_CATEGORY_SHOPNOW_OR_CANCEL: InteractionCategory
INTERACTION_CATEGORY_LATER_OR_NOW: InteractionCategory
INTERACTION_CATEGORY_PLAYNOW_OR_PLAYLATER: InteractionCategory
INTERACTION_CATEGORY_OK_OR_LEARNMORE: InteractionCategory
INTERACTION_CATEGORY_BUYNOW_OR_BUYLATER: InteractionCategory
ATTACHMENT_TYPE_UNSPECIFIED: AttachmentType
ATTACHMENT_TYPE_IMAGE: AttachmentType
ATTACHMENT_TYPE_VIDEO: AttachmentType
ATTACHMENT_TYPE_AUDIO: AttachmentType
ATTACHMENT_TYPE_GIF: AttachmentType
APNS_PUSH_TYPE_UNSPECIFIED: ApnsPushType
APNS_PUSH_TYPE_ALERT: ApnsPushType
APNS_PUSH_TYPE_BACKGROUND: ApnsPushType
APNS_PUSH_TYPE_VOIP: ApnsPushType
WAIT_FOR_UNSPECIFIED: WaitFor
WAIT_FOR_SUBMIT: WaitFor
WAIT_FOR_DELIVERY_REPORT: WaitFor
WAIT_FOR_READ_REPORT: WaitFor
WAIT_OUTCOME_UNSPECIFIED: WaitOutcome
WAIT_OUTCOME_ONSUBMIT: WaitOutcome
WAIT_OUTCOME_ONDRSUCCESS: WaitOutcome
WAIT_OUTCOME_ONREAD: WaitOutcome
WAIT_OUTCOME_ONDRFAIL: WaitOutcome
WAIT_OUTCOME_ONPOLICYFAIL: WaitOutcome
WAIT_OUTCOME_ONERROR: WaitOutcome
WAIT_OUTCOME_ONTIMEOUT: WaitOutcome
MESSAGE_STATE_UNSPECIFIED: MessageState
MESSAGE_STATE_ACCEPTED: MessageState
MESSAGE_STATE_ROUTED: MessageState
MESSAGE_STATE_FAILED: MessageState
MESSAGE_STATE_SUBMITTED: MessageState
MESSAGE_STATE_PARTIALLY_FAILED: MessageState
MESSAGE_STATE_ROUTING: MessageState
MESSAGE_STATE_SCHEDULED: MessageState
MESSAGE_STATE_CANCELLED: MessageState
DELIVERY_STATUS_UNSPECIFIED: DeliveryStatus
DELIVERY_STATUS_QUEUED: DeliveryStatus
DELIVERY_STATUS_SUBMITTED: DeliveryStatus
DELIVERY_STATUS_DELIVERED: DeliveryStatus
DELIVERY_STATUS_READ: DeliveryStatus
DELIVERY_STATUS_FAILED: DeliveryStatus
DELIVERY_STATUS_EXPIRED: DeliveryStatus
DELIVERY_STATUS_CANCELLED: DeliveryStatus
DEVICE_EVENT_KIND_UNSPECIFIED: DeviceEventKind
DEVICE_EVENT_KIND_DELIVERED: DeviceEventKind
DEVICE_EVENT_KIND_READ: DeviceEventKind
DEVICE_EVENT_KIND_CLICKED: DeviceEventKind
DEVICE_EVENT_KIND_BUTTON: DeviceEventKind
RECALL_ACTION_UNSPECIFIED: RecallAction
RECALL_ACTION_CANCELLED: RecallAction
RECALL_ACTION_IN_FLIGHT: RecallAction
RECALL_ACTION_ALREADY_SENT: RecallAction
RECALL_ACTION_ALREADY_FINAL: RecallAction
RECALL_ACTION_REMOVAL_REQUESTED: RecallAction

class Destination(_message.Message):
    __slots__ = ("customer_id", "user_id", "device_id", "push_id", "topic", "segment")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    user_id: str
    device_id: str
    push_id: PushId
    topic: str
    segment: str
    def __init__(self, customer_id: _Optional[str] = ..., user_id: _Optional[str] = ..., device_id: _Optional[str] = ..., push_id: _Optional[_Union[PushId, _Mapping]] = ..., topic: _Optional[str] = ..., segment: _Optional[str] = ...) -> None: ...

class PushId(_message.Message):
    __slots__ = ("platform", "token", "browser", "web_subscription")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    BROWSER_FIELD_NUMBER: _ClassVar[int]
    WEB_SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    platform: _common_pb2.Platform
    token: str
    browser: _common_pb2.Browser
    web_subscription: _devices_pb2.WebSubscription
    def __init__(self, platform: _Optional[_Union[_common_pb2.Platform, str]] = ..., token: _Optional[str] = ..., browser: _Optional[_Union[_common_pb2.Browser, str]] = ..., web_subscription: _Optional[_Union[_devices_pb2.WebSubscription, _Mapping]] = ...) -> None: ...

class Action(_message.Message):
    __slots__ = ("type", "url", "html")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    type: ActionType
    url: str
    html: str
    def __init__(self, type: _Optional[_Union[ActionType, str]] = ..., url: _Optional[str] = ..., html: _Optional[str] = ...) -> None: ...

class Interactive(_message.Message):
    __slots__ = ("category", "push_reference")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PUSH_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    category: InteractionCategory
    push_reference: str
    def __init__(self, category: _Optional[_Union[InteractionCategory, str]] = ..., push_reference: _Optional[str] = ...) -> None: ...

class AndroidOptions(_message.Message):
    __slots__ = ("title", "body", "action", "sound", "collapse_key", "ttl_seconds", "delay_while_idle", "priority", "image_url", "icon", "channel_id", "color", "tag")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SOUND_FIELD_NUMBER: _ClassVar[int]
    COLLAPSE_KEY_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DELAY_WHILE_IDLE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    ICON_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    title: str
    body: str
    action: Action
    sound: str
    collapse_key: str
    ttl_seconds: int
    delay_while_idle: bool
    priority: int
    image_url: str
    icon: str
    channel_id: str
    color: str
    tag: str
    def __init__(self, title: _Optional[str] = ..., body: _Optional[str] = ..., action: _Optional[_Union[Action, _Mapping]] = ..., sound: _Optional[str] = ..., collapse_key: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., delay_while_idle: bool = ..., priority: _Optional[int] = ..., image_url: _Optional[str] = ..., icon: _Optional[str] = ..., channel_id: _Optional[str] = ..., color: _Optional[str] = ..., tag: _Optional[str] = ...) -> None: ...

class IosOptions(_message.Message):
    __slots__ = ("title", "body", "subtitle", "attachment_type", "attachment_url", "collapse_id", "action", "sound", "badge", "silent", "ttl_seconds", "priority", "push_type", "thread_id")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    SUBTITLE_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENT_URL_FIELD_NUMBER: _ClassVar[int]
    COLLAPSE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SOUND_FIELD_NUMBER: _ClassVar[int]
    BADGE_FIELD_NUMBER: _ClassVar[int]
    SILENT_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PUSH_TYPE_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    title: str
    body: str
    subtitle: str
    attachment_type: AttachmentType
    attachment_url: str
    collapse_id: str
    action: Action
    sound: str
    badge: int
    silent: bool
    ttl_seconds: int
    priority: int
    push_type: ApnsPushType
    thread_id: str
    def __init__(self, title: _Optional[str] = ..., body: _Optional[str] = ..., subtitle: _Optional[str] = ..., attachment_type: _Optional[_Union[AttachmentType, str]] = ..., attachment_url: _Optional[str] = ..., collapse_id: _Optional[str] = ..., action: _Optional[_Union[Action, _Mapping]] = ..., sound: _Optional[str] = ..., badge: _Optional[int] = ..., silent: bool = ..., ttl_seconds: _Optional[int] = ..., priority: _Optional[int] = ..., push_type: _Optional[_Union[ApnsPushType, str]] = ..., thread_id: _Optional[str] = ...) -> None: ...

class WebOptions(_message.Message):
    __slots__ = ("title", "body", "ttl_seconds", "on_click_url", "icon", "image_url", "browsers")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ON_CLICK_URL_FIELD_NUMBER: _ClassVar[int]
    ICON_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    BROWSERS_FIELD_NUMBER: _ClassVar[int]
    title: str
    body: str
    ttl_seconds: int
    on_click_url: str
    icon: str
    image_url: str
    browsers: _containers.RepeatedScalarFieldContainer[_common_pb2.Browser]
    def __init__(self, title: _Optional[str] = ..., body: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., on_click_url: _Optional[str] = ..., icon: _Optional[str] = ..., image_url: _Optional[str] = ..., browsers: _Optional[_Iterable[_Union[_common_pb2.Browser, str]]] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("title", "body", "action", "sound", "collapse_key", "ttl_seconds", "priority", "image_url", "icon", "badge", "silent", "data", "interactive", "notification_type", "android", "ios", "web", "localizations")
    class DataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class LocalizationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: LocalizedTexts
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[LocalizedTexts, _Mapping]] = ...) -> None: ...
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SOUND_FIELD_NUMBER: _ClassVar[int]
    COLLAPSE_KEY_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    ICON_FIELD_NUMBER: _ClassVar[int]
    BADGE_FIELD_NUMBER: _ClassVar[int]
    SILENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    INTERACTIVE_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    ANDROID_FIELD_NUMBER: _ClassVar[int]
    IOS_FIELD_NUMBER: _ClassVar[int]
    WEB_FIELD_NUMBER: _ClassVar[int]
    LOCALIZATIONS_FIELD_NUMBER: _ClassVar[int]
    title: str
    body: str
    action: Action
    sound: str
    collapse_key: str
    ttl_seconds: int
    priority: int
    image_url: str
    icon: str
    badge: int
    silent: bool
    data: _containers.ScalarMap[str, str]
    interactive: Interactive
    notification_type: str
    android: AndroidOptions
    ios: IosOptions
    web: WebOptions
    localizations: _containers.MessageMap[str, LocalizedTexts]
    def __init__(self, title: _Optional[str] = ..., body: _Optional[str] = ..., action: _Optional[_Union[Action, _Mapping]] = ..., sound: _Optional[str] = ..., collapse_key: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., priority: _Optional[int] = ..., image_url: _Optional[str] = ..., icon: _Optional[str] = ..., badge: _Optional[int] = ..., silent: bool = ..., data: _Optional[_Mapping[str, str]] = ..., interactive: _Optional[_Union[Interactive, _Mapping]] = ..., notification_type: _Optional[str] = ..., android: _Optional[_Union[AndroidOptions, _Mapping]] = ..., ios: _Optional[_Union[IosOptions, _Mapping]] = ..., web: _Optional[_Union[WebOptions, _Mapping]] = ..., localizations: _Optional[_Mapping[str, LocalizedTexts]] = ...) -> None: ...

class LocalizedTexts(_message.Message):
    __slots__ = ("title", "body", "android_title", "android_body", "ios_title", "ios_subtitle", "ios_body", "web_title", "web_body")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    ANDROID_TITLE_FIELD_NUMBER: _ClassVar[int]
    ANDROID_BODY_FIELD_NUMBER: _ClassVar[int]
    IOS_TITLE_FIELD_NUMBER: _ClassVar[int]
    IOS_SUBTITLE_FIELD_NUMBER: _ClassVar[int]
    IOS_BODY_FIELD_NUMBER: _ClassVar[int]
    WEB_TITLE_FIELD_NUMBER: _ClassVar[int]
    WEB_BODY_FIELD_NUMBER: _ClassVar[int]
    title: str
    body: str
    android_title: str
    android_body: str
    ios_title: str
    ios_subtitle: str
    ios_body: str
    web_title: str
    web_body: str
    def __init__(self, title: _Optional[str] = ..., body: _Optional[str] = ..., android_title: _Optional[str] = ..., android_body: _Optional[str] = ..., ios_title: _Optional[str] = ..., ios_subtitle: _Optional[str] = ..., ios_body: _Optional[str] = ..., web_title: _Optional[str] = ..., web_body: _Optional[str] = ...) -> None: ...

class SendRequest(_message.Message):
    __slots__ = ("destination", "notification", "idempotency_key", "correlation_id", "callback_data", "notify_url", "variables", "send_at_ms", "local_time", "throttle_per_minute")
    class VariablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_DATA_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_URL_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    SEND_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_TIME_FIELD_NUMBER: _ClassVar[int]
    THROTTLE_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    destination: Destination
    notification: Notification
    idempotency_key: str
    correlation_id: str
    callback_data: str
    notify_url: str
    variables: _containers.ScalarMap[str, str]
    send_at_ms: int
    local_time: LocalTime
    throttle_per_minute: int
    def __init__(self, destination: _Optional[_Union[Destination, _Mapping]] = ..., notification: _Optional[_Union[Notification, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., correlation_id: _Optional[str] = ..., callback_data: _Optional[str] = ..., notify_url: _Optional[str] = ..., variables: _Optional[_Mapping[str, str]] = ..., send_at_ms: _Optional[int] = ..., local_time: _Optional[_Union[LocalTime, _Mapping]] = ..., throttle_per_minute: _Optional[int] = ..., **kwargs) -> None: ...

class LocalTime(_message.Message):
    __slots__ = ("time", "date")
    TIME_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    time: str
    date: str
    def __init__(self, time: _Optional[str] = ..., date: _Optional[str] = ...) -> None: ...

class SendResponse(_message.Message):
    __slots__ = ("message_id", "duplicate", "audience_estimate", "estimated_finish_ms")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FINISH_MS_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    duplicate: bool
    audience_estimate: int
    estimated_finish_ms: int
    def __init__(self, message_id: _Optional[str] = ..., duplicate: bool = ..., audience_estimate: _Optional[int] = ..., estimated_finish_ms: _Optional[int] = ...) -> None: ...

class SendAndWaitRequest(_message.Message):
    __slots__ = ("request", "wait_for", "timeout_seconds", "until_ms")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    request: SendRequest
    wait_for: WaitFor
    timeout_seconds: int
    until_ms: int
    def __init__(self, request: _Optional[_Union[SendRequest, _Mapping]] = ..., wait_for: _Optional[_Union[WaitFor, str]] = ..., timeout_seconds: _Optional[int] = ..., until_ms: _Optional[int] = ...) -> None: ...

class SendAndWaitResponse(_message.Message):
    __slots__ = ("message_id", "outcome", "reason", "deliveries")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    outcome: WaitOutcome
    reason: str
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, message_id: _Optional[str] = ..., outcome: _Optional[_Union[WaitOutcome, str]] = ..., reason: _Optional[str] = ..., deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class SendBatchRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[SendRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[SendRequest, _Mapping]]] = ...) -> None: ...

class SendBatchResult(_message.Message):
    __slots__ = ("accepted", "error")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    accepted: SendResponse
    error: _status_pb2.Status
    def __init__(self, accepted: _Optional[_Union[SendResponse, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class SendBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SendBatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SendBatchResult, _Mapping]]] = ...) -> None: ...

class GetMessageRequest(_message.Message):
    __slots__ = ("message_id",)
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    def __init__(self, message_id: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("delivery_id", "device_id", "provider", "status", "reason", "provider_message_id", "attempts", "updated_at_ms")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    device_id: str
    provider: _common_pb2.Provider
    status: DeliveryStatus
    reason: str
    provider_message_id: str
    attempts: int
    updated_at_ms: int
    def __init__(self, delivery_id: _Optional[str] = ..., device_id: _Optional[str] = ..., provider: _Optional[_Union[_common_pb2.Provider, str]] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., reason: _Optional[str] = ..., provider_message_id: _Optional[str] = ..., attempts: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("message_id", "destination", "notification", "state", "reason", "correlation_id", "callback_data", "notify_url", "created_at_ms", "expires_at_ms", "send_at_ms", "local_time", "throttle_per_minute", "removes_message_id")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_DATA_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_URL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SEND_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_TIME_FIELD_NUMBER: _ClassVar[int]
    THROTTLE_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    REMOVES_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    destination: Destination
    notification: Notification
    state: MessageState
    reason: str
    correlation_id: str
    callback_data: str
    notify_url: str
    created_at_ms: int
    expires_at_ms: int
    send_at_ms: int
    local_time: LocalTime
    throttle_per_minute: int
    removes_message_id: str
    def __init__(self, message_id: _Optional[str] = ..., destination: _Optional[_Union[Destination, _Mapping]] = ..., notification: _Optional[_Union[Notification, _Mapping]] = ..., state: _Optional[_Union[MessageState, str]] = ..., reason: _Optional[str] = ..., correlation_id: _Optional[str] = ..., callback_data: _Optional[str] = ..., notify_url: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., send_at_ms: _Optional[int] = ..., local_time: _Optional[_Union[LocalTime, _Mapping]] = ..., throttle_per_minute: _Optional[int] = ..., removes_message_id: _Optional[str] = ..., **kwargs) -> None: ...

class GetMessageResponse(_message.Message):
    __slots__ = ("message", "deliveries")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    message: Message
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ..., deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class WatchMessageRequest(_message.Message):
    __slots__ = ("message_id",)
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    def __init__(self, message_id: _Optional[str] = ...) -> None: ...

class DeliveryUpdate(_message.Message):
    __slots__ = ("message_id", "delivery")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    delivery: Delivery
    def __init__(self, message_id: _Optional[str] = ..., delivery: _Optional[_Union[Delivery, _Mapping]] = ...) -> None: ...

class ReportDeliveryEventRequest(_message.Message):
    __slots__ = ("delivery_id", "kind", "button", "at_ms")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BUTTON_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    kind: DeviceEventKind
    button: str
    at_ms: int
    def __init__(self, delivery_id: _Optional[str] = ..., kind: _Optional[_Union[DeviceEventKind, str]] = ..., button: _Optional[str] = ..., at_ms: _Optional[int] = ...) -> None: ...

class ReportDeliveryEventResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeliveryStats(_message.Message):
    __slots__ = ("sent", "submitted", "delivered", "read", "clicked", "failed", "expired", "submitted_rate", "delivered_rate", "read_rate", "click_rate", "failure_rate", "expiry_rate", "cancelled", "cancel_rate")
    SENT_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    CLICKED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_RATE_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_RATE_FIELD_NUMBER: _ClassVar[int]
    READ_RATE_FIELD_NUMBER: _ClassVar[int]
    CLICK_RATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_RATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_RATE_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    CANCEL_RATE_FIELD_NUMBER: _ClassVar[int]
    sent: int
    submitted: int
    delivered: int
    read: int
    clicked: int
    failed: int
    expired: int
    submitted_rate: float
    delivered_rate: float
    read_rate: float
    click_rate: float
    failure_rate: float
    expiry_rate: float
    cancelled: int
    cancel_rate: float
    def __init__(self, sent: _Optional[int] = ..., submitted: _Optional[int] = ..., delivered: _Optional[int] = ..., read: _Optional[int] = ..., clicked: _Optional[int] = ..., failed: _Optional[int] = ..., expired: _Optional[int] = ..., submitted_rate: _Optional[float] = ..., delivered_rate: _Optional[float] = ..., read_rate: _Optional[float] = ..., click_rate: _Optional[float] = ..., failure_rate: _Optional[float] = ..., expiry_rate: _Optional[float] = ..., cancelled: _Optional[int] = ..., cancel_rate: _Optional[float] = ...) -> None: ...

class GetMessageStatsRequest(_message.Message):
    __slots__ = ("message_id",)
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    def __init__(self, message_id: _Optional[str] = ...) -> None: ...

class GetDeliveryStatsRequest(_message.Message):
    __slots__ = ("since_ms", "until_ms", "provider")
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    since_ms: int
    until_ms: int
    provider: _common_pb2.Provider
    def __init__(self, since_ms: _Optional[int] = ..., until_ms: _Optional[int] = ..., provider: _Optional[_Union[_common_pb2.Provider, str]] = ...) -> None: ...

class DailyDeliveryStats(_message.Message):
    __slots__ = ("day", "provider", "stats")
    DAY_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    day: str
    provider: _common_pb2.Provider
    stats: DeliveryStats
    def __init__(self, day: _Optional[str] = ..., provider: _Optional[_Union[_common_pb2.Provider, str]] = ..., stats: _Optional[_Union[DeliveryStats, _Mapping]] = ...) -> None: ...

class GetDeliveryStatsResponse(_message.Message):
    __slots__ = ("days", "total")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedCompositeFieldContainer[DailyDeliveryStats]
    total: DeliveryStats
    def __init__(self, days: _Optional[_Iterable[_Union[DailyDeliveryStats, _Mapping]]] = ..., total: _Optional[_Union[DeliveryStats, _Mapping]] = ...) -> None: ...

class ListScheduledMessagesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListScheduledMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListMessagesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RescheduleMessageRequest(_message.Message):
    __slots__ = ("message_id", "send_at_ms")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SEND_AT_MS_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    send_at_ms: int
    def __init__(self, message_id: _Optional[str] = ..., send_at_ms: _Optional[int] = ...) -> None: ...

class CancelMessageRequest(_message.Message):
    __slots__ = ("message_id", "remove_delivered")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REMOVE_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    remove_delivered: bool
    def __init__(self, message_id: _Optional[str] = ..., remove_delivered: bool = ...) -> None: ...

class CancelMessageResponse(_message.Message):
    __slots__ = ("message", "deliveries", "cancelled", "in_flight", "already_sent", "already_final", "removal_message_id")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_SENT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_FINAL_FIELD_NUMBER: _ClassVar[int]
    REMOVAL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message: Message
    deliveries: _containers.RepeatedCompositeFieldContainer[RecalledDelivery]
    cancelled: int
    in_flight: int
    already_sent: int
    already_final: int
    removal_message_id: str
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ..., deliveries: _Optional[_Iterable[_Union[RecalledDelivery, _Mapping]]] = ..., cancelled: _Optional[int] = ..., in_flight: _Optional[int] = ..., already_sent: _Optional[int] = ..., already_final: _Optional[int] = ..., removal_message_id: _Optional[str] = ...) -> None: ...

class RecalledDelivery(_message.Message):
    __slots__ = ("delivery_id", "device_id", "provider", "action", "status")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    device_id: str
    provider: _common_pb2.Provider
    action: RecallAction
    status: DeliveryStatus
    def __init__(self, delivery_id: _Optional[str] = ..., device_id: _Optional[str] = ..., provider: _Optional[_Union[_common_pb2.Provider, str]] = ..., action: _Optional[_Union[RecallAction, str]] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ...) -> None: ...
