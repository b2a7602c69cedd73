//! AWS Signature Version 4 for webhook posts, made by AWS's own signer (`aws-sigv4`): for an
//! endpoint behind API Gateway with IAM authorization, or a Lambda function URL.

use std::time::SystemTime;

use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use serde::{Deserialize, Serialize};

/// The keys and scope an endpoint's requests are signed with.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// For temporary credentials; empty otherwise.
    pub session_token: String,
    pub region: String,
    pub service: String,
}

/// The headers to add to a POST of `body` to `url` that already carries `headers` (each of
/// which is signed), for the instant `time`: `authorization`, `x-amz-date`,
/// `x-amz-content-sha256` and, with a session token, `x-amz-security-token`.
pub fn signing_headers(
    keys: &AwsKeys,
    url: &url::Url,
    headers: &[(&str, &str)],
    body: &[u8],
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity = aws_credential_types::Credentials::new(
        &keys.access_key_id,
        &keys.secret_access_key,
        (!keys.session_token.is_empty()).then(|| keys.session_token.clone()),
        None,
        "herald-webhook",
    )
    .into();
    let mut settings = SigningSettings::default();
    // The body's digest travels with it, so a receiver can check the body it got.
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&keys.region)
        .name(&keys.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|err| err.to_string())?
        .into();
    let request = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|err| err.to_string())?;
    let (instructions, _) = sign(request, &params)
        .map_err(|err| err.to_string())?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(session_token: &str) -> AwsKeys {
        AwsKeys {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: session_token.into(),
            region: "us-east-1".into(),
            service: "execute-api".into(),
        }
    }

    /// 2015-08-30T12:36:00Z, the AWS test suite's instant.
    fn instant() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160)
    }

    #[test]
    fn a_post_is_signed_over_its_headers_and_body() {
        let url = url::Url::parse("https://hooks.example.com/prod/events?x=1").unwrap();
        let headers = [
            ("content-type", "application/json"),
            ("webhook-id", "evt_1"),
        ];
        let signed: std::collections::HashMap<String, String> =
            signing_headers(&keys(""), &url, &headers, b"{}", instant())
                .unwrap()
                .into_iter()
                .collect();
        assert_eq!(signed["x-amz-date"], "20150830T123600Z");
        assert_eq!(
            signed["x-amz-content-sha256"],
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let authorization = &signed["authorization"];
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, \
                 SignedHeaders=content-type;host;webhook-id;x-amz-content-sha256;x-amz-date, \
                 Signature="
            ),
            "{authorization}"
        );
        assert!(!signed.contains_key("x-amz-security-token"));
        let temporary = signing_headers(&keys("token"), &url, &headers, b"{}", instant()).unwrap();
        assert!(
            temporary
                .iter()
                .any(|(name, value)| name == "x-amz-security-token" && value == "token")
        );
    }
}
