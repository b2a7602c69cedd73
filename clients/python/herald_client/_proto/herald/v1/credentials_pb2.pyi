from herald_client._proto.herald.v1 import common_pb2 as _common_pb2
from herald_client._proto.herald.v1 import notifications_pb2 as _notifications_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SendTestNotificationRequest(_message.Message):
    __slots__ = ("provider", "device_id", "title", "body")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    provider: _common_pb2.Provider
    device_id: str
    title: str
    body: str
    def __init__(self, provider: _Optional[_Union[_common_pb2.Provider, str]] = ..., device_id: _Optional[str] = ..., title: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class SendTestNotificationResponse(_message.Message):
    __slots__ = ("message_id", "outcome", "reason", "delivery")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    outcome: _notifications_pb2.WaitOutcome
    reason: str
    delivery: _notifications_pb2.Delivery
    def __init__(self, message_id: _Optional[str] = ..., outcome: _Optional[_Union[_notifications_pb2.WaitOutcome, str]] = ..., reason: _Optional[str] = ..., delivery: _Optional[_Union[_notifications_pb2.Delivery, _Mapping]] = ...) -> None: ...

class FcmCredential(_message.Message):
    __slots__ = ("service_account_json", "project_id")
    SERVICE_ACCOUNT_JSON_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    service_account_json: str
    project_id: str
    def __init__(self, service_account_json: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class ApnsTokenAuth(_message.Message):
    __slots__ = ("private_key_pem", "key_id", "team_id")
    PRIVATE_KEY_PEM_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    private_key_pem: str
    key_id: str
    team_id: str
    def __init__(self, private_key_pem: _Optional[str] = ..., key_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class ApnsCertificateAuth(_message.Message):
    __slots__ = ("p12", "certificate_pem", "password", "private_key_pem")
    P12_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_KEY_PEM_FIELD_NUMBER: _ClassVar[int]
    p12: bytes
    certificate_pem: str
    password: str
    private_key_pem: str
    def __init__(self, p12: _Optional[bytes] = ..., certificate_pem: _Optional[str] = ..., password: _Optional[str] = ..., private_key_pem: _Optional[str] = ...) -> None: ...

class ApnsCredential(_message.Message):
    __slots__ = ("token", "certificate", "bundle_id", "sandbox")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_ID_FIELD_NUMBER: _ClassVar[int]
    SANDBOX_FIELD_NUMBER: _ClassVar[int]
    token: ApnsTokenAuth
    certificate: ApnsCertificateAuth
    bundle_id: str
    sandbox: bool
    def __init__(self, token: _Optional[_Union[ApnsTokenAuth, _Mapping]] = ..., certificate: _Optional[_Union[ApnsCertificateAuth, _Mapping]] = ..., bundle_id: _Optional[str] = ..., sandbox: bool = ...) -> None: ...

class WebPushCredential(_message.Message):
    __slots__ = ("vapid_private_key", "vapid_public_key", "subject")
    VAPID_PRIVATE_KEY_FIELD_NUMBER: _ClassVar[int]
    VAPID_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    vapid_private_key: str
    vapid_public_key: str
    subject: str
    def __init__(self, vapid_private_key: _Optional[str] = ..., vapid_public_key: _Optional[str] = ..., subject: _Optional[str] = ...) -> None: ...

class HmsCredential(_message.Message):
    __slots__ = ("app_id", "app_secret", "badge_class")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    APP_SECRET_FIELD_NUMBER: _ClassVar[int]
    BADGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    app_secret: str
    badge_class: str
    def __init__(self, app_id: _Optional[str] = ..., app_secret: _Optional[str] = ..., badge_class: _Optional[str] = ...) -> None: ...

class SetCredentialRequest(_message.Message):
    __slots__ = ("fcm", "apns", "webpush", "hms", "label")
    FCM_FIELD_NUMBER: _ClassVar[int]
    APNS_FIELD_NUMBER: _ClassVar[int]
    WEBPUSH_FIELD_NUMBER: _ClassVar[int]
    HMS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    fcm: FcmCredential
    apns: ApnsCredential
    webpush: WebPushCredential
    hms: HmsCredential
    label: str
    def __init__(self, fcm: _Optional[_Union[FcmCredential, _Mapping]] = ..., apns: _Optional[_Union[ApnsCredential, _Mapping]] = ..., webpush: _Optional[_Union[WebPushCredential, _Mapping]] = ..., hms: _Optional[_Union[HmsCredential, _Mapping]] = ..., label: _Optional[str] = ...) -> None: ...

class CredentialInfo(_message.Message):
    __slots__ = ("provider", "label", "identifier", "principal", "updated_at_ms")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    provider: _common_pb2.Provider
    label: str
    identifier: str
    principal: str
    updated_at_ms: int
    def __init__(self, provider: _Optional[_Union[_common_pb2.Provider, str]] = ..., label: _Optional[str] = ..., identifier: _Optional[str] = ..., principal: _Optional[str] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class ListCredentialsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCredentialsResponse(_message.Message):
    __slots__ = ("credentials", "next_page_token")
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    credentials: _containers.RepeatedCompositeFieldContainer[CredentialInfo]
    next_page_token: str
    def __init__(self, credentials: _Optional[_Iterable[_Union[CredentialInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteCredentialRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: _common_pb2.Provider
    def __init__(self, provider: _Optional[_Union[_common_pb2.Provider, str]] = ...) -> None: ...

class DeleteCredentialResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TestConnectionRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: _common_pb2.Provider
    def __init__(self, provider: _Optional[_Union[_common_pb2.Provider, str]] = ...) -> None: ...

class TestConnectionResponse(_message.Message):
    __slots__ = ("ok", "detail")
    OK_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    detail: str
    def __init__(self, ok: bool = ..., detail: _Optional[str] = ...) -> None: ...

class GenerateVapidKeysRequest(_message.Message):
    __slots__ = ("subject",)
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    def __init__(self, subject: _Optional[str] = ...) -> None: ...

class VapidPublicKey(_message.Message):
    __slots__ = ("public_key",)
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    def __init__(self, public_key: _Optional[str] = ...) -> None: ...
