//! Event-driven notifications, pure: event types and payloads as `PublishEvent` takes them,
//! trigger conditions (CEL, through the `cel` crate: compiled once, evaluated per event, a
//! syntax error answered with its line and column), and the built-in call and message
//! triggers, shaped after wazo-webhookd's mobile push notifications.

use std::collections::BTreeMap;

use herald_proto::v1::{
    AndroidOptions, ApnsPushType, Destination, IosOptions, MessageClass, Notification, Trigger,
    destination,
};
use serde_json::{Map, Value as Json};

use crate::{Error, Result};

/// The longest event type.
pub const MAX_EVENT_TYPE: usize = 100;
/// The largest event payload, as JSON.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// How deep an event payload may nest.
pub const MAX_PAYLOAD_DEPTH: usize = 16;
/// The longest condition.
pub const MAX_CONDITION_BYTES: usize = 2048;
/// How deep a condition's expression may nest.
const MAX_CONDITION_DEPTH: usize = 32;
/// The longest trigger name.
pub const MAX_DISPLAY_NAME: usize = 200;

/// An event's values: a JSON object.
pub type Payload = Map<String, Json>;

/// Checks an event type: 1–100 letters, digits, `_`, `.` or `-`.
pub fn event_type(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    if value.len() > MAX_EVENT_TYPE {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_EVENT_TYPE} characters"),
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(Error::invalid(
            field,
            "only letters, digits, `_`, `.` and `-` are allowed",
        ));
    }
    Ok(())
}

/// A trigger's name: 1–200 characters.
pub fn display_name(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    if value.chars().count() > MAX_DISPLAY_NAME {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_DISPLAY_NAME} characters"),
        ));
    }
    Ok(())
}

/// The event's values from a request: its JSON object, or its variables (a dotted name makes a
/// nested value: `bot.id` → `{"bot": {"id": …}}`), not both.
pub fn payload(json: &str, variables: &BTreeMap<String, String>) -> Result<Payload> {
    if !json.is_empty() && !variables.is_empty() {
        return Err(Error::invalid(
            "payload_json",
            "give the event's values as payload_json or as variables, not both",
        ));
    }
    if !json.is_empty() {
        return parse_payload("payload_json", json);
    }
    let mut out = Payload::new();
    for name in variables.keys() {
        let field = format!("variables[{name:?}]");
        let parts: Vec<&str> = name.split('.').collect();
        if parts.iter().any(|p| p.is_empty()) || parts.len() > MAX_PAYLOAD_DEPTH {
            return Err(Error::invalid(
                field,
                "a name is dot-separated parts, none empty",
            ));
        }
        let (last, path) = parts.split_last().expect("split gives one part");
        let mut at = &mut out;
        for part in path {
            let slot = at
                .entry((*part).to_owned())
                .or_insert_with(|| Json::Object(Payload::new()));
            at = match slot {
                Json::Object(map) => map,
                _ => {
                    return Err(Error::invalid(
                        field,
                        format!("{part:?} is also given a value of its own"),
                    ));
                }
            };
        }
        if at.contains_key(*last) {
            return Err(Error::invalid(
                field,
                format!("{last:?} is also the start of longer names"),
            ));
        }
        at.insert((*last).to_owned(), Json::String(variables[name].clone()));
    }
    if serde_json::to_vec(&out).map_or(0, |b| b.len()) > MAX_PAYLOAD_BYTES {
        return Err(Error::invalid(
            "variables",
            format!("at most {MAX_PAYLOAD_BYTES} bytes as JSON"),
        ));
    }
    Ok(out)
}

/// A JSON object within the size and depth limits.
pub fn parse_payload(field: &str, json: &str) -> Result<Payload> {
    if json.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_PAYLOAD_BYTES} bytes"),
        ));
    }
    // Depth first, from the text: serde_json's own recursion limit (128) is deeper than ours.
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for b in json.bytes() {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'{' | b'[') => {
                depth += 1;
                if depth > MAX_PAYLOAD_DEPTH {
                    return Err(Error::invalid(
                        field,
                        format!("nested more than {MAX_PAYLOAD_DEPTH} deep"),
                    ));
                }
            }
            (false, _, b'}' | b']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    match serde_json::from_str::<Json>(json) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid(field, "must be a JSON object")),
        Err(err) => Err(Error::invalid(field, format!("not valid JSON: {err}"))),
    }
}

/// A trigger's condition, compiled.
pub struct Condition {
    program: cel::Program,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Condition").finish_non_exhaustive()
    }
}

