//! Segments: named boolean expressions over topics and device and customer attributes, parsed
//! (with a pest grammar) into an [`Expr`] when the segment is created; the store evaluates the
//! tree as SQL, so an audience is never loaded into memory to be filtered.
//!
//! The language:
//! - a topic: its name (`sports`), or `topic("name")` for a name that is also a field below;
//! - `platform == android` (android, ios, macos, huawei, web), `browser != firefox`;
//! - `locale == "de"` — the device's locale (else its customer's) is `de` or within it (`de-AT`);
//! - `app_version >= "2.3"` (`== != < <= > >=`, compared part by part as numbers);
//! - `last_active within 7d` — a push reached the device in the last 7 days (`s m h d w`);
//! - `customer.tier == "gold"` — a custom attribute of the device's customer profile;
//! - `!`, `&&`, `||` (in that precedence) and parentheses.
//!
//! An error names its position (1-based character column) and what was expected there.

use herald_proto::v1::{Browser, Platform};
use pest::Parser as _;
use pest::iterators::Pair;

use crate::names::Named as _;
use crate::{Error, Result};

/// The longest expression, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 2048;
/// The deepest nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 16;
/// The most topics and conditions an expression holds.
pub const MAX_TERMS: usize = 64;

#[derive(pest_derive::Parser)]
#[grammar_inline = r#"
WHITESPACE = _{ " " | "\t" | "\r" | "\n" }
segment    = { SOI ~ or ~ EOI }
or         = { and ~ (or_op ~ and)* }
and        = { unary ~ (and_op ~ unary)* }
or_op      = { "||" }
and_op     = { "&&" }
unary      = { not* ~ primary }
not        = { "!" }
primary    = _{ "(" ~ or ~ close | condition | within | explicit | topic }
close      = { ")" }
condition  = { field ~ op ~ value }
within     = { "last_active" ~ "within" ~ duration }
field      = @{ "platform" | "browser" | "locale" | "app_version" | "customer." ~ key }
key        = @{ (ASCII_ALPHANUMERIC | "_" | "." | "-")+ }
op         = @{ "==" | "!=" | "<=" | ">=" | "<" | ">" }
value      = _{ string | bare }
string     = ${ "\"" ~ text ~ "\"" }
text       = @{ (!"\"" ~ ANY)* }
bare       = @{ (ASCII_ALPHANUMERIC | "_" | "." | "-")+ }
duration   = @{ ASCII_DIGIT{1,6} ~ ("s" | "m" | "h" | "d" | "w") }
explicit   = { "topic" ~ "(" ~ string ~ ")" }
topic      = @{ (ASCII_ALPHANUMERIC | "-" | "_" | "." | "~" | "%")+ }
"#]
struct Grammar;

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// A condition on a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Platform {
        equal: bool,
        platform: Platform,
    },
    Browser {
        equal: bool,
        browser: Browser,
    },
    /// The locale is `tag` or within it (`tag` normalized: lowercase, `-`).
    Locale {
        equal: bool,
        tag: String,
    },
    /// The app version compared by [`version_key`]s.
    AppVersion {
        cmp: Cmp,
        key: String,
    },
    /// A push reached the device in the last `ms` milliseconds.
    ActiveWithin {
        ms: i64,
    },
    /// A custom attribute of the device's customer equals `value` (or not).
    CustomerAttribute {
        key: String,
        equal: bool,
        value: String,
    },
}

/// A parsed segment expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Topic(String),
    Condition(Condition),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// A segment's name: the rules of a topic's name.
pub fn name(field: &str, name: &str) -> Result<()> {
    crate::topics::name(field, name)
}

