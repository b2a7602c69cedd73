from google.protobuf import field_mask_pb2 as _field_mask_pb2
from herald_client._proto.herald.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WebhookEvent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_EVENT_UNSPECIFIED: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_DELIVERY_SUBMITTED: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_DELIVERY_DELIVERED: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_DELIVERY_READ: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_DELIVERY_FAILED: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_DELIVERY_EXPIRED: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_DEVICE_INACTIVE: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_INTERACTION: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_WEBHOOK_DISABLED: _ClassVar[WebhookEvent]
    WEBHOOK_EVENT_DELIVERY_CANCELLED: _ClassVar[WebhookEvent]

class SignatureScheme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNATURE_SCHEME_UNSPECIFIED: _ClassVar[SignatureScheme]
    SIGNATURE_SCHEME_STANDARD_WEBHOOKS: _ClassVar[SignatureScheme]
    SIGNATURE_SCHEME_HUB_SHA256: _ClassVar[SignatureScheme]
    SIGNATURE_SCHEME_HUB_SHA512: _ClassVar[SignatureScheme]

class WebhookAuthKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_AUTH_KIND_UNSPECIFIED: _ClassVar[WebhookAuthKind]
    WEBHOOK_AUTH_KIND_NONE: _ClassVar[WebhookAuthKind]
    WEBHOOK_AUTH_KIND_BEARER: _ClassVar[WebhookAuthKind]
    WEBHOOK_AUTH_KIND_BASIC: _ClassVar[WebhookAuthKind]
    WEBHOOK_AUTH_KIND_API_KEY: _ClassVar[WebhookAuthKind]
    WEBHOOK_AUTH_KIND_OAUTH2_CLIENT_CREDENTIALS: _ClassVar[WebhookAuthKind]
    WEBHOOK_AUTH_KIND_DIGEST: _ClassVar[WebhookAuthKind]
    WEBHOOK_AUTH_KIND_AWS_SIGV4: _ClassVar[WebhookAuthKind]
    WEBHOOK_AUTH_KIND_OAUTH2_AUTHORIZATION_CODE: _ClassVar[WebhookAuthKind]

class AttemptOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTEMPT_OUTCOME_UNSPECIFIED: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_SUCCEEDED: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_RETRYING: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_FAILED: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_REFUSED: _ClassVar[AttemptOutcome]
WEBHOOK_EVENT_UNSPECIFIED: WebhookEvent
WEBHOOK_EVENT_DELIVERY_SUBMITTED: WebhookEvent
WEBHOOK_EVENT_DELIVERY_DELIVERED: WebhookEvent
WEBHOOK_EVENT_DELIVERY_READ: WebhookEvent
WEBHOOK_EVENT_DELIVERY_FAILED: WebhookEvent
WEBHOOK_EVENT_DELIVERY_EXPIRED: WebhookEvent
WEBHOOK_EVENT_DEVICE_INACTIVE: WebhookEvent
WEBHOOK_EVENT_INTERACTION: WebhookEvent
WEBHOOK_EVENT_WEBHOOK_DISABLED: WebhookEvent
WEBHOOK_EVENT_DELIVERY_CANCELLED: WebhookEvent
SIGNATURE_SCHEME_UNSPECIFIED: SignatureScheme
SIGNATURE_SCHEME_STANDARD_WEBHOOKS: SignatureScheme
SIGNATURE_SCHEME_HUB_SHA256: SignatureScheme
SIGNATURE_SCHEME_HUB_SHA512: SignatureScheme
WEBHOOK_AUTH_KIND_UNSPECIFIED: WebhookAuthKind
WEBHOOK_AUTH_KIND_NONE: WebhookAuthKind
WEBHOOK_AUTH_KIND_BEARER: WebhookAuthKind
WEBHOOK_AUTH_KIND_BASIC: WebhookAuthKind
WEBHOOK_AUTH_KIND_API_KEY: WebhookAuthKind
WEBHOOK_AUTH_KIND_OAUTH2_CLIENT_CREDENTIALS: WebhookAuthKind
WEBHOOK_AUTH_KIND_DIGEST: WebhookAuthKind
WEBHOOK_AUTH_KIND_AWS_SIGV4: WebhookAuthKind
WEBHOOK_AUTH_KIND_OAUTH2_AUTHORIZATION_CODE: WebhookAuthKind
ATTEMPT_OUTCOME_UNSPECIFIED: AttemptOutcome
ATTEMPT_OUTCOME_SUCCEEDED: AttemptOutcome
ATTEMPT_OUTCOME_RETRYING: AttemptOutcome
ATTEMPT_OUTCOME_FAILED: AttemptOutcome
ATTEMPT_OUTCOME_REFUSED: AttemptOutcome

