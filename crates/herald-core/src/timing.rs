//! Delivery timing, pure: when a delivery may go to its device, given the message's local time
//! ("09:00 in each recipient's time zone"), its class and the quiet hours that apply, judged
//! in the device's time zone (jiff, with the IANA time zone database bundled).

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use herald_proto::v1::{self as api, MessageClass, QuietAction};

use crate::{Error, Result};

/// How far ahead of UTC a zone can be (Pacific/Kiritimati, UTC+14), in milliseconds.
const MAX_AHEAD_MS: i64 = 14 * 3_600_000;
/// How far behind UTC a zone can be (UTC-12).
const MAX_BEHIND_MS: i64 = 12 * 3_600_000;
/// A day, in milliseconds.
const DAY_MS: i64 = 24 * 3_600_000;

/// A wall-clock time of day, `HH:MM` or `HH:MM:SS` (00:00 to 23:59:59).
pub fn clock(field: &str, value: &str) -> Result<Time> {
    let bad = || {
        Error::invalid(
            field,
            "a time of day as HH:MM or HH:MM:SS, 00:00 to 23:59:59",
        )
    };
    let parts: Vec<&str> = value.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let number =
        |i: usize| -> Result<i8> { parts.get(i).map_or(Ok(0), |p| p.parse().map_err(|_| bad())) };
    Time::new(number(0)?, number(1)?, number(2)?, 0).map_err(|_| bad())
}

/// An instant as a person writes one: RFC 3339 (`2026-12-01T09:00:00Z`, any offset) or a
/// span from `now` (`+90s`, `+15m`, `+2h`, `+1h30m`, `+1d`); answered in Unix milliseconds.
pub fn instant(field: &str, value: &str, now: i64) -> Result<i64> {
    let bad = || {
        Error::invalid(
            field,
            "an RFC 3339 instant (2026-12-01T09:00:00Z) or a span from now (+90s, +15m, +2h)",
        )
    };
    match value.strip_prefix('+') {
        Some(span) => {
            let span: jiff::Span = span.parse().map_err(|_| bad())?;
            let at = timestamp(now)
                .to_zoned(TimeZone::UTC)
                .checked_add(span)
                .map_err(|_| bad())?;
            Ok(at.timestamp().as_millisecond())
        }
        None => value
            .parse::<Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|_| bad()),
    }
}

