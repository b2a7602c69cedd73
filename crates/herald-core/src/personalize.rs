//! Personalisation per recipient: a notification's language variant chosen by the device's
//! locale (`de-AT` → `de` → the message's own texts), then its `{{ … }}` templates rendered with
//! the recipient's values (MiniJinja). The templates are compiled once per message
//! ([`Personalizer::new`]) and rendered per device ([`Personalizer::render`]).
//!
//! A template sees `user.id` and `user.name` (the name of the user's customer profile),
//! `customer.id`, `customer.name`, `customer.locale`, `customer.time_zone` and
//! `customer.attributes.<key>`, `device.platform`, `device.locale`, `device.app_version`, and
//! `vars.<name>` (the request's variables), for a message a trigger sent `event.<name>` (the
//! event's values), with the filters `upper`, `lower`, `title`,
//! `capitalize`, `trim`, `truncate`, `length`, `default` and `json`, and the tags `if` and `for`
//! (nothing that can build a text larger than its inputs: no `set`, no `range`, no `*`; a
//! rendered text is cut off, and the delivery failed, past 5,120 bytes). An undefined value (and anything looked up on it) renders as
//! nothing — `{{ user.name |
//! default("there") }}` gives a fallback. A template that fails while rendering (a filter given
//! the wrong type, a loop that runs out of fuel) fails only that recipient's delivery, with the
//! reason.

use std::collections::BTreeMap;

use herald_proto::v1::{LocalizedTexts, Notification};
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::validate::texts_mut;
use crate::{Error, Result};

/// The most language variants a notification carries.
pub const MAX_LOCALIZATIONS: usize = 64;
/// Template instructions one text may run per recipient.
const FUEL: u64 = 50_000;

/// What one recipient's templates see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recipient<'a> {
    pub user_id: &'a str,
    pub device_platform: &'a str,
    pub device_locale: &'a str,
    pub app_version: &'a str,
    pub customer: Option<CustomerView<'a>>,
}

/// The customer profile a recipient's device belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomerView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub locale: &'a str,
    pub time_zone: &'a str,
    pub attributes: Option<&'a BTreeMap<String, String>>,
}

impl Recipient<'_> {
    /// The locale the variant is chosen by: the device's, else its customer's.
    pub fn locale(&self) -> &str {
        if self.device_locale.is_empty() {
            self.customer.as_ref().map_or("", |c| c.locale)
        } else {
            self.device_locale
        }
    }
}

fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// Every text of a notification that may hold a template, with its field name: its own texts,
/// its data values and its variants' texts.
fn texts(n: &Notification) -> Vec<(String, String)> {
    let mut copy = n.clone();
    let mut out: Vec<(String, String)> = texts_mut(&mut copy)
        .into_iter()
        .map(|(field, text)| (field.to_owned(), text.clone()))
        .collect();
    for (key, value) in &n.data {
        out.push((format!("notification.data[{key:?}]"), value.clone()));
    }
    for (tag, v) in &n.localizations {
        for (name, text) in variant_fields(v) {
            out.push((
                format!("notification.localizations[{tag:?}].{name}"),
                text.to_owned(),
            ));
        }
    }
    out
}

/// A variant's texts that are set, by field name.
fn variant_fields(v: &LocalizedTexts) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    for (name, text) in [("title", &v.title), ("body", &v.body)] {
        if !text.is_empty() {
            out.push((name, text.as_str()));
        }
    }
    for (name, text) in [
        ("android_title", &v.android_title),
        ("android_body", &v.android_body),
        ("ios_title", &v.ios_title),
        ("ios_subtitle", &v.ios_subtitle),
        ("ios_body", &v.ios_body),
        ("web_title", &v.web_title),
        ("web_body", &v.web_body),
    ] {
        if let Some(text) = text {
            out.push((name, text.as_str()));
        }
    }
    out
}

