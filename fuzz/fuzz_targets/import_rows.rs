//! Device import files, CSV and JSON lines: reading any bytes answers row by row (never
//! panics), every row or error carries a line within the input, and lines only go forward.
#![no_main]

use herald_core::import::{Format, rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = u64::try_from(data.iter().filter(|b| **b == b'\n').count()).unwrap_or(u64::MAX) + 1;
    for format in [Format::Csv, Format::JsonLines] {
        let mut last = 0;
        for row in rows(format, std::io::Cursor::new(data.to_vec())) {
            let line = match row {
                Ok(row) => {
                    assert!(row.device.is_some());
                    row.line
                }
                Err(err) => err.line,
            };
            assert!(line <= lines, "line {line} of {lines}");
            assert!(line >= last || line == 0, "line {line} after {last}");
            last = line.max(last);
        }
    }
});