/// A calendar date, `YYYY-MM-DD`.
pub fn date(field: &str, value: &str) -> Result<Date> {
    let bad = || Error::invalid(field, "a date as YYYY-MM-DD");
    let parts: Vec<&str> = value.split('-').collect();
    match parts.as_slice() {
        [y, m, d]
            if y.len() == 4
                && m.len() == 2
                && d.len() == 2
                && value.bytes().all(|b| b.is_ascii_digit() || b == b'-') =>
        {
            Date::new(
                y.parse().map_err(|_| bad())?,
                m.parse().map_err(|_| bad())?,
                d.parse().map_err(|_| bad())?,
            )
            .map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// A time zone of the IANA database by name (`Europe/Vienna`, `UTC`).
pub fn zone(field: &str, name: &str) -> Result<TimeZone> {
    if name.len() > 64 {
        return Err(Error::invalid(field, "at most 64 bytes"));
    }
    TimeZone::get(name).map_err(|_| {
        Error::invalid(
            field,
            "not a time zone of the IANA database, such as Europe/Vienna or UTC",
        )
    })
}

/// The first usable zone of `names` (the device's, its customer's, the tenant's), or UTC.
pub fn first_zone<'a>(names: impl IntoIterator<Item = &'a str>) -> TimeZone {
    names
        .into_iter()
        .filter(|n| !n.is_empty())
        .find_map(|n| TimeZone::get(n).ok())
        .unwrap_or(TimeZone::UTC)
}

/// "At this wall-clock time in each recipient's zone": on a date, or the next time it comes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub date: Option<Date>,
    pub time: Time,
}

impl LocalTime {
    /// The message's local time, if it asks for one (`field` names it in errors).
    pub fn read(field: &str, local: Option<&api::LocalTime>) -> Result<Option<Self>> {
        let Some(local) = local.filter(|l| !l.time.is_empty() || !l.date.is_empty()) else {
            return Ok(None);
        };
        if local.time.is_empty() {
            return Err(Error::invalid(
                format!("{field}.time"),
                "required with a date",
            ));
        }
        Ok(Some(Self {
            time: clock(&format!("{field}.time"), &local.time)?,
            date: match local.date.as_str() {
                "" => None,
                d => Some(date(&format!("{field}.date"), d)?),
            },
        }))
    }

    /// When it comes in `tz`: on its date there; without a date, the first time the clock
    /// shows it there at or after `anchor` (the message's acceptance, so each device's instant
    /// stays the same however often the message is routed).
    pub fn instant(&self, tz: &TimeZone, anchor: i64) -> i64 {
        let at = |date: Date| {
            date.to_datetime(self.time)
                .to_zoned(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(anchor)
        };
        match self.date {
            Some(date) => at(date),
            None => {
                let today = timestamp(anchor).to_zoned(tz.clone()).date();
                let first = at(today);
                if first >= anchor {
                    first
                } else {
                    today.tomorrow().map(at).unwrap_or(anchor + DAY_MS)
                }
            }
        }
    }

    /// The earliest instant any zone reaches it, from `now`: a message with a local time is
    /// released then, and routes each device as its own zone reaches it.
    pub fn first_instant(&self, now: i64) -> i64 {
        match self.date {
            Some(date) => (utc_instant(date, self.time) - MAX_AHEAD_MS).max(now),
            None => now,
        }
    }

    /// The latest instant any zone reaches it (the message's time to live counts from there).
    pub fn last_instant(&self, now: i64) -> i64 {
        match self.date {
            Some(date) => (utc_instant(date, self.time) + MAX_BEHIND_MS).max(now),
            None => now + DAY_MS,
        }
    }
}

/// The hours when pushes that are not urgent wait (or are dropped), by the message's class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
    /// What happens to a standard message (default: held until the end).
    pub standard: QuietAction,
    /// What happens to a marketing message (default: dropped).
    pub marketing: QuietAction,
}

impl QuietHours {
    /// Quiet hours as the API sets them: none when both ends are empty.
    pub fn read(field: &str, q: Option<&api::QuietHours>) -> Result<Option<Self>> {
        let Some(q) = q.filter(|q| !q.start.is_empty() || !q.end.is_empty()) else {
            return Ok(None);
        };
        let start = clock(&format!("{field}.start"), &q.start)?;
        let end = clock(&format!("{field}.end"), &q.end)?;
        if start == end {
            return Err(Error::invalid(
                format!("{field}.end"),
                "must differ from start",
            ));
        }
        Ok(Some(Self {
            start,
            end,
            standard: QuietAction::try_from(q.standard).unwrap_or_default(),
            marketing: QuietAction::try_from(q.marketing).unwrap_or_default(),
        }))
    }

    /// As the API shows them.
    pub fn to_api(&self) -> api::QuietHours {
        api::QuietHours {
            start: hhmm(self.start),
            end: hhmm(self.end),
            standard: self.standard as i32,
            marketing: self.marketing as i32,
        }
    }

    /// What a message of `class` gets while they hold (transactional messages pass).
    pub fn action(&self, class: MessageClass) -> Option<QuietAction> {
        match class {
            MessageClass::Transactional => None,
            MessageClass::Marketing => Some(match self.marketing {
                QuietAction::Unspecified => QuietAction::Drop,
                action => action,
            }),
            MessageClass::Standard | MessageClass::Unspecified => Some(match self.standard {
                QuietAction::Unspecified => QuietAction::Hold,
                action => action,
            }),
        }
    }

    /// When they end, if they hold at `at` in `tz`.
    pub fn until(&self, at: i64, tz: &TimeZone) -> Option<i64> {
        let local = timestamp(at).to_zoned(tz.clone());
        let now = local.time();
        let quiet = if self.start < self.end {
            self.start <= now && now < self.end
        } else {
            now >= self.start || now < self.end
        };
        if !quiet {
            return None;
        }
        let today = local.date();
        let day = if now < self.end {
            today
        } else {
            today.tomorrow().ok()?
        };
        day.to_datetime(self.end)
            .to_zoned(tz.clone())
            .ok()
            .map(|z| z.timestamp().as_millisecond())
    }
}

/// When a delivery may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Now.
    Now,
    /// Not before this instant: its local time has not come, or quiet hours hold it.
    Hold(i64),
    /// Not at all: quiet hours drop it; the reason says so.
    Drop(String),
}

