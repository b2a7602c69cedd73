//! One error type for the domain, mapped to gRPC status codes in one place. An invalid argument
//! carries a `google.rpc.BadRequest` field violation, so clients can read which field is at fault
//! without parsing the message.

use tonic_types::{ErrorDetails, StatusExt as _};

/// A domain error; every API error goes through `From<Error> for tonic::Status`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed; `field` names the offending field (e.g. `notification.title`).
    #[error("{field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    FailedPrecondition(String),
    /// What the request needs (the database) is out of reach for the moment: try again. The
    /// detail is logged, not returned.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Something below the domain failed (database, bus); the detail is logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An invalid-argument error for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    pub fn unavailable(err: impl std::fmt::Display) -> Self {
        Self::Unavailable(err.to_string())
    }

    /// The error of one part of a request (`requests[3]`): a field is named from the whole
    /// request.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Self::InvalidArgument { field, reason } => Self::InvalidArgument {
                field: format!("{prefix}.{field}"),
                reason,
            },
            other => other,
        }
    }

    /// The error as a `google.rpc.Status` with its details, for one entry of a batch answer.
    pub fn into_rpc_status(self) -> tonic_types::Status {
        let status = tonic::Status::from(self);
        let mut rpc: tonic_types::Status =
            prost::Message::decode(status.details()).unwrap_or_default();
        rpc.code = status.code() as i32;
        rpc.message = status.message().to_owned();
        rpc
    }
}

impl From<Error> for tonic::Status {
    fn from(err: Error) -> Self {
        match err {
            Error::InvalidArgument {
                ref field,
                ref reason,
            } => tonic::Status::with_error_details(
                tonic::Code::InvalidArgument,
                err.to_string(),
                ErrorDetails::with_bad_request_violation(field.clone(), reason.clone()),
            ),
            Error::NotFound(_) => tonic::Status::not_found(err.to_string()),
            Error::Unauthenticated(_) => tonic::Status::unauthenticated(err.to_string()),
            Error::PermissionDenied(_) => tonic::Status::permission_denied(err.to_string()),
            Error::FailedPrecondition(_) => tonic::Status::failed_precondition(err.to_string()),
            // The details may name tables or hosts: keep them in the logs only.
            Error::Unavailable(detail) => {
                tracing::warn!(%detail, "a request met an outage; the client is told to retry");
                tonic::Status::with_error_details(
                    tonic::Code::Unavailable,
                    "the database is out of reach for the moment; try again",
                    ErrorDetails::with_retry_info(Some(std::time::Duration::from_secs(1))),
                )
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error answered to a client");
                tonic::Status::internal("internal error")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_the_field() {
        let status: tonic::Status = Error::invalid("notification.title", "too long").into();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "notification.title: too long");
    }

    #[test]
    fn invalid_argument_carries_a_field_violation() {
        let status: tonic::Status = Error::invalid("notification.title", "too long").into();
        let details = status.get_error_details();
        let violation = &details
            .bad_request()
            .expect("a BadRequest")
            .field_violations[0];
        assert_eq!(
            (violation.field.as_str(), violation.description.as_str()),
            ("notification.title", "too long")
        );
    }

    #[test]
    fn an_outage_asks_the_client_to_retry_without_naming_the_detail() {
        let status: tonic::Status = Error::unavailable("pg host db-7 refused").into();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(!status.message().contains("db-7"));
        let details = status.get_error_details();
        assert_eq!(
            details.retry_info().and_then(|r| r.retry_delay),
            Some(std::time::Duration::from_secs(1))
        );
    }

    #[test]
    fn a_batch_entry_names_the_field_from_the_whole_request() {
        use tonic_types::RpcStatusExt as _;
        let rpc = Error::invalid("notification.title", "too long")
            .within("requests[3]")
            .into_rpc_status();
        assert_eq!(rpc.code, tonic::Code::InvalidArgument as i32);
        assert_eq!(rpc.message, "requests[3].notification.title: too long");
        let details = rpc.get_error_details();
        assert_eq!(
            details.bad_request().unwrap().field_violations[0].field,
            "requests[3].notification.title"
        );
        let refused = Error::FailedPrecondition("topic messaging is disabled".into())
            .within("requests[2]")
            .into_rpc_status();
        assert_eq!(refused.code, tonic::Code::FailedPrecondition as i32);
        assert!(refused.details.is_empty());
    }

    #[test]
    fn internal_detail_is_not_returned() {
        let status: tonic::Status = Error::internal("relation devices does not exist").into();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("devices"));
    }
}