class WebhookAuth(_message.Message):
    __slots__ = ("bearer_token", "basic", "api_key", "oauth2", "digest", "aws_sigv4", "oauth2_code")
    BEARER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BASIC_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    OAUTH2_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    AWS_SIGV4_FIELD_NUMBER: _ClassVar[int]
    OAUTH2_CODE_FIELD_NUMBER: _ClassVar[int]
    bearer_token: str
    basic: BasicAuth
    api_key: ApiKeyAuth
    oauth2: OAuth2ClientCredentials
    digest: DigestAuth
    aws_sigv4: AwsSigV4Auth
    oauth2_code: OAuth2AuthorizationCode
    def __init__(self, bearer_token: _Optional[str] = ..., basic: _Optional[_Union[BasicAuth, _Mapping]] = ..., api_key: _Optional[_Union[ApiKeyAuth, _Mapping]] = ..., oauth2: _Optional[_Union[OAuth2ClientCredentials, _Mapping]] = ..., digest: _Optional[_Union[DigestAuth, _Mapping]] = ..., aws_sigv4: _Optional[_Union[AwsSigV4Auth, _Mapping]] = ..., oauth2_code: _Optional[_Union[OAuth2AuthorizationCode, _Mapping]] = ...) -> None: ...

class AwsSigV4Auth(_message.Message):
    __slots__ = ("access_key_id", "secret_access_key", "session_token", "region", "service")
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_ACCESS_KEY_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    access_key_id: str
    secret_access_key: str
    session_token: str
    region: str
    service: str
    def __init__(self, access_key_id: _Optional[str] = ..., secret_access_key: _Optional[str] = ..., session_token: _Optional[str] = ..., region: _Optional[str] = ..., service: _Optional[str] = ...) -> None: ...

class DigestAuth(_message.Message):
    __slots__ = ("username", "password")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class OAuth2ClientCredentials(_message.Message):
    __slots__ = ("token_url", "client_id", "client_secret", "scope", "credentials_in_body")
    TOKEN_URL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_IN_BODY_FIELD_NUMBER: _ClassVar[int]
    token_url: str
    client_id: str
    client_secret: str
    scope: str
    credentials_in_body: bool
    def __init__(self, token_url: _Optional[str] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., scope: _Optional[str] = ..., credentials_in_body: bool = ...) -> None: ...

class OAuth2AuthorizationCode(_message.Message):
    __slots__ = ("token_url", "client_id", "client_secret", "credentials_in_body", "scope", "authorization_code", "redirect_uri", "code_verifier", "refresh_token")
    TOKEN_URL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_IN_BODY_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_CODE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    CODE_VERIFIER_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    token_url: str
    client_id: str
    client_secret: str
    credentials_in_body: bool
    scope: str
    authorization_code: str
    redirect_uri: str
    code_verifier: str
    refresh_token: str
    def __init__(self, token_url: _Optional[str] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., credentials_in_body: bool = ..., scope: _Optional[str] = ..., authorization_code: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., code_verifier: _Optional[str] = ..., refresh_token: _Optional[str] = ...) -> None: ...

class BasicAuth(_message.Message):
    __slots__ = ("username", "password")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class ApiKeyAuth(_message.Message):
    __slots__ = ("name", "value", "in_query")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    IN_QUERY_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    in_query: bool
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ..., in_query: bool = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("delays_secs", "timeout_secs")
    DELAYS_SECS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECS_FIELD_NUMBER: _ClassVar[int]
    delays_secs: _containers.RepeatedScalarFieldContainer[int]
    timeout_secs: int
    def __init__(self, delays_secs: _Optional[_Iterable[int]] = ..., timeout_secs: _Optional[int] = ...) -> None: ...

class Webhook(_message.Message):
    __slots__ = ("webhook_id", "url", "events", "signature_scheme", "auth_kind", "enabled", "disabled_reason", "created_at_ms", "provider", "retry", "failing_since_ms", "description")
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_SCHEME_FIELD_NUMBER: _ClassVar[int]
    AUTH_KIND_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    url: str
    events: _containers.RepeatedScalarFieldContainer[WebhookEvent]
    signature_scheme: SignatureScheme
    auth_kind: WebhookAuthKind
    enabled: bool
    disabled_reason: str
    created_at_ms: int
    provider: _common_pb2.Provider
    retry: RetryPolicy
    failing_since_ms: int
    description: str
    def __init__(self, webhook_id: _Optional[str] = ..., url: _Optional[str] = ..., events: _Optional[_Iterable[_Union[WebhookEvent, str]]] = ..., signature_scheme: _Optional[_Union[SignatureScheme, str]] = ..., auth_kind: _Optional[_Union[WebhookAuthKind, str]] = ..., enabled: bool = ..., disabled_reason: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., provider: _Optional[_Union[_common_pb2.Provider, str]] = ..., retry: _Optional[_Union[RetryPolicy, _Mapping]] = ..., failing_since_ms: _Optional[int] = ..., description: _Optional[str] = ...) -> None: ...