/// Checks a notification's language variants and templates (at ingest): each variant's key is
/// a language tag and its texts fit the text limit; each template compiles.
pub fn check(n: &Notification) -> Result<()> {
    if n.localizations.len() > MAX_LOCALIZATIONS {
        return Err(Error::invalid(
            "notification.localizations",
            format!("at most {MAX_LOCALIZATIONS} locales"),
        ));
    }
    for (tag, v) in &n.localizations {
        crate::locale::tag(&format!("notification.localizations[{tag:?}]"), tag)?;
        for (name, text) in variant_fields(v) {
            if text.len() > crate::validate::MAX_TEXT_BYTES {
                return Err(Error::invalid(
                    format!("notification.localizations[{tag:?}].{name}"),
                    format!("at most {} bytes", crate::validate::MAX_TEXT_BYTES),
                ));
            }
        }
    }
    Personalizer::new(n, &BTreeMap::new()).map(|_| ())
}

/// The notification with the variant for `locale` applied (the first of `de-at`, `de` it has),
/// and no variants left.
pub fn localized(n: &Notification, locale: &str) -> Notification {
    let mut out = n.clone();
    let variants = std::mem::take(&mut out.localizations);
    if variants.is_empty() {
        return out;
    }
    let by_tag: BTreeMap<String, &LocalizedTexts> = variants
        .iter()
        .map(|(tag, v)| (crate::locale::normalize(tag), v))
        .collect();
    let Some(v) = crate::locale::fallbacks(locale)
        .iter()
        .find_map(|tag| by_tag.get(tag).copied())
    else {
        return out;
    };
    if !v.title.is_empty() {
        out.title.clone_from(&v.title);
    }
    if !v.body.is_empty() {
        out.body.clone_from(&v.body);
    }
    if v.android_title.is_some() || v.android_body.is_some() {
        let android = out.android.get_or_insert_with(Default::default);
        if v.android_title.is_some() {
            android.title.clone_from(&v.android_title);
        }
        if v.android_body.is_some() {
            android.body.clone_from(&v.android_body);
        }
    }
    if v.ios_title.is_some() || v.ios_subtitle.is_some() || v.ios_body.is_some() {
        let ios = out.ios.get_or_insert_with(Default::default);
        if v.ios_title.is_some() {
            ios.title.clone_from(&v.ios_title);
        }
        if v.ios_subtitle.is_some() {
            ios.subtitle.clone_from(&v.ios_subtitle);
        }
        if v.ios_body.is_some() {
            ios.body.clone_from(&v.ios_body);
        }
    }
    if v.web_title.is_some() || v.web_body.is_some() {
        let web = out.web.get_or_insert_with(Default::default);
        if v.web_title.is_some() {
            web.title.clone_from(&v.web_title);
        }
        if v.web_body.is_some() {
            web.body.clone_from(&v.web_body);
        }
    }
    out
}

/// A message's templates, compiled once, ready to render per recipient.
pub struct Personalizer {
    env: Environment<'static>,
    templated: bool,
    localized: bool,
    vars: Value,
    /// The values of the event a trigger sent the message for (undefined otherwise).
    event: Value,
}

impl std::fmt::Debug for Personalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Personalizer")
            .field("templated", &self.templated)
            .field("localized", &self.localized)
            .finish_non_exhaustive()
    }
}

impl Personalizer {
    /// Compiles the templates of `n` (its own texts, data values and variants); a syntax error
    /// names the field, line and column. `vars` are the request's variables.
    pub fn new(n: &Notification, vars: &BTreeMap<String, String>) -> Result<Self> {
        let mut env = environment();
        let mut templated = false;
        for (field, text) in texts(n) {
            if !is_template(&text) || env.get_template(&text).is_ok() {
                continue;
            }
            templated = true;
            allowed(&field, &text)?;
            if let Err(err) = env.add_template_owned(text.clone(), text.clone()) {
                return Err(syntax_error(&field, &text, &err));
            }
        }
        Ok(Self {
            env,
            templated,
            localized: !n.localizations.is_empty(),
            vars: Value::from_serialize(vars),
            event: Value::UNDEFINED,
        })
    }

    /// The same, for a message a trigger sent: its templates also see the event's values, as
    /// `event.<name>` and by their top-level names (after the recipient's own: `user`,
    /// `customer`, `device` and `vars` are always the recipient's and the request's).
    #[must_use]
    pub fn with_event(mut self, event: &crate::triggers::Payload) -> Self {
        self.event = Value::from_serialize(event);
        self
    }