impl Condition {
    /// Compiles a condition; `None` for an empty one (always true). A syntax error names its
    /// line and column.
    pub fn compile(field: &str, source: &str) -> Result<Option<Self>> {
        if source.trim().is_empty() {
            return Ok(None);
        }
        if source.len() > MAX_CONDITION_BYTES {
            return Err(Error::invalid(
                field,
                format!("at most {MAX_CONDITION_BYTES} bytes"),
            ));
        }
        // The parser recurses per nesting level, so deep nesting is refused before it runs.
        let mut depth = 0usize;
        for c in source.chars() {
            match c {
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth > MAX_CONDITION_DEPTH {
                        return Err(Error::invalid(
                            field,
                            format!("nested more than {MAX_CONDITION_DEPTH} deep"),
                        ));
                    }
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if let Some(name) = comprehension(source) {
            return Err(Error::invalid(
                field,
                format!(
                    "`{name}` is not allowed: a condition may not loop over values (use `in` \
                     and has())"
                ),
            ));
        }
        match cel::Program::compile(source) {
            Ok(program) => Ok(Some(Self { program })),
            Err(errors) => {
                let first = errors.errors.first();
                let (line, column) = first.map_or((1, 1), |e| (e.pos.0.max(1), e.pos.1 + 1));
                let msg = first.map_or("syntax error", |e| e.msg.as_str());
                Err(Error::invalid(
                    field,
                    format!("condition error at line {line}, column {column}: {msg}"),
                ))
            }
        }
    }

    /// Whether the condition holds for an event: its values by their top-level names, all of
    /// them as `event`, and its type as `event_type`. A condition that does not evaluate to a
    /// boolean, or fails (a missing value), is an error saying why.
    pub fn holds(&self, event_type: &str, event: &Payload) -> std::result::Result<bool, String> {
        let mut ctx = cel::Context::default();
        for (name, value) in event {
            if name == "event" || name == "event_type" {
                continue;
            }
            ctx.add_variable_from_value(name.as_str(), cel_value(value));
        }
        ctx.add_variable_from_value("event", cel_map(event));
        ctx.add_variable_from_value("event_type", event_type.to_owned());
        match self.program.execute(&ctx) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!(
                "the condition gave {:?}, not true or false",
                other.type_of()
            )),
            Err(err) => Err(format!("the condition failed: {err}")),
        }
    }
}

/// The comprehension macro a condition calls, if any: they loop over values (nested, a
/// condition could run for hours), so conditions may not use them.
fn comprehension(source: &str) -> Option<&'static str> {
    const MACROS: [&str; 5] = ["all", "exists", "exists_one", "map", "filter"];
    // The source with its string literals blanked (a macro's name inside one is text).
    let mut code = String::with_capacity(source.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in source.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                code.push(' ');
            }
            None => {
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
                code.push(c);
            }
        }
    }
    let mut rest = code.as_str();
    while let Some(at) = rest.find('.') {
        rest = &rest[at + 1..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if after.starts_with('(')
            && let Some(m) = MACROS.iter().find(|m| **m == name)
        {
            return Some(m);
        }
    }
    None
}

/// A JSON value as CEL sees it: a whole number as an int (a uint only past i64), so arithmetic
/// on event values works (`count + 1`).
fn cel_value(value: &Json) -> cel::Value {
    match value {
        Json::Null => cel::Value::Null,
        Json::Bool(b) => cel::Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => cel::Value::String(s.clone().into()),
        Json::Array(items) => {
            cel::Value::List(items.iter().map(cel_value).collect::<Vec<_>>().into())
        }
        Json::Object(map) => cel_map(map),
    }
}

fn cel_map(map: &Payload) -> cel::Value {
    let entries: std::collections::HashMap<cel::objects::Key, cel::Value> = map
        .iter()
        .map(|(k, v)| (cel::objects::Key::String(k.clone().into()), cel_value(v)))
        .collect();
    cel::Value::Map(cel::objects::Map {
        map: entries.into(),
    })
}

