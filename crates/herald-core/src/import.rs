//! Device import files: CSV with a header row, or JSON lines, read row by row into the
//! `ImportRow`s the `ImportDevices` RPC takes, each with its line in the file. A row that does
//! not parse is an error naming its line and field; the rows around it go on.
//!
//! CSV columns (by header name, in any order): `user`, `platform` and `token` are required;
//! `locale`, `time_zone`, `topics` (separated by `;` or spaces), `customer`, `browser`, `app_version`,
//! `sandbox` (true/false/1/0), `p256dh` and `auth` (a web subscription's keys; `token` is its
//! endpoint) may follow. A JSON line is an object with the same keys (`topics` an array,
//! `sandbox` a boolean), where a web subscription may instead be given as the browser's
//! `subscription.toJSON()` under `web_subscription`.

use std::io::{BufRead, Read};

use herald_proto::v1::{Browser, ImportRow, Platform, RegisterDeviceRequest, WebSubscription};
use serde::Deserialize;

use crate::names::Named as _;

/// How a file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// The format a file's name says (`.csv`, else JSON lines for `.jsonl`/`.ndjson`/`.json`).
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" | "json" => Some(Self::JsonLines),
            _ => None,
        }
    }
}

/// A row that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// One row as written, before it becomes a registration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Fields {
    user: String,
    platform: String,
    token: String,
    locale: String,
    time_zone: String,
    topics: Topics,
    customer: String,
    browser: String,
    app_version: String,
    sandbox: Flag,
    p256dh: String,
    auth: String,
    web_subscription: Option<BrowserSubscription>,
}

/// Topics: a JSON array, or a CSV cell of names separated by `;` or spaces.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Topics {
    #[default]
    None,
    List(Vec<String>),
    Cell(String),
}

/// A flag: a JSON boolean, or a CSV cell (`true`, `false`, `1`, `0`, empty).
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Flag {
    #[default]
    Unset,
    Bool(bool),
    Cell(String),
}

/// The browser's `PushSubscription.toJSON()` (its `expirationTime` ignored).
#[derive(Debug, Deserialize)]
pub struct BrowserSubscription {
    endpoint: String,
    keys: SubscriptionKeys,
}

#[derive(Debug, Deserialize)]
struct SubscriptionKeys {
    p256dh: String,
    auth: String,
}

impl From<BrowserSubscription> for WebSubscription {
    fn from(sub: BrowserSubscription) -> Self {
        Self {
            endpoint: sub.endpoint,
            p256dh: sub.keys.p256dh,
            auth: sub.keys.auth,
        }
    }
}

/// The rows of `input`, in order, each an `ImportRow` or the error that keeps it out.
pub fn rows<R: Read + 'static>(
    format: Format,
    input: R,
) -> Box<dyn Iterator<Item = Result<ImportRow, RowError>>> {
    match format {
        Format::Csv => Box::new(csv_rows(input)),
        Format::JsonLines => Box::new(json_rows(std::io::BufReader::new(input))),
    }
}