/// When a delivery of a message of `class` may go to a device in `tz` at `now`: not before the
/// message's local time there (`anchor`: when the message was accepted), then not in the
/// device's quiet hours unless the message is transactional.
pub fn timing(
    now: i64,
    tz: &TimeZone,
    local: Option<&LocalTime>,
    anchor: i64,
    quiet: Option<&QuietHours>,
    class: MessageClass,
) -> Timing {
    if let Some(local) = local {
        let at = local.instant(tz, anchor);
        if at > now {
            return Timing::Hold(at);
        }
    }
    let Some(quiet) = quiet else {
        return Timing::Now;
    };
    match (quiet.action(class), quiet.until(now, tz)) {
        (Some(QuietAction::Drop), Some(_)) => Timing::Drop(format!(
            "dropped in quiet hours ({}–{} in {})",
            hhmm(quiet.start),
            hhmm(quiet.end),
            tz.iana_name().unwrap_or("UTC")
        )),
        // An end not after now (a DST fold can make one) holds nothing.
        (Some(_), Some(end)) if end > now => Timing::Hold(end),
        _ => Timing::Now,
    }
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The instant a date and time would be in UTC.
fn utc_instant(date: Date, time: Time) -> i64 {
    date.to_datetime(time)
        .to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// `HH:MM`, or `HH:MM:SS` when it has seconds.
fn hhmm(t: Time) -> String {
    match t.second() {
        0 => format!("{:02}:{:02}", t.hour(), t.minute()),
        s => format!("{:02}:{:02}:{s:02}", t.hour(), t.minute()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    #[test]
    fn clocks_dates_and_zones_are_read_or_refused_with_the_field() {
        assert_eq!(clock("t", "09:05").unwrap(), Time::new(9, 5, 0, 0).unwrap());
        assert_eq!(
            clock("t", "23:59").unwrap(),
            Time::new(23, 59, 0, 0).unwrap()
        );
        assert_eq!(
            clock("t", "07:00:30").unwrap(),
            Time::new(7, 0, 30, 0).unwrap()
        );
        assert_eq!(hhmm(clock("t", "07:00:30").unwrap()), "07:00:30");
        assert_eq!(hhmm(clock("t", "07:00:00").unwrap()), "07:00");
        for bad in [
            "9:05",
            "24:00",
            "12:60",
            "12-00",
            "",
            "+1:00",
            "12:0a",
            "١٢:٠٠",
            "12:00:60",
            "12:00:",
            "12:00:00:00",
        ] {
            let err = clock("local_time.time", bad).unwrap_err();
            assert!(
                err.to_string().starts_with("local_time.time: "),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            date("d", "2026-12-01").unwrap(),
            Date::new(2026, 12, 1).unwrap()
        );
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "26-12-01",
            "2026/12/01",
            "2026-12-1",
        ] {
            assert!(date("d", bad).is_err(), "{bad}");
        }
        assert!(zone("z", "Europe/Vienna").is_ok());
        assert!(zone("z", "UTC").is_ok());
        assert!(zone("z", "Mars/Olympus").is_err());
        assert_eq!(
            first_zone(["", "Nowhere/Else", "Asia/Tokyo"]),
            tz("Asia/Tokyo")
        );
        assert_eq!(first_zone([""]), TimeZone::UTC);
    }

    #[test]
    fn instants_are_read_as_rfc3339_or_a_span_from_now() {
        let now = ms("2026-11-30T12:00:00Z");
        assert_eq!(
            instant("at", "2026-12-01T09:00:00Z", now).unwrap(),
            ms("2026-12-01T09:00:00Z")
        );
        assert_eq!(
            instant("at", "2026-12-01T10:00:00+01:00", now).unwrap(),
            ms("2026-12-01T09:00:00Z")
        );
        assert_eq!(instant("at", "+90s", now).unwrap(), now + 90_000);
        assert_eq!(instant("at", "+1h30m", now).unwrap(), now + 5_400_000);
        assert_eq!(instant("at", "+1d", now).unwrap(), now + 86_400_000);
        for bad in ["", "+", "tomorrow", "2026-12-01", "+5 parsecs", "90s"] {
            let err = instant("at", bad, now).unwrap_err();
            assert!(err.to_string().starts_with("at: "), "{bad}: {err}");
        }
    }

    #[test]
    fn a_local_time_comes_in_each_zone_at_its_own_instant() {
        let nine = LocalTime {
            date: Some(Date::new(2026, 12, 1).unwrap()),
            time: Time::new(9, 0, 0, 0).unwrap(),
        };
        let anchor = ms("2026-11-30T12:00:00Z");
        assert_eq!(
            nine.instant(&tz("Europe/Vienna"), anchor),
            ms("2026-12-01T08:00:00Z")
        );
        assert_eq!(
            nine.instant(&tz("America/New_York"), anchor),
            ms("2026-12-01T14:00:00Z")
        );
        assert_eq!(
            nine.instant(&tz("Pacific/Kiritimati"), anchor),
            nine.first_instant(anchor)
        );
        assert_eq!(nine.first_instant(anchor), ms("2026-11-30T19:00:00Z"));
        assert_eq!(nine.last_instant(anchor), ms("2026-12-01T21:00:00Z"));
        assert_eq!(
            nine.last_instant(anchor) - nine.first_instant(anchor),
            26 * 3_600_000,
            "every zone within 26 hours"
        );
        // Without a date: the next time the clock shows it, from the message's acceptance.
        let daily = LocalTime { date: None, ..nine };
        assert_eq!(
            daily.instant(&tz("Europe/Vienna"), anchor),
            ms("2026-12-01T08:00:00Z")
        );
        assert_eq!(
            daily.instant(&tz("Asia/Tokyo"), anchor),
            ms("2026-12-01T00:00:00Z")
        );
        let at_nine = ms("2026-12-01T08:00:00Z");
        assert_eq!(daily.instant(&tz("Europe/Vienna"), at_nine), at_nine);
    }

    #[test]
    fn quiet_hours_hold_or_drop_by_class_and_transactional_passes() {
        let q = QuietHours {
            start: Time::new(22, 0, 0, 0).unwrap(),
            end: Time::new(7, 0, 0, 0).unwrap(),
            standard: QuietAction::Unspecified,
            marketing: QuietAction::Unspecified,
        };
        let vienna = tz("Europe/Vienna");
        let late = ms("2026-11-30T22:30:00Z"); // 23:30 in Vienna
        let morning = ms("2026-12-01T06:00:00Z"); // 07:00 in Vienna
        assert_eq!(q.until(late, &vienna), Some(morning));
        assert_eq!(q.until(ms("2026-12-01T05:00:00Z"), &vienna), Some(morning));
        assert_eq!(q.until(morning, &vienna), None, "the end is not quiet");
        assert_eq!(q.until(ms("2026-11-30T12:00:00Z"), &vienna), None);
        let judge = |class| timing(late, &vienna, None, late, Some(&q), class);
        assert_eq!(judge(MessageClass::Standard), Timing::Hold(morning));
        assert_eq!(judge(MessageClass::Unspecified), Timing::Hold(morning));
        assert!(
            matches!(judge(MessageClass::Marketing), Timing::Drop(r) if r.contains("22:00–07:00 in Europe/Vienna"))
        );
        assert_eq!(judge(MessageClass::Transactional), Timing::Now);
        let day = QuietHours {
            start: Time::new(12, 0, 0, 0).unwrap(),
            end: Time::new(14, 0, 0, 0).unwrap(),
            standard: QuietAction::Drop,
            marketing: QuietAction::Hold,
        };
        assert!(matches!(
            timing(
                ms("2026-11-30T12:30:00Z"),
                &vienna,
                None,
                0,
                Some(&day),
                MessageClass::Standard
            ),
            Timing::Drop(_)
        ));
        assert_eq!(
            timing(
                ms("2026-11-30T12:30:00Z"),
                &vienna,
                None,
                0,
                Some(&day),
                MessageClass::Marketing
            ),
            Timing::Hold(ms("2026-11-30T13:00:00Z"))
        );
    }

    #[test]
    fn a_local_time_first_then_quiet_hours_at_that_time() {
        let eight_am = LocalTime {
            date: Some(Date::new(2026, 12, 1).unwrap()),
            time: Time::new(6, 30, 0, 0).unwrap(),
        };
        let q = QuietHours {
            start: Time::new(22, 0, 0, 0).unwrap(),
            end: Time::new(7, 0, 0, 0).unwrap(),
            standard: QuietAction::Hold,
            marketing: QuietAction::Drop,
        };
        let vienna = tz("Europe/Vienna");
        let accepted = ms("2026-11-30T12:00:00Z");
        let due = ms("2026-12-01T05:30:00Z");
        assert_eq!(
            timing(
                accepted,
                &vienna,
                Some(&eight_am),
                accepted,
                Some(&q),
                MessageClass::Standard
            ),
            Timing::Hold(due)
        );
        assert_eq!(
            timing(
                due,
                &vienna,
                Some(&eight_am),
                accepted,
                Some(&q),
                MessageClass::Standard
            ),
            Timing::Hold(ms("2026-12-01T06:00:00Z")),
            "06:30 is within the quiet hours: held until 07:00"
        );
    }

    #[test]
    fn requests_read_into_local_times_and_quiet_hours() {
        let none = LocalTime::read("local_time", Some(&api::LocalTime::default())).unwrap();
        assert_eq!(none, None);
        let err = LocalTime::read(
            "local_time",
            Some(&api::LocalTime {
                date: "2026-12-01".into(),
                time: String::new(),
            }),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("local_time.time: "), "{err}");
        let q = QuietHours::read(
            "settings.quiet_hours",
            Some(&api::QuietHours {
                start: "22:00".into(),
                end: "22:00".into(),
                ..Default::default()
            }),
        )
        .unwrap_err();
        assert!(
            q.to_string().starts_with("settings.quiet_hours.end: "),
            "{q}"
        );
        let read = QuietHours::read(
            "q",
            Some(&api::QuietHours {
                start: "21:30".into(),
                end: "06:00".into(),
                standard: QuietAction::Drop as i32,
                marketing: 0,
            }),
        )
        .unwrap()
        .unwrap();
        assert_eq!(read.to_api().start, "21:30");
        assert_eq!(read.action(MessageClass::Standard), Some(QuietAction::Drop));
        assert_eq!(
            read.action(MessageClass::Marketing),
            Some(QuietAction::Drop)
        );
    }
}