/// Parses `expression`; an error names `field` and the position at fault.
pub fn parse(field: &str, expression: &str) -> Result<Expr> {
    let at = |pos: usize, what: String| {
        let column = expression[..pos.min(expression.len())].chars().count() + 1;
        Error::invalid(field, format!("at column {column}: {what}"))
    };
    if expression.trim().is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    if expression.len() > MAX_EXPRESSION_BYTES {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_EXPRESSION_BYTES} bytes"),
        ));
    }
    // The grammar recurses per nesting level: deep input is refused before it is parsed. The
    // depth is the open parentheses plus the run of `!` before a term.
    let (mut open, mut nots) = (0usize, 0usize);
    for (pos, c) in expression.char_indices() {
        match c {
            '(' => open += 1,
            ')' => open = open.saturating_sub(1),
            '!' if !expression[pos..].starts_with("!=") => nots += 1,
            c if c.is_whitespace() => {}
            _ => nots = 0,
        }
        if open + nots > MAX_DEPTH {
            return Err(at(pos, format!("nested more than {MAX_DEPTH} deep")));
        }
    }
    let mut pairs = Grammar::parse(Rule::segment, expression).map_err(|err| {
        let pos = match err.location {
            pest::error::InputLocation::Pos(pos) => pos,
            pest::error::InputLocation::Span((start, _)) => start,
        };
        let expected = match &err.variant {
            pest::error::ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
                let names: Vec<&str> = positives.iter().map(|r| rule_name(*r)).collect();
                let mut names = names;
                names.sort_unstable();
                names.dedup();
                format!("expected {}", names.join(" or "))
            }
            _ => "unexpected input".to_owned(),
        };
        at(pos, expected)
    })?;
    let segment = pairs.next().expect("the segment rule");
    let or = segment.into_inner().next().expect("an expression");
    let mut terms = 0;
    let expr = build(or, &mut terms, &at)?;
    if terms > MAX_TERMS {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_TERMS} topics and conditions"),
        ));
    }
    Ok(expr)
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::op => "an operator (== != < <= > >=)",
        Rule::string | Rule::bare => "a value",
        Rule::duration => "a duration such as 7d",
        Rule::or_op => "||",
        Rule::and_op => "&&",
        Rule::close => ")",
        Rule::EOI => "the end",
        _ => "a topic or a condition",
    }
}

type At<'a> = dyn Fn(usize, String) -> Error + 'a;

fn build(pair: Pair<'_, Rule>, terms: &mut usize, at: &At<'_>) -> Result<Expr> {
    match pair.as_rule() {
        Rule::or | Rule::and => {
            let is_or = pair.as_rule() == Rule::or;
            let mut parts = pair
                .into_inner()
                .filter(|p| !matches!(p.as_rule(), Rule::or_op | Rule::and_op))
                .map(|p| build(p, terms, at))
                .collect::<Result<Vec<_>>>()?;
            Ok(match (parts.len(), is_or) {
                (1, _) => parts.pop().expect("one part"),
                (_, true) => Expr::Or(parts),
                (_, false) => Expr::And(parts),
            })
        }
        Rule::unary => {
            let mut negations = 0;
            let mut inner = None;
            for p in pair.into_inner() {
                if p.as_rule() == Rule::not {
                    negations += 1;
                } else if p.as_rule() != Rule::close {
                    inner = Some(build(p, terms, at)?);
                }
            }
            let mut expr = inner.expect("a primary");
            for _ in 0..negations {
                expr = Expr::Not(Box::new(expr));
            }
            Ok(expr)
        }
        Rule::topic => {
            *terms += 1;
            topic(pair.as_str(), pair.as_span().start(), at)
        }
        Rule::explicit => {
            *terms += 1;
            let string = pair.into_inner().next().expect("a string");
            let start = string.as_span().start();
            let text = string.into_inner().next().map_or("", |t| t.as_str());
            topic(text, start, at)
        }
        Rule::within => {
            *terms += 1;
            let duration = pair.into_inner().next().expect("a duration");
            let text = duration.as_str();
            let (number, unit) = text.split_at(text.len() - 1);
            let n: i64 = number.parse().expect("digits");
            let unit_ms = match unit {
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => 604_800_000,
            };
            Ok(Expr::Condition(Condition::ActiveWithin { ms: n * unit_ms }))
        }
        Rule::condition => {
            *terms += 1;
            condition(pair, at)
        }
        other => unreachable!("the grammar has no {other:?} here"),
    }
}