fn csv_rows<R: Read>(input: R) -> impl Iterator<Item = Result<ImportRow, RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let headers = reader.headers().cloned().map_err(|err| RowError {
        line: 1,
        field: "header".into(),
        reason: err.to_string(),
    });
    let mut failed_header = None;
    let headers = match headers {
        Ok(headers) => Some(headers),
        Err(err) => {
            failed_header = Some(err);
            None
        }
    };
    let header_check = headers.as_ref().and_then(|h| check_header(h).err());
    let first = failed_header.or(header_check);
    let stop = first.is_some();
    let records = reader.into_records();
    first
        .map(Err)
        .into_iter()
        .chain(records.take_while(move |_| !stop).map(move |record| {
            let record = record.map_err(|err| RowError {
                line: err.position().map_or(0, |p| p.line()),
                field: "row".into(),
                reason: err.to_string(),
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let headers = headers.as_ref().expect("a header when rows are read");
            let fields: Fields = record.deserialize(Some(headers)).map_err(|err| RowError {
                line,
                field: field_of_csv_error(&err, headers),
                reason: err.to_string(),
            })?;
            row(line, fields)
        }))
}

/// The columns a CSV file may have.
const COLUMNS: [&str; 12] = [
    "user",
    "platform",
    "token",
    "locale",
    "time_zone",
    "topics",
    "customer",
    "browser",
    "app_version",
    "sandbox",
    "p256dh",
    "auth",
];

fn check_header(headers: &csv::StringRecord) -> Result<(), RowError> {
    let error = |reason: String| RowError {
        line: 1,
        field: "header".into(),
        reason,
    };
    for name in headers {
        if !COLUMNS.contains(&name) {
            return Err(error(format!(
                "unknown column {name:?} (known: {})",
                COLUMNS.join(", ")
            )));
        }
    }
    for required in ["platform", "token"] {
        if !headers.iter().any(|h| h == required) {
            return Err(error(format!("the column {required:?} is required")));
        }
    }
    Ok(())
}

fn field_of_csv_error(err: &csv::Error, headers: &csv::StringRecord) -> String {
    if let csv::ErrorKind::Deserialize { err, .. } = err.kind()
        && let Some(at) = err.field()
        && let Some(name) = headers.get(usize::try_from(at).unwrap_or(usize::MAX))
    {
        return name.to_owned();
    }
    "row".into()
}

fn json_rows<R: BufRead>(input: R) -> impl Iterator<Item = Result<ImportRow, RowError>> {
    input.lines().enumerate().filter_map(|(at, line)| {
        let line_no = u64::try_from(at).unwrap_or(u64::MAX).saturating_add(1);
        match line {
            Ok(text) if text.trim().is_empty() => None,
            Ok(text) => Some(
                serde_json::from_str::<Fields>(&text)
                    .map_err(|err| RowError {
                        line: line_no,
                        field: "row".into(),
                        reason: err.to_string(),
                    })
                    .and_then(|fields| row(line_no, fields)),
            ),
            Err(err) => Some(Err(RowError {
                line: line_no,
                field: "row".into(),
                reason: err.to_string(),
            })),
        }
    })
}

/// A row's fields as a registration with its topics. Only the spelling is judged here (names
/// of platforms and browsers, flags); the registration is checked by the server.
fn row(line: u64, f: Fields) -> Result<ImportRow, RowError> {
    let error = |field: &str, reason: String| RowError {
        line,
        field: field.into(),
        reason,
    };
    let platform = Platform::from_name(&f.platform).ok_or_else(|| {
        error(
            "platform",
            format!(
                "{:?} is not one of android, ios, macos, huawei, web",
                f.platform
            ),
        )
    })?;
    let browser = match f.browser.as_str() {
        "" => Browser::Unspecified,
        name => Browser::from_name(name).ok_or_else(|| {
            error(
                "browser",
                format!("{name:?} is not one of chrome, firefox, safari, edge, opera"),
            )
        })?,
    };
    let sandbox = match f.sandbox {
        Flag::Unset => false,
        Flag::Bool(b) => b,
        Flag::Cell(cell) => match cell.as_str() {
            "" | "false" | "0" => false,
            "true" | "1" => true,
            other => return Err(error("sandbox", format!("{other:?} is not true or false"))),
        },
    };
    let topics = match f.topics {
        Topics::None => Vec::new(),
        Topics::List(list) => list,
        Topics::Cell(cell) => cell
            .split(|c: char| c == ';' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let web_subscription = match (f.web_subscription, platform) {
        (Some(sub), _) => Some(sub.into()),
        (None, Platform::Web) => Some(WebSubscription {
            endpoint: f.token.clone(),
            p256dh: f.p256dh,
            auth: f.auth,
        }),
        (None, _) => None,
    };
    let push_token = match &web_subscription {
        Some(sub) => sub.endpoint.clone(),
        None => f.token,
    };
    Ok(ImportRow {
        line,
        device: Some(RegisterDeviceRequest {
            user_id: f.user,
            customer_id: f.customer,
            platform: platform as i32,
            push_token,
            browser: browser as i32,
            web_subscription,
            sandbox,
            app_version: f.app_version,
            locale: f.locale,
            time_zone: f.time_zone,
        }),
        topics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(format: Format, text: &'static str) -> Vec<Result<ImportRow, RowError>> {
        rows(format, text.as_bytes()).collect()
    }

    #[test]
    fn csv_rows_carry_their_lines_topics_and_registrations() {
        let got = read(
            Format::Csv,
            "user,platform,token,locale,topics\n\
             ann,android,tok-a,de-AT,news;sports\n\
             bob,ios,abcd, ,\n\
             \"c, d\",huawei,tok-h,fr,news weather\n",
        );
        let rows: Vec<ImportRow> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
        let ann = rows[0].device.as_ref().unwrap();
        assert_eq!(
            (
                ann.user_id.as_str(),
                ann.platform(),
                ann.push_token.as_str()
            ),
            ("ann", Platform::Android, "tok-a")
        );
        assert_eq!(ann.locale, "de-AT");
        assert_eq!(rows[0].topics, ["news", "sports"]);
        assert!(rows[1].topics.is_empty());
        assert_eq!(rows[1].device.as_ref().unwrap().locale, "");
        assert_eq!(rows[2].device.as_ref().unwrap().user_id, "c, d");
        assert_eq!(rows[2].topics, ["news", "weather"]);
    }

    #[test]
    fn a_bad_csv_row_names_its_line_and_field_and_the_next_rows_go_on() {
        let got = read(
            Format::Csv,
            "user,platform,token,sandbox\n\
             ann,android,tok-a,\n\
             bob,blackberry,tok-b,\n\
             cy,ios,abcd,maybe\n\
             dee,ios,abcd\n\
             eve,web,https://push.example/1,true\n",
        );
        assert!(got[0].is_ok());
        let err = got[1].as_ref().unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (3, "platform"));
        let err = got[2].as_ref().unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (4, "sandbox"));
        let err = got[3].as_ref().unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (5, "row"), "{err}");
        let eve = got[4].as_ref().unwrap().device.clone().unwrap();
        assert_eq!(
            eve.web_subscription.unwrap().endpoint,
            "https://push.example/1"
        );
        assert!(eve.sandbox);
    }

    #[test]
    fn a_csv_header_must_name_known_columns_with_platform_and_token() {
        for (text, says) in [
            (
                "user,platform,tokn\nu,android,t\n",
                "unknown column \"tokn\"",
            ),
            ("user,platform\nu,android\n", "\"token\" is required"),
        ] {
            let got: Vec<_> = rows(Format::Csv, text.as_bytes()).collect();
            assert_eq!(got.len(), 1, "the rows are not read: {got:?}");
            let err = got[0].as_ref().unwrap_err();
            assert_eq!((err.line, err.field.as_str()), (1, "header"));
            assert!(err.reason.contains(says), "{err}");
        }
    }

    #[test]
    fn json_lines_skip_blank_lines_and_take_browser_subscriptions() {
        let got = read(
            Format::JsonLines,
            "{\"user\":\"ann\",\"platform\":\"android\",\"token\":\"t\",\"topics\":[\"news\"]}\n\
             \n\
             {\"platform\":\"web\",\"browser\":\"firefox\",\"web_subscription\":{\"endpoint\":\"https://p/1\",\"keys\":{\"p256dh\":\"k\",\"auth\":\"a\"}}}\n\
             {\"platform\":\"android\",\"tokn\":\"t\"}\n\
             not json\n",
        );
        assert_eq!(got.len(), 4);
        let ann = got[0].as_ref().unwrap();
        assert_eq!((ann.line, ann.topics.clone()), (1, vec!["news".to_owned()]));
        let web = got[1].as_ref().unwrap();
        assert_eq!(web.line, 3);
        let device = web.device.as_ref().unwrap();
        assert_eq!(
            (device.browser(), device.push_token.as_str()),
            (Browser::Firefox, "https://p/1")
        );
        assert_eq!(device.web_subscription.as_ref().unwrap().auth, "a");
        for (at, line) in [(2, 4), (3, 5)] {
            let err = got[at].as_ref().unwrap_err();
            assert_eq!((err.line, err.field.as_str()), (line, "row"), "{err}");
        }
    }

    #[test]
    fn formats_follow_the_file_name() {
        use std::path::Path;
        assert_eq!(Format::of_path(Path::new("a.CSV")), Some(Format::Csv));
        assert_eq!(
            Format::of_path(Path::new("a.jsonl")),
            Some(Format::JsonLines)
        );
        assert_eq!(Format::of_path(Path::new("a.txt")), None);
    }
}