    /// Whether recipients get anything of their own (a variant or a template).
    pub fn is_personal(&self) -> bool {
        self.templated || self.localized
    }

    /// `n` for one recipient: its variant applied, its templates rendered.
    pub fn render(&self, n: &Notification, r: &Recipient<'_>) -> Result<Notification, String> {
        let mut out = if self.localized {
            localized(n, r.locale())
        } else {
            n.clone()
        };
        if !self.templated {
            return Ok(out);
        }
        let ctx = context(r, &self.vars, &self.event);
        let render = |field: &str, text: &mut String| -> Result<(), String> {
            if !is_template(text) {
                return Ok(());
            }
            let template = self
                .env
                .get_template(text)
                .map_err(|err| format!("{field}: {err}"))?;
            let mut out = Capped::default();
            match template.render_captured_to(&ctx, &mut out) {
                Ok(_) => {}
                Err(_) if out.over => {
                    return Err(format!(
                        "{field}: the rendered text is over the limit of {} bytes",
                        crate::validate::MAX_TEXT_BYTES
                    ));
                }
                Err(err) => return Err(format!("{field}: template failed: {err}")),
            }
            *text = String::from_utf8_lossy(&out.text).into_owned();
            Ok(())
        };
        for (field, text) in texts_mut(&mut out) {
            render(field, text)?;
        }
        for (key, value) in &mut out.data {
            render(&format!("notification.data[{key:?}]"), value)?;
        }
        Ok(out)
    }
}

/// A render's output, refused past the text limit (so a template cannot grow without bound).
#[derive(Default)]
struct Capped {
    text: Vec<u8>,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + buf.len() > crate::validate::MAX_TEXT_BYTES {
            self.over = true;
            return Err(std::io::Error::other("over the text limit"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The template environment: undefined values render as nothing (and so does anything looked
/// up on them), nothing is escaped (notifications are text), each text runs within its fuel,
/// and only filters that cannot grow a value beyond its inputs exist: `upper`, `lower`,
/// `title`, `capitalize`, `trim`, `truncate`, `length` and `default`.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    // A text ends as written, newline and all.
    env.set_keep_trailing_newline(true);
    env.add_filter("upper", |s: String| s.to_uppercase());
    env.add_filter("lower", |s: String| s.to_lowercase());
    env.add_filter("trim", |s: String| s.trim().to_owned());
    env.add_filter("capitalize", |s: String| {
        let mut chars = s.chars();
        chars.next().map_or_else(String::new, |first| {
            first
                .to_uppercase()
                .chain(chars.flat_map(char::to_lowercase))
                .collect()
        })
    });
    env.add_filter("title", |s: String| {
        let mut out = String::with_capacity(s.len());
        let mut start = true;
        for c in s.chars() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start = !c.is_alphanumeric();
        }
        out
    });
    env.add_filter("length", |v: Value| v.len().unwrap_or(0));
    env.add_filter(
        "truncate",
        |s: String, length: Option<usize>, _killwords: Option<bool>, end: Option<String>| {
            let length = length.unwrap_or(255);
            if s.chars().count() <= length {
                return s;
            }
            let end = end.unwrap_or_else(|| "...".into());
            let keep = length.saturating_sub(end.chars().count());
            let mut out: String = s.chars().take(keep).collect();
            out.push_str(&end);
            out
        },
    );
    // Jinja's `default(value, fallback, boolean)`: with `boolean` true, an empty or false value
    // takes the fallback too.
    let default = |value: Value, fallback: Option<Value>, boolean: Option<bool>| {
        if value.is_undefined() || value.is_none() || (boolean == Some(true) && !value.is_true()) {
            fallback.unwrap_or_else(|| Value::from(""))
        } else {
            value
        }
    };
    env.add_filter("default", default);
    env.add_filter("d", default);
    // A value as compact JSON (an event's values handed to an app as one data value).
    env.add_filter("json", |v: Value| {
        serde_json::to_string(&v).map_err(|err| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, err.to_string())
        })
    });
    env
}

/// What a template may use: expressions and `if`/`elif`/`else`/`endif` and `for`/`endfor`
/// tags, no `*` (string repetition). With no `set` and no `range`, nothing a template builds
/// outgrows the template and the recipient's values.
fn allowed(field: &str, source: &str) -> Result<()> {
    let refuse = |what: String| Error::invalid(field, format!("template: {what}"));
    let mut rest = source;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let (close, is_tag) = match after.chars().next() {
            Some('{') => ("}}", false),
            Some('%') => ("%}", true),
            Some('#') => ("#}", false),
            _ => {
                rest = after;
                continue;
            }
        };
        let body_start = &after[1..];
        let end = body_start.find(close).unwrap_or(body_start.len());
        let body = &body_start[..end];
        if close != "#}" && body.contains('*') {
            return Err(refuse("`*` is not allowed".into()));
        }
        if is_tag {
            let name: String = body
                .trim_start_matches(['-', '+'])
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !["if", "elif", "else", "endif", "for", "endfor"].contains(&name.as_str()) {
                return Err(refuse(format!(
                    "the tag {name:?} is not allowed (only if, elif, else, endif, for, endfor)"
                )));
            }
        }
        rest = &body_start[end.min(body_start.len())..];
    }
    Ok(())
}