/// Checks a trigger as it is to be stored: its name, event type, condition (compiled), template
/// (a notification as Send takes it, templates compiled) and destination (one kind, its texts
/// compiled; a user for a mobile-session trigger).
pub fn check_trigger(t: &Trigger) -> Result<()> {
    display_name("display_name", &t.display_name)?;
    event_type("event_type", &t.event_type)?;
    Condition::compile("condition", &t.condition)?;
    let template = t
        .template
        .as_ref()
        .ok_or_else(|| Error::invalid("template", "required"))?;
    let as_template = |err: Error| match err {
        Error::InvalidArgument { field, reason } => Error::InvalidArgument {
            field: field.replacen("notification", "template", 1),
            reason,
        },
        other => other,
    };
    crate::validate::notification_fields(template).map_err(as_template)?;
    crate::personalize::check(template).map_err(as_template)?;
    if t.providers.contains(&0) {
        return Err(Error::invalid(
            "providers",
            "PROVIDER_UNSPECIFIED is not a provider",
        ));
    }
    MessageClass::try_from(t.class).map_err(|_| Error::invalid("class", "not a MessageClass"))?;
    if let Some(d) = &t.destination {
        let kind = d
            .kind
            .as_ref()
            .ok_or_else(|| Error::invalid("destination", "set one kind, or leave it unset"))?;
        for (field, text) in destination_texts(kind) {
            crate::personalize::render_event_text(
                &format!("destination.{field}"),
                text,
                &Payload::new(),
            )?;
        }
        if t.mobile_sessions && !matches!(kind, destination::Kind::UserId(_)) {
            return Err(Error::invalid(
                "destination",
                "a mobile-session trigger sends to a user (destination.user_id)",
            ));
        }
    }
    Ok(())
}

/// The texts of a destination that may be templates, by field name.
fn destination_texts(kind: &destination::Kind) -> Vec<(&'static str, &String)> {
    match kind {
        destination::Kind::CustomerId(s) => vec![("customer_id", s)],
        destination::Kind::UserId(s) => vec![("user_id", s)],
        destination::Kind::DeviceId(s) => vec![("device_id", s)],
        destination::Kind::Topic(s) => vec![("topic", s)],
        destination::Kind::Segment(s) => vec![("segment", s)],
        destination::Kind::PushId(p) => vec![("push_id.token", &p.token)],
    }
}

/// A trigger's destination made from an event: each text rendered with the event's values.
/// Answers why not when a text fails or renders empty.
pub fn render_destination(
    d: &Destination,
    event: &Payload,
) -> std::result::Result<Destination, String> {
    let mut out = d.clone();
    let Some(kind) = out.kind.as_mut() else {
        return Err("the destination has no kind".into());
    };
    let text = match kind {
        destination::Kind::CustomerId(s)
        | destination::Kind::UserId(s)
        | destination::Kind::DeviceId(s)
        | destination::Kind::Topic(s)
        | destination::Kind::Segment(s) => s,
        destination::Kind::PushId(p) => &mut p.token,
    };
    let field = destination_texts(kind_of(d))
        .first()
        .map_or("", |(f, _)| *f);
    let rendered =
        crate::personalize::render_event_text(&format!("destination.{field}"), text, event)
            .map_err(|err| err.to_string())?;
    if rendered.is_empty() && !matches!(d.kind, Some(destination::Kind::PushId(_))) {
        return Err(format!(
            "the destination's {field} rendered empty from the event"
        ));
    }
    *text = rendered;
    Ok(out)
}

fn kind_of(d: &Destination) -> &destination::Kind {
    d.kind.as_ref().expect("checked by the caller")
}

/// The built-in triggers' ids, by their event types (Wazo's notification types).
pub const BUILTIN: [(&str, &str); 5] = [
    ("trg_cancel_incoming_call", "cancelIncomingCall"),
    ("trg_incoming_call", "incomingCall"),
    ("trg_message_received", "messageReceived"),
    ("trg_missed_call", "missedCall"),
    ("trg_voicemail_received", "voicemailReceived"),
];

/// The event types Herald ships triggers for (reserved for the Wazo endpoint's own types).
pub fn is_builtin_type(event_type: &str) -> bool {
    BUILTIN.iter().any(|(_, t)| *t == event_type)
}

/// Whether a trigger id is a built-in one.
pub fn is_builtin_id(id: &str) -> bool {
    BUILTIN.iter().any(|(i, _)| *i == id)
}

/// How long a call push is worth delivering: a call rings for about half a minute.
pub const CALL_TTL_SECONDS: u32 = 30;

/// The data every built-in push carries, as Wazo's apps read it: the type and the event's
/// values (`items`, compact JSON).
fn wazo_data(notification_type: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("notification_type".to_owned(), notification_type.to_owned()),
        ("items".to_owned(), "{{ event | json }}".to_owned()),
    ])
}

