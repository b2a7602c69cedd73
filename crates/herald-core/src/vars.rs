//! `$(name)` references: a `Send`'s variables filled into its destination value and every text
//! field of its notification (data values included) at ingest, before anything is validated or
//! stored. `$$(` is a literal `$(`; any other `$` is itself. A reference to a variable the
//! request does not define is refused naming it.

use std::collections::BTreeMap;

use herald_proto::v1::{Notification, SendRequest, destination::Kind};

use crate::validate::{MAX_DATA_BYTES, MAX_TEXT_BYTES, MAX_USER_ID_LEN};
use crate::{Error, Result};

/// The most variables one request may carry.
pub const MAX_VARIABLES: usize = 100;
/// The longest variable name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// Whether `name` is a variable name: a letter or `_`, then letters, digits, `_`, `.` or `-`.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && name.len() <= MAX_NAME_BYTES
}

/// At most 64 bytes of `text` (cut at a character boundary), for quoting user input in errors.
fn quoted(text: &str) -> &str {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Checks a request's variables: at most [`MAX_VARIABLES`], each named as [`is_name`] says.
pub fn check(vars: &BTreeMap<String, String>) -> Result<()> {
    if vars.len() > MAX_VARIABLES {
        return Err(Error::invalid(
            "variables",
            format!("holds {}; at most {MAX_VARIABLES}", vars.len()),
        ));
    }
    if let Some(bad) = vars.keys().find(|name| !is_name(name)) {
        return Err(Error::invalid(
            format!("variables[{}]", quoted(bad)),
            format!(
                "a name is a letter or _, then letters, digits, _ . or -, at most {MAX_NAME_BYTES} bytes"
            ),
        ));
    }
    Ok(())
}

/// `text` with every `$(name)` replaced by its value, or `None` when it holds no reference (and
/// no `$$(`). The result may be at most `max_bytes` long; `field` names the text in errors.
pub fn expand(
    field: &str,
    text: &str,
    vars: &BTreeMap<String, String>,
    max_bytes: usize,
) -> Result<Option<String>> {
    if !text.contains("$(") {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("$(") {
        let offset = text.len() - rest.len() + at;
        if rest[..at].ends_with('$') {
            // `$$(`: a literal `$(`.
            out.push_str(&rest[..at - 1]);
            out.push_str("$(");
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(close) = after.find(')') else {
            return Err(Error::invalid(
                field,
                format!("$( at byte {offset} is not closed (write $$( for a literal $()"),
            ));
        };
        let name = &after[..close];
        if !is_name(name) {
            return Err(Error::invalid(
                field,
                format!(
                    "$({}) at byte {offset} is not a variable reference (write $$( for a literal $()",
                    quoted(name)
                ),
            ));
        }
        let value = vars.get(name).ok_or_else(|| {
            Error::invalid(
                field,
                format!("$({name}) at byte {offset}: the request defines no variable {name:?}"),
            )
        })?;
        out.push_str(value);
        if out.len() > max_bytes {
            return Err(Error::invalid(
                field,
                format!("is over {max_bytes} bytes once its variables are filled in"),
            ));
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    if out.len() > max_bytes {
        return Err(Error::invalid(
            field,
            format!("is over {max_bytes} bytes once its variables are filled in"),
        ));
    }
    Ok(Some(out))
}

/// Replaces `text` by its expansion, if it has references.
fn fill(
    field: &str,
    text: &mut String,
    vars: &BTreeMap<String, String>,
    max_bytes: usize,
) -> Result<()> {
    if let Some(expanded) = expand(field, text, vars, max_bytes)? {
        *text = expanded;
    }
    Ok(())
}

/// What filling in a request's variables did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filled {
    /// Variables made the notify URL: one that is not valid does not refuse the request (its
    /// reports are refused instead, and never retried, as the seeds have it).
    pub notify_url_from_variables: bool,
}

/// Fills a request's variables into its destination value, its notify URL and its
/// notification's texts and data values.
pub fn expand_request(req: &mut SendRequest) -> Result<Filled> {
    // What is filled in is bounded by the request's own size and each field's limit.
    crate::validate::request_size(req)?;
    check(&req.variables)?;
    let vars = &req.variables;
    if let Some(kind) = req.destination.as_mut().and_then(|d| d.kind.as_mut()) {
        let (field, value) = match kind {
            Kind::CustomerId(v) => ("destination.customer_id", v),
            Kind::UserId(v) => ("destination.user_id", v),
            Kind::DeviceId(v) => ("destination.device_id", v),
            Kind::Topic(v) => ("destination.topic", v),
            Kind::Segment(v) => ("destination.segment", v),
            Kind::PushId(p) => ("destination.push_id.token", &mut p.token),
        };
        fill(
            field,
            value,
            vars,
            MAX_USER_ID_LEN.max(crate::validate::MAX_TOKEN_LEN),
        )?;
    }
    let notify_url = expand(
        "notify_url",
        &req.notify_url,
        vars,
        crate::validate::MAX_NOTIFY_URL_BYTES,
    )?;
    // A URL whose only `$(` are literal ones (`$$(`) was not made by variables.
    let filled = Filled {
        notify_url_from_variables: notify_url
            .as_ref()
            .is_some_and(|url| *url != req.notify_url.replace("$$(", "$(")),
    };
    if let Some(url) = notify_url {
        req.notify_url = url;
    }
    if let Some(n) = req.notification.as_mut() {
        expand_notification(n, vars)?;
    }
    Ok(filled)
}

fn expand_notification(n: &mut Notification, vars: &BTreeMap<String, String>) -> Result<()> {
    for (field, text) in crate::validate::texts_mut(n) {
        fill(field, text, vars, MAX_TEXT_BYTES)?;
    }
    // Keys and values together share one budget, as validation counts them.
    let mut total = 0;
    for (key, value) in &mut n.data {
        let field = format!("notification.data[{}]", quoted(key));
        fill(&field, value, vars, MAX_DATA_BYTES)?;
        total += key.len() + value.len();
        if total > MAX_DATA_BYTES {
            return Err(Error::invalid(
                "notification.data",
                format!(
                    "is over {MAX_DATA_BYTES} bytes of keys and values once its variables are filled in"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{AndroidOptions, Destination};

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn reason(result: Result<impl std::fmt::Debug>) -> (String, String) {
        match result.unwrap_err() {
            Error::InvalidArgument { field, reason } => (field, reason),
            other => panic!("not an invalid argument: {other:?}"),
        }
    }

    #[test]
    fn references_are_filled_and_everything_else_is_kept() {
        let v = vars(&[("customerID", "c-42"), ("first.name", "Ada")]);
        let expand = |t| expand("f", t, &v, 100).unwrap();
        assert_eq!(expand("plain text, $5 and $ alone"), None);
        assert_eq!(expand("$(customerID)").as_deref(), Some("c-42"));
        assert_eq!(
            expand("Hi $(first.name), order $(customerID)!").as_deref(),
            Some("Hi Ada, order c-42!")
        );
        assert_eq!(expand("costs $$(5)").as_deref(), Some("costs $(5)"));
        assert_eq!(expand("$$$(first.name)").as_deref(), Some("$$(first.name)"));
        assert_eq!(expand("é $(first.name) ü").as_deref(), Some("é Ada ü"));
    }

    #[test]
    fn a_bad_reference_is_refused_with_its_position() {
        let v = vars(&[("a", "x")]);
        let (field, why) = reason(expand("f", "ab $(missing) c", &v, 100));
        assert_eq!(field, "f");
        assert!(
            why.contains("byte 3") && why.contains("\"missing\""),
            "{why}"
        );
        let (_, why) = reason(expand("f", "x $(a", &v, 100));
        assert!(
            why.contains("not closed") && why.contains("byte 2"),
            "{why}"
        );
        let (_, why) = reason(expand("f", "$(a b)", &v, 100));
        assert!(why.contains("not a variable reference"), "{why}");
    }

    #[test]
    fn an_expansion_stays_within_its_limit() {
        let v = vars(&[("big", &"x".repeat(40))]);
        assert!(expand("f", "$(big)$(big)", &v, 80).is_ok());
        let (_, why) = reason(expand("f", "$(big)$(big)$(big)", &v, 80));
        assert!(why.contains("over 80 bytes"), "{why}");
    }

    #[test]
    fn data_values_share_one_budget_once_filled_in() {
        let mut req = SendRequest {
            notification: Some(Notification {
                data: (0..5)
                    .map(|i| (format!("k{i}"), "$(big)".to_owned()))
                    .collect(),
                ..Default::default()
            }),
            variables: vars(&[("big", &"x".repeat(MAX_DATA_BYTES / 4))]),
            ..Default::default()
        };
        assert_eq!(reason(expand_request(&mut req)).0, "notification.data");
    }

    #[test]
    fn variables_are_named_and_counted() {
        assert!(check(&vars(&[("customerID", "1"), ("_x.y-z", "2")])).is_ok());
        assert_eq!(reason(check(&vars(&[("1st", "")]))).0, "variables[1st]");
        let many: BTreeMap<String, String> = (0..=MAX_VARIABLES)
            .map(|i| (format!("v{i}"), String::new()))
            .collect();
        assert_eq!(reason(check(&many)).0, "variables");
    }

    #[test]
    fn a_request_is_filled_in_its_destination_texts_and_data() {
        let mut req = SendRequest {
            destination: Some(Destination {
                kind: Some(Kind::CustomerId("$(customerID)".into())),
            }),
            notification: Some(Notification {
                title: "Hello $(name)".into(),
                android: Some(AndroidOptions {
                    title: Some("Hi $(name)".into()),
                    ..Default::default()
                }),
                data: [("order".to_owned(), "$(order)".to_owned())].into(),
                ..Default::default()
            }),
            variables: vars(&[("customerID", "c-1"), ("name", "Ada"), ("order", "o-9")]),
            ..Default::default()
        };
        expand_request(&mut req).unwrap();
        assert_eq!(
            req.destination.unwrap().kind,
            Some(Kind::CustomerId("c-1".into()))
        );
        let n = req.notification.unwrap();
        assert_eq!(n.title, "Hello Ada");
        assert_eq!(n.android.unwrap().title.as_deref(), Some("Hi Ada"));
        assert_eq!(n.data["order"], "o-9");

        let mut undefined = SendRequest {
            notification: Some(Notification {
                body: "for $(who)".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            reason(expand_request(&mut undefined)).0,
            "notification.body"
        );
    }

    #[test]
    fn a_notify_url_made_by_variables_says_so() {
        let mut req = SendRequest {
            notify_url: "https://$(host)/dr".into(),
            variables: vars(&[("host", "example.com")]),
            ..Default::default()
        };
        let filled = expand_request(&mut req).unwrap();
        assert_eq!(req.notify_url, "https://example.com/dr");
        assert!(filled.notify_url_from_variables);

        let mut literal = SendRequest {
            notify_url: "https://example.com/$$(x)".into(),
            ..Default::default()
        };
        assert!(
            !expand_request(&mut literal)
                .unwrap()
                .notify_url_from_variables
        );
        assert_eq!(literal.notify_url, "https://example.com/$(x)");
        let mut plain = SendRequest {
            notify_url: "https://example.com/dr".into(),
            ..Default::default()
        };
        assert_eq!(expand_request(&mut plain).unwrap(), Filled::default());
    }
}
