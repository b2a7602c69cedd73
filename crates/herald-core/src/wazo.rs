//! The body of Wazo's `POST /1.0/mobile/notifications`, checked as wazo-webhookd's
//! `NotificationSchema` checks it (marshmallow's messages, field by field), so a Wazo client
//! sees the same 400 answers from Herald.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use herald_proto::v1::{AndroidOptions, IosOptions, Notification};

use crate::personalize::literal;
use crate::triggers::{Payload, is_builtin_type};

/// The longest notification type.
pub const MAX_TYPE: usize = 100;
/// A user uuid's exact length.
pub const USER_UUID_LEN: usize = 36;
/// The longest title.
pub const MAX_TITLE: usize = 128;
/// The longest body.
pub const MAX_BODY: usize = 250;

/// A custom push as the Wazo API asks for it.
#[derive(Clone, Debug, PartialEq)]
pub struct WazoNotification {
    pub notification_type: String,
    pub user_uuid: String,
    pub title: String,
    pub body: String,
    pub extra: Payload,
}

/// What is wrong with a request, by field, in marshmallow's words.
pub type Details = BTreeMap<String, Vec<String>>;

const MISSING: &str = "Missing data for required field.";
const NULL: &str = "Field may not be null.";
const NOT_STRING: &str = "Not a valid string.";

/// Parses and checks a request body.
pub fn notification(body: &[u8]) -> Result<WazoNotification, Details> {
    let mut details = Details::new();
    let Ok(Json::Object(mut fields)) = serde_json::from_slice::<Json>(body) else {
        details.insert("_schema".into(), vec!["Invalid input type.".into()]);
        return Err(details);
    };
    let mut text = |name: &str, check: &dyn Fn(&str) -> Vec<String>| -> String {
        match fields.remove(name) {
            None => {
                details.insert(name.into(), vec![MISSING.into()]);
                String::new()
            }
            Some(Json::Null) => {
                details.insert(name.into(), vec![NULL.into()]);
                String::new()
            }
            Some(Json::String(s)) => {
                let problems = check(&s);
                if !problems.is_empty() {
                    details.insert(name.into(), problems);
                }
                s
            }
            Some(_) => {
                details.insert(name.into(), vec![NOT_STRING.into()]);
                String::new()
            }
        }
    };
    // marshmallow runs every validator of a field and lists each failure, in their order.
    let notification_type = text("notification_type", &|s| {
        let mut problems = Vec::new();
        if !(1..=MAX_TYPE).contains(&s.chars().count()) {
            problems.push(format!("Length must be between 1 and {MAX_TYPE}."));
        }
        if is_builtin_type(s) {
            problems.push(format!("The type \"{s}\" is a reserved type."));
        }
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            problems.push("String does not match expected pattern.".into());
        }
        problems
    });
    let user_uuid = text("user_uuid", &|s| {
        if s.chars().count() == USER_UUID_LEN {
            Vec::new()
        } else {
            vec![format!("Length must be {USER_UUID_LEN}.")]
        }
    });
    let title = text("title", &|s| at_most(s, MAX_TITLE));
    let body = text("body", &|s| at_most(s, MAX_BODY));
    let extra = match fields.remove("extra") {
        None => Payload::new(),
        Some(Json::Object(map)) => {
            // Herald's own bounds on an event's values (webhookd has none but its 2 KB push).
            let text = serde_json::to_string(&map).unwrap_or_default();
            if let Err(err) = crate::triggers::parse_payload("extra", &text) {
                let reason = match err {
                    crate::Error::InvalidArgument { reason, .. } => reason,
                    other => other.to_string(),
                };
                details.insert("extra".into(), vec![format!("{reason}.")]);
            }
            map
        }
        Some(Json::Null) => {
            details.insert("extra".into(), vec![NULL.into()]);
            Payload::new()
        }
        Some(_) => {
            details.insert("extra".into(), vec!["Not a valid mapping type.".into()]);
            Payload::new()
        }
    };
    // marshmallow's Schema refuses fields it does not know.
    for unknown in fields.keys() {
        details.insert(unknown.clone(), vec!["Unknown field.".into()]);
    }
    if !details.is_empty() {
        return Err(details);
    }
    Ok(WazoNotification {
        notification_type,
        user_uuid,
        title,
        body,
        extra,
    })
}