fn topic(name: &str, start: usize, at: &At<'_>) -> Result<Expr> {
    crate::topics::name("topic", name).map_err(|_| {
        at(
            start,
            format!("{name:?} is not a topic name (1 to 256 of A-Z a-z 0-9 - _ . ~ %)"),
        )
    })?;
    Ok(Expr::Topic(name.to_owned()))
}

fn condition(pair: Pair<'_, Rule>, at: &At<'_>) -> Result<Expr> {
    let mut inner = pair.into_inner();
    let field = inner.next().expect("a field");
    let op = inner.next().expect("an operator");
    let value = inner.next().expect("a value");
    let value_at = value.as_span().start();
    let text = match value.as_rule() {
        Rule::string => value.into_inner().next().map_or("", |t| t.as_str()),
        _ => value.as_str(),
    };
    let cmp = match op.as_str() {
        "==" => Cmp::Eq,
        "!=" => Cmp::Ne,
        "<" => Cmp::Lt,
        "<=" => Cmp::Le,
        ">" => Cmp::Gt,
        _ => Cmp::Ge,
    };
    let name = field.as_str();
    let equal = match cmp {
        Cmp::Eq => Some(true),
        Cmp::Ne => Some(false),
        _ => None,
    };
    let only_equality = |equal: Option<bool>| {
        equal.ok_or_else(|| {
            at(
                op.as_span().start(),
                format!("{name} is compared with == or != only"),
            )
        })
    };
    let condition = match name {
        "platform" => {
            let equal = only_equality(equal)?;
            let platform = Platform::from_name(text).ok_or_else(|| {
                at(
                    value_at,
                    format!("{text:?} is not a platform (android, ios, macos, huawei, web)"),
                )
            })?;
            Condition::Platform { equal, platform }
        }
        "browser" => {
            let equal = only_equality(equal)?;
            let browser = Browser::from_name(text).ok_or_else(|| {
                at(
                    value_at,
                    format!("{text:?} is not a browser (chrome, firefox, safari, edge, opera)"),
                )
            })?;
            Condition::Browser { equal, browser }
        }
        "locale" => {
            let equal = only_equality(equal)?;
            crate::locale::tag("locale", text)
                .map_err(|_| at(value_at, format!("{text:?} is not a language tag")))?;
            Condition::Locale {
                equal,
                tag: crate::locale::normalize(text),
            }
        }
        "app_version" => {
            if text.is_empty() || text.len() > 64 {
                return Err(at(value_at, "an app version of 1 to 64 characters".into()));
            }
            Condition::AppVersion {
                cmp,
                key: version_key(text),
            }
        }
        customer => {
            let equal = only_equality(equal)?;
            let key = customer.strip_prefix("customer.").unwrap_or(customer);
            if key.len() > crate::customers::MAX_ATTRIBUTE_KEY_LEN {
                return Err(at(
                    field.as_span().start(),
                    "an attribute key too long".into(),
                ));
            }
            Condition::CustomerAttribute {
                key: key.to_owned(),
                equal,
                value: text.to_owned(),
            }
        }
    };
    Ok(Expr::Condition(condition))
}

