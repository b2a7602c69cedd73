//! One error type for the domain, mapped to gRPC status codes in one place.

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
    #[error("{0} is not implemented yet")]
    Unimplemented(String),
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
}

impl From<Error> for tonic::Status {
    fn from(err: Error) -> Self {
        match err {
            Error::InvalidArgument { .. } => tonic::Status::invalid_argument(err.to_string()),
            Error::NotFound(_) => tonic::Status::not_found(err.to_string()),
            Error::Unauthenticated(_) => tonic::Status::unauthenticated(err.to_string()),
            Error::PermissionDenied(_) => tonic::Status::permission_denied(err.to_string()),
            Error::FailedPrecondition(_) => tonic::Status::failed_precondition(err.to_string()),
            Error::Unimplemented(_) => tonic::Status::unimplemented(err.to_string()),
            // The detail may name tables or hosts: keep it in the logs only.
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
    fn internal_detail_is_not_returned() {
        let status: tonic::Status = Error::internal("relation devices does not exist").into();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("devices"));
    }
}