class CreateWebhookRequest(_message.Message):
    __slots__ = ("url", "events", "signature_scheme", "auth", "provider", "retry", "description")
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_SCHEME_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    url: str
    events: _containers.RepeatedScalarFieldContainer[WebhookEvent]
    signature_scheme: SignatureScheme
    auth: WebhookAuth
    provider: _common_pb2.Provider
    retry: RetryPolicy
    description: str
    def __init__(self, url: _Optional[str] = ..., events: _Optional[_Iterable[_Union[WebhookEvent, str]]] = ..., signature_scheme: _Optional[_Union[SignatureScheme, str]] = ..., auth: _Optional[_Union[WebhookAuth, _Mapping]] = ..., provider: _Optional[_Union[_common_pb2.Provider, str]] = ..., retry: _Optional[_Union[RetryPolicy, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class CreateWebhookResponse(_message.Message):
    __slots__ = ("webhook", "secret")
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    secret: str
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class UpdateWebhookRequest(_message.Message):
    __slots__ = ("webhook", "update_mask", "auth")
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    update_mask: _field_mask_pb2.FieldMask
    auth: WebhookAuth
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., auth: _Optional[_Union[WebhookAuth, _Mapping]] = ...) -> None: ...

class DeleteWebhookRequest(_message.Message):
    __slots__ = ("webhook_id",)
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ...) -> None: ...

class DeleteWebhookResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetWebhookRequest(_message.Message):
    __slots__ = ("webhook_id",)
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ...) -> None: ...

class ListWebhooksRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListWebhooksResponse(_message.Message):
    __slots__ = ("webhooks", "next_page_token")
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    webhooks: _containers.RepeatedCompositeFieldContainer[Webhook]
    next_page_token: str
    def __init__(self, webhooks: _Optional[_Iterable[_Union[Webhook, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RotateWebhookSecretRequest(_message.Message):
    __slots__ = ("webhook_id",)
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ...) -> None: ...

class RotateNotifySecretRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateWebhookSecretResponse(_message.Message):
    __slots__ = ("secret",)
    SECRET_FIELD_NUMBER: _ClassVar[int]
    secret: str
    def __init__(self, secret: _Optional[str] = ...) -> None: ...

class WebhookAttempt(_message.Message):
    __slots__ = ("webhook_id", "event_id", "event_type", "message_id", "attempt", "at_ms", "outcome", "status_code", "detail", "duration_ms", "next_attempt_at_ms", "url")
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    event_id: str
    event_type: str
    message_id: str
    attempt: int
    at_ms: int
    outcome: AttemptOutcome
    status_code: int
    detail: str
    duration_ms: int
    next_attempt_at_ms: int
    url: str
    def __init__(self, webhook_id: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., message_id: _Optional[str] = ..., attempt: _Optional[int] = ..., at_ms: _Optional[int] = ..., outcome: _Optional[_Union[AttemptOutcome, str]] = ..., status_code: _Optional[int] = ..., detail: _Optional[str] = ..., duration_ms: _Optional[int] = ..., next_attempt_at_ms: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class ListWebhookAttemptsRequest(_message.Message):
    __slots__ = ("webhook_id", "message_id", "page_size", "page_token")
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    message_id: str
    page_size: int
    page_token: str
    def __init__(self, webhook_id: _Optional[str] = ..., message_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListWebhookAttemptsResponse(_message.Message):
    __slots__ = ("attempts", "next_page_token")
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[WebhookAttempt]
    next_page_token: str
    def __init__(self, attempts: _Optional[_Iterable[_Union[WebhookAttempt, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplayWebhookRequest(_message.Message):
    __slots__ = ("webhook_id", "message_id")
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    message_id: str
    def __init__(self, webhook_id: _Optional[str] = ..., message_id: _Optional[str] = ...) -> None: ...

class ReplayWebhookResponse(_message.Message):
    __slots__ = ("queued",)
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    queued: int
    def __init__(self, queued: _Optional[int] = ...) -> None: ...