/// A built-in trigger as shipped: every built-in event names the user to notify in
/// `user_uuid`, who is reached through their mobile sessions.
pub fn builtin(id: &str) -> Option<Trigger> {
    let (_, event_type) = BUILTIN.iter().find(|(i, _)| *i == id)?;
    // A call rings now or never: it passes quiet hours and every other send.
    let class = match *event_type {
        "incomingCall" | "cancelIncomingCall" => MessageClass::Transactional,
        _ => MessageClass::Standard,
    };
    let (name, condition, notification) = match *event_type {
        "incomingCall" => (
            "Incoming call",
            "",
            Notification {
                title: "Incoming Call".into(),
                body: "From: {{ event.peer_caller_id_number }}".into(),
                // Android: a high-priority data message, so the app rings itself.
                silent: true,
                priority: 5,
                ttl_seconds: CALL_TTL_SECONDS,
                ios: Some(IosOptions {
                    push_type: ApnsPushType::Voip as i32,
                    ..Default::default()
                }),
                ..call_data("incomingCall")
            },
        ),
        "cancelIncomingCall" => (
            "Cancel incoming call",
            "",
            Notification {
                silent: true,
                priority: 5,
                ttl_seconds: CALL_TTL_SECONDS,
                ..call_data("cancelIncomingCall")
            },
        ),
        "missedCall" => (
            "Missed call",
            "",
            alert(
                "missedCall",
                "Missed Call",
                "From: {{ event.caller_id_name | default('<name unknown>', true) }} \
                 ({{ event.caller_id_number | default('<number unknown>', true) }})",
            ),
        ),
        "voicemailReceived" => (
            "Voicemail received",
            "",
            alert(
                "voicemailReceived",
                "New Voicemail",
                "From: {{ event.message.caller_id_name | default('Unknown', true) }} \
                 ({{ event.message.caller_id_num }})",
            ),
        ),
        "messageReceived" => (
            "Chat message received",
            // Not to the message's own author.
            "!has(event.author_uuid) || event.author_uuid != event.user_uuid",
            alert(
                "messageReceived",
                "New Message from {{ event.alias | default('[Unknown]', true) }}",
                "{{ event.content | truncate(100) }}",
            ),
        ),
        _ => return None,
    };
    Some(Trigger {
        trigger_id: (*id).to_owned(),
        display_name: name.to_owned(),
        event_type: (*event_type).to_owned(),
        condition: condition.to_owned(),
        template: Some(notification),
        providers: Vec::new(),
        enabled: true,
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("{{ event.user_uuid }}".into())),
        }),
        mobile_sessions: true,
        builtin: true,
        created_at_ms: 0,
        updated_at_ms: 0,
        class: class as i32,
    })
}

fn call_data(notification_type: &str) -> Notification {
    Notification {
        notification_type: notification_type.to_owned(),
        data: wazo_data(notification_type),
        ..Default::default()
    }
}

