//! `herald device import FILE`: streams a CSV or JSON-lines file of devices to the
//! `ImportDevices` RPC (rows read and sent as the upload goes, never the whole file in memory),
//! with a progress bar on standard error, and reports every refused row by its line.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use herald_core::import::{self, Format, RowError};
use herald_proto::client::AuthedChannel;
use herald_proto::v1::devices_client::DevicesClient;
use herald_proto::v1::{ImportDevicesRequest, ImportDevicesResponse, ImportRow};

/// Rows per request of the stream.
const ROWS_PER_REQUEST: usize = 1000;

/// What an import did, the file's own unreadable rows included.
pub struct Outcome {
    pub response: ImportDevicesResponse,
    /// Rows the file itself got wrong (they never left this machine).
    pub unreadable: Vec<RowError>,
    pub elapsed: Duration,
}

/// Counts the bytes read through it, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(u64::try_from(n).unwrap_or(0), Ordering::Relaxed);
        Ok(n)
    }
}

/// Imports `file` (its format from `format`, else from its name).
pub async fn run(
    channel: AuthedChannel,
    file: &Path,
    format: Option<Format>,
    dry_run: bool,
    progress: bool,
) -> anyhow::Result<Outcome> {
    let format = format
        .or_else(|| Format::of_path(file))
        .context("say --format csv or --format jsonl (the file name does not tell)")?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let read = Arc::new(AtomicU64::new(0));
    let input = Counting {
        inner: std::fs::File::open(file)?,
        read: read.clone(),
    };
    let (requests, mut incoming) = tokio::sync::mpsc::channel::<ImportDevicesRequest>(4);
    let sent = Arc::new(AtomicU64::new(0));
    let counted = sent.clone();
    // The file is read on a blocking thread; its rows go out as they are parsed.
    let reader = tokio::task::spawn_blocking(move || {
        let mut unreadable = Vec::new();
        let mut rows: Vec<ImportRow> = Vec::with_capacity(ROWS_PER_REQUEST);
        for row in import::rows(format, input) {
            match row {
                Ok(row) => rows.push(row),
                Err(err) => unreadable.push(err),
            }
            if rows.len() >= ROWS_PER_REQUEST {
                let batch = std::mem::replace(&mut rows, Vec::with_capacity(ROWS_PER_REQUEST));
                counted.fetch_add(batch.len() as u64, Ordering::Relaxed);
                if requests
                    .blocking_send(ImportDevicesRequest {
                        rows: batch,
                        dry_run,
                    })
                    .is_err()
                {
                    return unreadable;
                }
            }
        }
        counted.fetch_add(rows.len() as u64, Ordering::Relaxed);
        // Always one request, so an empty file still says whether it is a dry run.
        let _ = requests.blocking_send(ImportDevicesRequest { rows, dry_run });
        unreadable
    });
    let stream = futures::stream::poll_fn(move |cx| incoming.poll_recv(cx));
    let started = Instant::now();
    let bar = progress.then(|| tokio::spawn(draw(read, size, sent, started)));
    let answer = DevicesClient::new(channel)
        .max_encoding_message_size(64 << 20)
        .import_devices(stream)
        .await;
    if let Some(bar) = bar {
        bar.abort();
        eprintln!();
    }
    let unreadable = reader.await?;
    let response = answer.context("the import failed")?.into_inner();
    Ok(Outcome {
        response,
        unreadable,
        elapsed: started.elapsed(),
    })
}

/// Redraws the progress bar four times a second.
async fn draw(read: Arc<AtomicU64>, size: u64, sent: Arc<AtomicU64>, started: Instant) {
    const WIDTH: usize = 30;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let done = read.load(Ordering::Relaxed).min(size);
        let share = if size == 0 {
            1.0
        } else {
            done as f64 / size as f64
        };
        let filled = ((share * WIDTH as f64) as usize).min(WIDTH);
        let rows = sent.load(Ordering::Relaxed);
        let rate = rows as f64 / started.elapsed().as_secs_f64().max(0.001);
        eprint!(
            "\r[{}{}] {:>3.0}%  {rows} rows  {rate:.0} rows/s ",
            "#".repeat(filled),
            " ".repeat(WIDTH - filled),
            share * 100.0
        );
    }
}

/// Prints what the import did and every refused row, by line.
pub fn print(outcome: &Outcome, dry_run: bool) {
    let r = &outcome.response;
    let secs = outcome.elapsed.as_secs_f64().max(0.001);
    let verb = if dry_run { "would import" } else { "imported" };
    println!(
        "{verb} {} devices ({} new) in {secs:.1} s, {:.0} rows/s; {} rows refused",
        r.imported,
        r.created,
        r.imported as f64 / secs,
        r.error_count + outcome.unreadable.len() as u64
    );
    let mut refused: Vec<(u64, &str, &str)> = outcome
        .unreadable
        .iter()
        .map(|e| (e.line, e.field.as_str(), e.reason.as_str()))
        .chain(
            r.errors
                .iter()
                .map(|e| (e.line, e.field.as_str(), e.reason.as_str())),
        )
        .collect();
    refused.sort_by_key(|(line, ..)| *line);
    for (line, field, reason) in refused {
        println!("line {line}: {field}: {reason}");
    }
    let unlisted = r.error_count.saturating_sub(r.errors.len() as u64);
    if unlisted > 0 {
        println!("({unlisted} more refused rows not listed)");
    }
}