/// A text that renders as itself: each `{{`, `{%` and `{#` written as an expression giving it.
pub fn literal(text: &str) -> String {
    if !is_template(text) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('{', Some(&next @ ('{' | '%' | '#'))) => {
                chars.next();
                out.push_str("{{ '{");
                out.push(next);
                out.push_str("' }}");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Renders one text with an event's values alone (`event.<name>`, and by top-level names): a
/// trigger's destination, made from the event when it is published. An empty text stays empty.
pub fn render_event_text(
    field: &str,
    text: &str,
    event: &crate::triggers::Payload,
) -> Result<String> {
    if !is_template(text) {
        return Ok(text.to_owned());
    }
    allowed(field, text)?;
    let env = environment();
    let template = env
        .template_from_str(text)
        .map_err(|err| syntax_error(field, text, &err))?;
    let event = Value::from_serialize(event);
    let ctx = minijinja::context! { event => event.clone(), ..event };
    let mut out = Capped::default();
    template
        .render_captured_to(&ctx, &mut out)
        .map_err(|err| Error::invalid(field, format!("template failed: {err}")))?;
    Ok(String::from_utf8_lossy(&out.text).trim().to_owned())
}

/// The values a recipient's templates see.
fn context(r: &Recipient<'_>, vars: &Value, event: &Value) -> Value {
    // Without a customer, `customer` and `user.name` are undefined (not none): they render as
    // nothing, and so does anything looked up on them.
    let customer = r.customer.map_or(Value::UNDEFINED, |c| {
        minijinja::context! {
            id => c.id,
            name => c.name,
            locale => c.locale,
            time_zone => c.time_zone,
            attributes => Value::from_serialize(c.attributes),
        }
    });
    minijinja::context! {
        user => minijinja::context! {
            id => r.user_id,
            name => r.customer.map_or(Value::UNDEFINED, |c| Value::from(c.name)),
        },
        customer => customer,
        device => minijinja::context! {
            platform => r.device_platform,
            locale => r.locale(),
            app_version => r.app_version,
        },
        vars => vars.clone(),
        event => event.clone(),
        ..event.clone()
    }
}

/// A template's syntax error, naming the field and the line and column.
fn syntax_error(field: &str, source: &str, err: &minijinja::Error) -> Error {
    let at = err.range().map_or_else(
        || format!("line {}", err.line().unwrap_or(1)),
        |range| {
            let before = &source[..range.start.min(source.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}")
        },
    );
    let detail = err.detail().unwrap_or("syntax error");
    Error::invalid(field, format!("template error at {at}: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::IosOptions;

    fn note(title: &str, body: &str) -> Notification {
        Notification {
            title: title.into(),
            body: body.into(),
            ..Default::default()
        }
    }

    fn gold() -> BTreeMap<String, String> {
        [("tier".to_owned(), "gold".to_owned())].into()
    }

    fn recipient<'a>(locale: &'a str, attributes: &'a BTreeMap<String, String>) -> Recipient<'a> {
        Recipient {
            user_id: "u-1",
            device_platform: "ios",
            device_locale: locale,
            app_version: "2.1",
            customer: Some(CustomerView {
                id: "crm-1",
                name: "ann",
                locale: "fr",
                time_zone: "Europe/Paris",
                attributes: Some(attributes),
            }),
        }
    }

    #[test]
    fn templates_render_per_recipient_with_filters_and_defaults() {
        let mut n = note(
            "Hi {{ user.name | title }}",
            "{{ customer.attributes.tier | upper }} offer, {{ vars.code }} — {{ nope | default(\"x\") }}{{ missing.deep }}",
        );
        n.data
            .insert("who".into(), "{{ user.id }}/{{ device.platform }}".into());
        let vars: BTreeMap<String, String> = [("code".to_owned(), "SAVE10".to_owned())].into();
        let p = Personalizer::new(&n, &vars).unwrap();
        assert!(p.is_personal());
        let attrs = gold();
        let out = p.render(&n, &recipient("", &attrs)).unwrap();
        assert_eq!(out.title, "Hi Ann");
        assert_eq!(out.body, "GOLD offer, SAVE10 — x");
        assert_eq!(out.data["who"], "u-1/ios");
        // Without a customer, the customer's values are undefined: nothing.
        let bare = Recipient {
            customer: None,
            ..recipient("", &attrs)
        };
        assert_eq!(p.render(&n, &bare).unwrap().title, "Hi ");
    }

    #[test]
    fn a_triggered_message_sees_its_event_after_the_recipient() {
        let mut n = note(
            "{{ bot.name }} for {{ user.name }} ({{ event.user.name }})",
            "{{ caller | default('unknown', true) }} / {{ missing | default('-') }}",
        );
        n.data.insert("items".into(), "{{ event | json }}".into());
        let event: crate::triggers::Payload = serde_json::from_str(
            r#"{"bot": {"name": "Omni"}, "user": {"name": "Eve"}, "caller": "", "n": 2}"#,
        )
        .unwrap();
        let p = Personalizer::new(&n, &BTreeMap::new())
            .unwrap()
            .with_event(&event);
        let attrs = gold();
        let out = p.render(&n, &recipient("", &attrs)).unwrap();
        // `user` is the recipient's; the event's own is under `event`.
        assert_eq!(out.title, "Omni for ann (Eve)");
        assert_eq!(out.body, "unknown / -");
        assert_eq!(
            out.data["items"],
            r#"{"bot":{"name":"Omni"},"caller":"","n":2,"user":{"name":"Eve"}}"#
        );
    }

    #[test]
    fn an_event_text_renders_alone_and_a_literal_renders_as_itself() {
        let event: crate::triggers::Payload =
            serde_json::from_str(r#"{"user_uuid": "u-9", "agent": {"id": "a"}}"#).unwrap();
        assert_eq!(
            render_event_text("d", "{{ event.user_uuid }}", &event).unwrap(),
            "u-9"
        );
        assert_eq!(
            render_event_text("d", "{{ agent.id }}", &event).unwrap(),
            "a"
        );
        assert_eq!(render_event_text("d", "plain", &event).unwrap(), "plain");
        assert!(render_event_text("d", "{{ broken", &event).is_err());
        assert!(render_event_text("d", "{% set x = 1 %}", &event).is_err());
        for text in ["a {{ b }} {% c %} {# d #} }}", "{{", "{", "x{%"] {
            let n = note(&literal(text), "");
            let p = Personalizer::new(&n, &BTreeMap::new()).unwrap();
            let attrs = gold();
            assert_eq!(p.render(&n, &recipient("", &attrs)).unwrap().title, text);
        }
    }

    #[test]
    fn a_syntax_error_names_the_field_line_and_column() {
        let n = note("ok", "Hello {{ user.name ");
        match Personalizer::new(&n, &BTreeMap::new()).unwrap_err() {
            Error::InvalidArgument { field, reason } => {
                assert_eq!(field, "notification.body");
                assert!(
                    reason.starts_with("template error at line 1, column"),
                    "{reason}"
                );
            }
            other => panic!("{other}"),
        }
        let plain = note("no templates", "here");
        assert!(
            !Personalizer::new(&plain, &BTreeMap::new())
                .unwrap()
                .is_personal()
        );
    }

    #[test]
    fn templates_that_could_grow_without_bound_are_refused_or_cut_off() {
        for (title, says) in [
            ("{{ 'x' * 100000000 }}", "`*` is not allowed"),
            ("{% set s = 'x' %}{{ s }}", "the tag \"set\" is not allowed"),
            (
                "{%- macro m() %}{% endmacro %}",
                "the tag \"macro\" is not allowed",
            ),
        ] {
            match Personalizer::new(&note(title, ""), &BTreeMap::new()).unwrap_err() {
                Error::InvalidArgument { reason, .. } => assert!(reason.contains(says), "{reason}"),
                other => panic!("{other}"),
            }
        }
        // `range` is not there; a loop over the recipient's values is, and its output is capped.
        let n = note("{% for i in range(10) %}x{% endfor %}", "");
        let p = Personalizer::new(&n, &BTreeMap::new()).unwrap();
        let attrs = gold();
        assert!(p.render(&n, &recipient("", &attrs)).is_err());
        let long: BTreeMap<String, String> = [("tier".to_owned(), "y".repeat(3000))].into();
        let n = note(
            "{% for k in customer.attributes %}{{ customer.attributes.tier }}{{ customer.attributes.tier }}{% endfor %}",
            "",
        );
        let p = Personalizer::new(&n, &BTreeMap::new()).unwrap();
        let err = p.render(&n, &recipient("", &long)).unwrap_err();
        assert!(err.contains("over the limit"), "{err}");
        // Nothing is HTML-escaped.
        let n = note("{{ vars.path }}/page.html & {{ user.name }}", "");
        let vars: BTreeMap<String, String> = [("path".to_owned(), "a/b&'\"".to_owned())].into();
        let p = Personalizer::new(&n, &vars).unwrap();
        assert_eq!(
            p.render(&n, &recipient("", &attrs)).unwrap().title,
            "a/b&'\"/page.html & ann"
        );
    }

    #[test]
    fn the_variant_follows_the_locale_fallback() {
        let mut n = note("Hello", "Default body");
        n.localizations.insert(
            "de".into(),
            LocalizedTexts {
                title: "Hallo".into(),
                body: "Deutsch".into(),
                ..Default::default()
            },
        );
        n.localizations.insert(
            "de-AT".into(),
            LocalizedTexts {
                title: "Servus {{ user.name }}".into(),
                ios_subtitle: Some("Österreich".into()),
                ..Default::default()
            },
        );
        let p = Personalizer::new(&n, &BTreeMap::new()).unwrap();
        let attrs = gold();
        let at = p.render(&n, &recipient("de_AT", &attrs)).unwrap();
        assert_eq!(
            (at.title.as_str(), at.body.as_str()),
            ("Servus ann", "Default body")
        );
        assert_eq!(
            at.ios,
            Some(IosOptions {
                subtitle: Some("Österreich".into()),
                ..Default::default()
            })
        );
        assert!(at.localizations.is_empty());
        let de = p.render(&n, &recipient("de-CH", &attrs)).unwrap();
        assert_eq!((de.title.as_str(), de.body.as_str()), ("Hallo", "Deutsch"));
        // No device locale: the customer's (fr), which has no variant: the message's own.
        let fr = p.render(&n, &recipient("", &attrs)).unwrap();
        assert_eq!(fr.title, "Hello");
    }

    #[test]
    fn variants_are_checked() {
        let mut n = note("a", "b");
        n.localizations
            .insert("deutsch".into(), LocalizedTexts::default());
        assert!(check(&n).is_err());
        let mut n = note("a", "b");
        n.localizations.insert(
            "de".into(),
            LocalizedTexts {
                body: "{{ broken".into(),
                ..Default::default()
            },
        );
        match check(&n).unwrap_err() {
            Error::InvalidArgument { field, .. } => {
                assert_eq!(field, "notification.localizations[\"de\"].body");
            }
            other => panic!("{other}"),
        }
    }
}
