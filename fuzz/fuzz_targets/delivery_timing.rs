//! Delivery timing's parsers and judgement on any input: a local time, quiet hours and a zone
//! name read or refuse (never panic); what reads judges any instant in any zone without
//! panicking, never holds a delivery to an instant in the past, and a transactional message is
//! never dropped.
#![no_main]

use herald_core::timing::{LocalTime, QuietHours, Timing, first_zone, timing};
use herald_proto::v1::{self as api, MessageClass};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\n');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    let (time, date, start, end, zone) = (next(), next(), next(), next(), next());
    let now = i64::from_le_bytes(
        data.iter()
            .copied()
            .chain([0; 8])
            .take(8)
            .collect::<Vec<_>>()
            .try_into()
            .expect("eight bytes"),
    ) % 4_000_000_000_000;
    let local = LocalTime::read("local_time", Some(&api::LocalTime { time, date }));
    let quiet = QuietHours::read(
        "quiet_hours",
        Some(&api::QuietHours {
            start,
            end,
            standard: i32::from(data.first().copied().unwrap_or(0) % 3),
            marketing: i32::from(data.last().copied().unwrap_or(0) % 3),
        }),
    );
    let _ = herald_core::timing::zone("time_zone", &zone);
    let tz = first_zone([zone.as_str()]);
    if let (Ok(local), Ok(quiet)) = (local, quiet) {
        for class in [
            MessageClass::Standard,
            MessageClass::Marketing,
            MessageClass::Transactional,
        ] {
            match timing(now, &tz, local.as_ref(), now, quiet.as_ref(), class) {
                Timing::Hold(at) => assert!(at > now, "held to the past: {at} <= {now}"),
                Timing::Drop(_) => assert_ne!(class, MessageClass::Transactional),
                Timing::Now => {}
            }
        }
    }
});
