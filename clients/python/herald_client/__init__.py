"""Python client for Herald, the push-notification platform.

    from herald_client import Client, pb

    with Client("127.0.0.1:50051", api_key="hrld_…") as herald:
        sent = herald.send_and_wait(user_id="alice", title="Hello", body="First push")
        print(pb.WaitOutcome.Name(sent.outcome), [d.status for d in sent.deliveries])

`herald_client.pb` holds every message and enum of the API.
"""

from herald_client import pb
from herald_client._client import Client
from herald_client._errors import (
    AlreadyExistsError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    HeraldError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
)
from herald_client._mobile import MobileNotifications
from herald_client._retry import RetryPolicy

__all__ = [
    "AlreadyExistsError",
    "Client",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "FieldViolation",
    "HeraldError",
    "InternalError",
    "InvalidArgumentError",
    "MobileNotifications",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "RetryPolicy",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "pb",
]