/// The notification of a Wazo API push: the request's title and body shown, its `extra` as
/// data beside `notification_type` and `items` (Wazo's `extra.items`, compact JSON), on Wazo's
/// Android channel. Nothing in it is a template: the request's texts are sent as they are.
pub fn custom_notification(request: &WazoNotification) -> Notification {
    let mut data: BTreeMap<String, String> = request
        .extra
        .iter()
        .filter(|(key, _)| key.as_str() != "items")
        .map(|(key, value)| {
            let text = match value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key.clone(), literal(&text))
        })
        .collect();
    data.insert(
        "notification_type".into(),
        request.notification_type.clone(),
    );
    data.insert(
        "items".into(),
        literal(
            &request
                .extra
                .get("items")
                .map_or_else(|| "{}".to_owned(), Json::to_string),
        ),
    );
    Notification {
        title: literal(&request.title),
        body: literal(&request.body),
        sound: "default".into(),
        badge: Some(1),
        notification_type: request.notification_type.clone(),
        data,
        android: Some(AndroidOptions {
            channel_id: Some("io.wazo.songbird".into()),
            priority: 5,
            ..Default::default()
        }),
        ios: Some(IosOptions {
            priority: 2,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn at_most(s: &str, max: usize) -> Vec<String> {
    if s.chars().count() > max {
        vec![format!("Longer than maximum length {max}.")]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request in the Wazo documentation's curl example.
    const SEED: &str = r#"{"title": "Example notification", "body": "This is an example notification", "notification_type": "exampleNotification", "extra": {"mykey": "myvalue"}, "user_uuid": "123e4567-e89b-12d3-a456-426614174000"}"#;

    fn problems(body: &str) -> Details {
        notification(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn the_documented_example_is_valid() {
        let n = notification(SEED.as_bytes()).unwrap();
        assert_eq!(n.notification_type, "exampleNotification");
        assert_eq!(n.user_uuid, "123e4567-e89b-12d3-a456-426614174000");
        assert_eq!(n.extra["mykey"], "myvalue");
    }

    #[test]
    fn each_field_is_checked_as_webhookd_does() {
        let d = problems("{}");
        for field in ["notification_type", "user_uuid", "title", "body"] {
            assert_eq!(d[field], vec![MISSING], "{field}");
        }
        assert!(!d.contains_key("extra"));
        let d = problems(
            r#"{"notification_type": "a-b", "user_uuid": "x", "title": 1, "body": null, "extra": []}"#,
        );
        assert_eq!(
            d["notification_type"],
            vec!["String does not match expected pattern."]
        );
        assert_eq!(d["user_uuid"], vec!["Length must be 36."]);
        assert_eq!(d["title"], vec![NOT_STRING]);
        assert_eq!(d["body"], vec![NULL]);
        assert_eq!(d["extra"], vec!["Not a valid mapping type."]);
        let long = SEED
            .replace("Example notification", &"t".repeat(129))
            .replace("This is an example notification", &"b".repeat(251));
        let d = problems(&long);
        assert_eq!(d["title"], vec!["Longer than maximum length 128."]);
        assert_eq!(d["body"], vec!["Longer than maximum length 250."]);
        let reserved = SEED.replace("exampleNotification", "incomingCall");
        assert_eq!(
            problems(&reserved)["notification_type"],
            vec!["The type \"incomingCall\" is a reserved type."]
        );
        let empty = SEED.replace("exampleNotification", "");
        assert_eq!(
            problems(&empty)["notification_type"],
            vec![
                "Length must be between 1 and 100.",
                "String does not match expected pattern."
            ]
        );
        let deep = SEED.replace(
            r#"{"mykey": "myvalue"}"#,
            &format!("{}1{}", r#"{"a":"#.repeat(20), "}".repeat(20)),
        );
        assert!(problems(&deep)["extra"][0].contains("nested"));
        assert_eq!(problems("[1]")["_schema"], vec!["Invalid input type."]);
        assert_eq!(problems("not json")["_schema"], vec!["Invalid input type."]);
        // Exactly at the limits is fine; an unknown field is refused, as marshmallow does.
        let edge = SEED
            .replace("Example notification", &"t".repeat(128))
            .replace("This is an example notification", &"é".repeat(250));
        assert!(notification(edge.as_bytes()).is_ok());
        let unknown = SEED.replace("\"extra\"", "\"other\": 1, \"extra\"");
        assert_eq!(problems(&unknown)["other"], vec!["Unknown field."]);
    }

    #[test]
    fn a_custom_push_carries_its_extra_as_data_and_its_texts_as_they_are() {
        let mut n = notification(SEED.as_bytes()).unwrap();
        n.extra.insert("n".into(), 2.into());
        n.extra.insert("items".into(), serde_json::json!({"a": 1}));
        n.title = "Hi {{ user.name }}".into();
        let p = custom_notification(&n);
        assert_eq!(p.data["mykey"], "myvalue");
        assert_eq!(p.data["n"], "2");
        assert_eq!(p.data["items"], r#"{"a":1}"#);
        assert_eq!(p.data["notification_type"], "exampleNotification");
        let rendered = crate::personalize::Personalizer::new(&p, &BTreeMap::new())
            .unwrap()
            .render(&p, &crate::personalize::Recipient::default())
            .unwrap();
        assert_eq!(rendered.title, "Hi {{ user.name }}");
        n.extra.clear();
        assert_eq!(custom_notification(&n).data["items"], "{}");
    }
}