/// A user-facing push: high priority on Android, APNs priority 5 (as Wazo sends it), a badge
/// and the default sound.
fn alert(notification_type: &str, title: &str, body: &str) -> Notification {
    Notification {
        title: title.to_owned(),
        body: body.to_owned(),
        sound: "default".into(),
        badge: Some(1),
        android: Some(AndroidOptions {
            priority: 5,
            ..Default::default()
        }),
        ios: Some(IosOptions {
            priority: 2,
            ..Default::default()
        }),
        ..call_data(notification_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Payload {
        parse_payload("payload_json", json).unwrap()
    }

    #[test]
    fn event_types_are_names() {
        assert!(event_type("t", "conversation.escalated").is_ok());
        assert!(event_type("t", "missedCall").is_ok());
        assert!(event_type("t", "").is_err());
        assert!(event_type("t", "a b").is_err());
        assert!(event_type("t", &"x".repeat(101)).is_err());
    }

    #[test]
    fn variables_nest_by_their_dots() {
        let vars = BTreeMap::from([
            ("bot.id".to_owned(), "b1".to_owned()),
            ("bot.name".to_owned(), "Ada".to_owned()),
            ("user_uuid".to_owned(), "u".to_owned()),
        ]);
        let p = payload("", &vars).unwrap();
        assert_eq!(
            Json::Object(p),
            serde_json::json!({"bot": {"id": "b1", "name": "Ada"}, "user_uuid": "u"})
        );
        let clash = BTreeMap::from([
            ("bot".to_owned(), "x".to_owned()),
            ("bot.id".to_owned(), "b1".to_owned()),
        ]);
        assert!(payload("", &clash).is_err());
        let empty_part = BTreeMap::from([("bot..id".to_owned(), "b1".to_owned())]);
        assert!(payload("", &empty_part).is_err());
        assert!(payload("{}", &vars).is_err());
    }

    #[test]
    fn payloads_are_bounded_objects() {
        assert!(parse_payload("p", "[1]").is_err());
        assert!(parse_payload("p", "{").is_err());
        let deep = format!("{}1{}", "{\"a\":".repeat(17), "}".repeat(17));
        assert!(parse_payload("p", &deep).is_err());
        let ok = format!("{}1{}", "{\"a\":".repeat(16), "}".repeat(16));
        assert!(parse_payload("p", &ok).is_ok());
        // Brackets inside strings do not count.
        assert!(parse_payload("p", &format!("{{\"a\":\"{}\"}}", "[".repeat(40))).is_ok());
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_PAYLOAD_BYTES));
        assert!(parse_payload("p", &big).is_err());
    }

    #[test]
    fn conditions_see_the_event() {
        let c = Condition::compile("condition", "bot.id == 'b1' && event_type == 'x'")
            .unwrap()
            .unwrap();
        assert_eq!(c.holds("x", &event(r#"{"bot": {"id": "b1"}}"#)), Ok(true));
        assert_eq!(c.holds("x", &event(r#"{"bot": {"id": "b2"}}"#)), Ok(false));
        assert_eq!(c.holds("y", &event(r#"{"bot": {"id": "b1"}}"#)), Ok(false));
        // A missing value fails, saying so; has() tests for it.
        assert!(c.holds("x", &event("{}")).is_err());
        let has = Condition::compile("c", "has(event.bot) && event.bot.id == 'b1'")
            .unwrap()
            .unwrap();
        assert_eq!(has.holds("x", &event("{}")), Ok(false));
        let numbers = Condition::compile("c", "count > 2 && ratio < 0.5")
            .unwrap()
            .unwrap();
        assert_eq!(
            numbers.holds("x", &event(r#"{"count": 3, "ratio": 0.25}"#)),
            Ok(true)
        );
        let arithmetic = Condition::compile("c", "count + 1 == 4 && count % 3 == 0 && big > 0")
            .unwrap()
            .unwrap();
        assert_eq!(
            arithmetic.holds("x", &event(r#"{"count": 3, "big": 18446744073709551615}"#)),
            Ok(true)
        );
        let lists = Condition::compile("c", "'vip' in tags && event.n.size() == 2")
            .unwrap()
            .unwrap();
        assert_eq!(
            lists.holds("x", &event(r#"{"tags": ["a", "vip"], "n": [1, 2]}"#)),
            Ok(true)
        );
        let not_bool = Condition::compile("c", "1 + 1").unwrap().unwrap();
        assert!(not_bool.holds("x", &event("{}")).is_err());
        assert!(Condition::compile("c", "  ").unwrap().is_none());
    }

    #[test]
    fn a_bad_condition_is_refused_with_its_position() {
        let err = Condition::compile("condition", "bot.id ==").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("condition"), "{text}");
        assert!(text.contains("line 1, column"), "{text}");
        let err = Condition::compile("condition", "a &&\n  (b ||").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        // Loops over values are refused (nested, they could run for hours); their names in
        // strings are text.
        for looping in [
            "[1, 2].all(x, x > 0)",
            "tags.exists(t, t == 'a')",
            "l . map (x, x)",
            "l.filter(x, true).size() > 0",
            "l.exists_one(x, x)",
        ] {
            let err = Condition::compile("condition", looping).unwrap_err();
            assert!(err.to_string().contains("not allowed"), "{looping}: {err}");
        }
        assert!(Condition::compile("c", "name == 'x.all(y)' || m.map == 1").is_ok());
        let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        assert!(Condition::compile("condition", &deep).is_err());
        assert!(Condition::compile("condition", &"a".repeat(3000)).is_err());
        // Long chains of unary operators parse (or are refused) without exhausting the stack.
        let _ = Condition::compile("condition", &format!("{}true", "!".repeat(2000)));
        let _ = Condition::compile("condition", &format!("{}1 > 0", "-".repeat(2000)));
    }

    #[test]
    fn every_builtin_is_complete_and_compiles() {
        for (id, event_type) in BUILTIN {
            let t = builtin(id).unwrap();
            assert_eq!(t.event_type, event_type);
            assert!(t.builtin && t.enabled && t.mobile_sessions);
            // Calls ring now or never; the rest wait for quiet hours to end.
            let call = event_type.ends_with("ncomingCall");
            assert_eq!(t.class() == MessageClass::Transactional, call, "{id}");
            Condition::compile("condition", &t.condition).unwrap();
            let n = t.template.unwrap();
            assert_eq!(n.data["notification_type"], event_type);
            crate::personalize::check(&n).unwrap();
        }
        assert!(builtin("trg_other").is_none());
        assert!(is_builtin_type("incomingCall") && !is_builtin_type("exampleNotification"));
    }
}