/// An app version as a key that sorts as versions do: each dot-separated part that is a number
/// is zero-padded to 10 digits (`2.10` → `0000000002.0000000010`), other parts are kept.
pub fn version_key(version: &str) -> String {
    version
        .split('.')
        .map(|part| {
            if !part.is_empty() && part.len() <= 10 && part.bytes().all(|b| b.is_ascii_digit()) {
                format!("{part:0>10}")
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The topics an expression names.
pub fn topics(expr: &Expr) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Topic(t) => out.push(t.as_str()),
            Expr::Condition(_) => {}
            Expr::Not(inner) => stack.push(inner),
            Expr::And(parts) | Expr::Or(parts) => stack.extend(parts),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Expr {
        parse("expression", text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        match parse("expression", text).unwrap_err() {
            Error::InvalidArgument { reason, .. } => reason,
            other => panic!("{other}"),
        }
    }

    fn t(name: &str) -> Expr {
        Expr::Topic(name.into())
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        assert_eq!(
            ok("sports && (news || !weather)"),
            Expr::And(vec![
                t("sports"),
                Expr::Or(vec![t("news"), Expr::Not(Box::new(t("weather")))])
            ])
        );
        assert_eq!(
            ok("a || b && c"),
            Expr::Or(vec![t("a"), Expr::And(vec![t("b"), t("c")])])
        );
        assert_eq!(ok("!!a"), Expr::Not(Box::new(Expr::Not(Box::new(t("a"))))));
        assert_eq!(ok("  news  "), t("news"));
    }

    #[test]
    fn conditions_read_their_fields() {
        assert_eq!(
            ok("platform == android && browser != \"firefox\""),
            Expr::And(vec![
                Expr::Condition(Condition::Platform {
                    equal: true,
                    platform: Platform::Android
                }),
                Expr::Condition(Condition::Browser {
                    equal: false,
                    browser: Browser::Firefox
                }),
            ])
        );
        assert_eq!(
            ok("locale == de_AT"),
            Expr::Condition(Condition::Locale {
                equal: true,
                tag: "de-at".into()
            })
        );
        assert_eq!(
            ok("app_version >= \"2.10\""),
            Expr::Condition(Condition::AppVersion {
                cmp: Cmp::Ge,
                key: "0000000002.0000000010".into()
            })
        );
        assert_eq!(
            ok("last_active within 7d"),
            Expr::Condition(Condition::ActiveWithin { ms: 7 * 86_400_000 })
        );
        assert_eq!(
            ok("customer.tier == \"gold class\""),
            Expr::Condition(Condition::CustomerAttribute {
                key: "tier".into(),
                equal: true,
                value: "gold class".into()
            })
        );
        // A topic whose name is a field's.
        assert_eq!(ok("platform"), t("platform"));
        assert_eq!(ok("topic(\"locale\")"), t("locale"));
    }

    #[test]
    fn errors_point_at_the_position() {
        assert_eq!(
            err("sports && "),
            "at column 11: expected a topic or a condition"
        );
        assert_eq!(
            err("sports && (news"),
            "at column 16: expected && or ) or ||"
        );
        assert_eq!(
            err("news & sports"),
            "at column 6: expected && or the end or ||"
        );
        assert!(
            err("platform == blackberry")
                .starts_with("at column 13: \"blackberry\" is not a platform")
        );
        assert!(
            err("platform > android")
                .starts_with("at column 10: platform is compared with == or != only")
        );
        assert!(
            err("last_active within 7y").starts_with("at column 20: "),
            "{}",
            err("last_active within 7y")
        );
        assert!(err(&"(".repeat(40)).contains("nested more than"));
        // Parentheses left open across operators count too.
        let deep = "((((((((((((((((a&&".repeat(4);
        assert!(err(&deep).contains("nested more than"), "{}", err(&deep));
        assert!(err(&"!".repeat(20)).contains("nested more than"));
        assert!(parse("e", "!(!a) && ((b || !c)) && platform != web").is_ok());
        assert_eq!(
            parse("expression", "  ").unwrap_err().to_string(),
            "expression: required"
        );
        let many = vec!["t"; 70].join(" || ");
        assert!(err(&many).contains("at most 64"));
    }

    #[test]
    fn versions_sort_part_by_part() {
        assert!(version_key("2.10.0") > version_key("2.9.9"));
        assert!(version_key("10") > version_key("9"));
        assert_eq!(version_key("1.0-beta"), "0000000001.0-beta");
    }

    #[test]
    fn topics_are_listed_once() {
        assert_eq!(topics(&ok("b && (a || !b) && platform == web")), ["a", "b"]);
    }
}
