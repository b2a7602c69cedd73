//! Bulk device import (`ImportDevices`): rows are checked as they stream in, exactly as
//! RegisterDevice and Subscribe check them, and the good ones written in chunks of [`CHUNK`],
//! each chunk one transaction, so a row is written whole (its device with its subscriptions)
//! or not at all. A bad row is reported with its line and changes nothing.

use std::collections::HashMap;

use herald_core::ids::TenantId;
use herald_core::{Error, topics};
use herald_proto::v1::{ImportDevicesRequest, ImportDevicesResponse, ImportRow, ImportRowError};
use herald_store::ImportDevice;
use tonic::{Status, Streaming};

use crate::Api;
use crate::devices::profile;

/// Rows written per transaction.
const CHUNK: usize = 1000;
/// Row errors returned in full; the rest are only counted.
const MAX_REPORTED: usize = 1000;
/// The most topics one row joins.
const MAX_TOPICS_PER_ROW: usize = 100;

/// An import in progress.
struct Import<'a> {
    tenant: &'a TenantId,
    allow_http: bool,
    dry_run: Option<bool>,
    /// Whether each topic named so far exists.
    topics: HashMap<String, bool>,
    chunk: Vec<ImportDevice>,
    response: ImportDevicesResponse,
}

impl Api {
    /// Imports the rows of `stream` for `tenant`.
    pub(crate) async fn import(
        &self,
        tenant: &TenantId,
        mut stream: Streaming<ImportDevicesRequest>,
    ) -> Result<ImportDevicesResponse, Status> {
        let mut import = Import {
            tenant,
            allow_http: self.allows_http_web_push(tenant).await?,
            dry_run: None,
            topics: HashMap::new(),
            chunk: Vec::with_capacity(CHUNK),
            response: ImportDevicesResponse::default(),
        };
        let mut place = 0u64;
        while let Some(request) = stream.message().await? {
            match import.dry_run {
                None => import.dry_run = Some(request.dry_run),
                Some(dry_run) if dry_run != request.dry_run => {
                    return Err(Error::invalid(
                        "dry_run",
                        "must be the same on every request of the stream",
                    )
                    .into());
                }
                Some(_) => {}
            }
            for row in request.rows {
                place += 1;
                let line = if row.line == 0 { place } else { row.line };
                match self.check_row(&mut import, row).await? {
                    Ok(device) => import.chunk.push(device),
                    Err(err) => import.refuse(line, err),
                }
                if import.chunk.len() >= CHUNK {
                    self.write(&mut import).await?;
                }
            }
        }
        self.write(&mut import).await?;
        tracing::info!(
            tenant_id = %tenant,
            imported = import.response.imported,
            created = import.response.created,
            refused = import.response.error_count,
            "devices imported"
        );
        Ok(import.response)
    }

    /// A row as a device to write, or why it is refused; the outer error is the store's.
    async fn check_row(
        &self,
        import: &mut Import<'_>,
        row: ImportRow,
    ) -> Result<Result<ImportDevice, Error>, Error> {
        let Some(device) = row.device else {
            return Ok(Err(Error::invalid("device", "required")));
        };
        let profile = match profile(&device, import.allow_http) {
            Ok(profile) => profile,
            Err(err) => return Ok(Err(err.within("device"))),
        };
        if row.topics.len() > MAX_TOPICS_PER_ROW {
            return Ok(Err(Error::invalid(
                "topics",
                format!("at most {MAX_TOPICS_PER_ROW} topics per row"),
            )));
        }
        for (at, topic) in row.topics.iter().enumerate() {
            let field = format!("topics[{at}]");
            if let Err(err) = topics::name(&field, topic) {
                return Ok(Err(err));
            }
            let exists = match import.topics.get(topic) {
                Some(exists) => *exists,
                None => {
                    let exists = self.store.topic_exists(import.tenant, topic).await?;
                    import.topics.insert(topic.clone(), exists);
                    exists
                }
            };
            if !exists {
                return Ok(Err(Error::invalid(
                    field,
                    format!("topic {topic:?} not found"),
                )));
            }
        }
        Ok(Ok(ImportDevice {
            profile,
            topics: row.topics,
        }))
    }

    /// Writes the rows held (none in a dry run), counting them.
    async fn write(&self, import: &mut Import<'_>) -> Result<(), Error> {
        let rows = u64::try_from(import.chunk.len()).unwrap_or(u64::MAX);
        if import.dry_run != Some(true) && !import.chunk.is_empty() {
            let imported = self
                .store
                .import_devices(import.tenant, &import.chunk)
                .await?;
            import.response.created += imported.created;
        }
        import.response.imported += rows;
        import.chunk.clear();
        Ok(())
    }
}

impl Import<'_> {
    fn refuse(&mut self, line: u64, err: Error) {
        self.response.error_count += 1;
        if self.response.errors.len() >= MAX_REPORTED {
            return;
        }
        let (field, reason) = match err {
            Error::InvalidArgument { field, reason } => (field, reason),
            other => ("row".to_owned(), other.to_string()),
        };
        self.response.errors.push(ImportRowError {
            line,
            field,
            reason,
        });
    }
}
