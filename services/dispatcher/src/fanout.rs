//! Events → jobs: each event of a batch becomes one job per enabled endpoint of its tenant
//! that chose its type, covers its provider, and existed when it happened; and each status
//! event of a message with a notify URL one job for that URL.

use std::collections::HashMap;
use std::time::Duration;

use herald_bus::{Bus, Disposition, Message, Outgoing, subjects};
use herald_core::ids::TenantId;
use herald_proto::bus::v1::{EventBatch, EventKind, WebhookJob};
use prost::Message as _;

use crate::endpoints::Endpoints;

/// Publishes the jobs of `batch`, and answers how to settle each message.
pub(crate) async fn fan_out(
    endpoints: &Endpoints,
    bus: &Bus,
    batch: &[Message],
) -> Vec<Disposition> {
    let mut settled: Vec<Option<Disposition>> = vec![None; batch.len()];
    // Which message each job comes from.
    let mut jobs: Vec<(usize, Outgoing)> = Vec::new();
    let mut tenants = HashMap::new();
    for (index, message) in batch.iter().enumerate() {
        let events = match EventBatch::decode(message.payload.clone()) {
            Ok(events) => events,
            Err(err) => {
                settled[index] = Some(Disposition::Park(format!("not an event batch: {err}")));
                continue;
            }
        };
        let tenant = TenantId::from_trusted(subjects::tenant_of(&message.subject).to_owned());
        if !tenants.contains_key(&tenant) {
            match endpoints.of_tenant(&tenant).await {
                Ok(opened) => {
                    tenants.insert(tenant.clone(), opened);
                }
                Err(err) if err.is_outage() => {
                    tracing::warn!(%err, "the store is out of reach; events wait");
                    return vec![Disposition::Retry(Duration::from_secs(1)); batch.len()];
                }
                Err(err) => {
                    settled[index] = Some(Disposition::Fault(err.to_string()));
                    continue;
                }
            }
        }
        let opened = &tenants[&tenant];
        for event in &events.events {
            if opened.is_empty() && event.notify_url.is_empty() {
                continue;
            }
            let Some(rendered) = herald_webhooks::event::render(event) else {
                continue;
            };
            if !event.notify_url.is_empty() && event.kind() == EventKind::Status {
                let job = WebhookJob {
                    notify_url: event.notify_url.clone(),
                    ..rendered.job(tenant.as_str(), "", &event.message_id)
                };
                let msg_id = format!("{}.notify", rendered.id);
                jobs.push((
                    index,
                    Outgoing::new(subjects::webhook(tenant.as_str()), msg_id, &job),
                ));
            }
            let delivery = event
                .delivery
                .as_ref()
                .expect("rendered events have a delivery");
            // An endpoint gets the events that happened after it was created.
            for endpoint in opened.iter().filter(|o| {
                rendered.wanted(&o.record.events, o.record.provider, delivery.provider())
                    && delivery.updated_at_ms >= o.record.created_at
            }) {
                let job = rendered.job(
                    tenant.as_str(),
                    endpoint.record.id.as_str(),
                    &event.message_id,
                );
                let msg_id = format!("{}.{}", rendered.id, endpoint.record.id);
                jobs.push((
                    index,
                    Outgoing::new(subjects::webhook(tenant.as_str()), msg_id, &job),
                ));
            }
        }
    }
    let (from, outgoing): (Vec<usize>, Vec<Outgoing>) = jobs.into_iter().unzip();
    let results = bus.publish_all(outgoing).await;
    for (index, result) in from.into_iter().zip(results) {
        if let Err(err) = result {
            let disposition = if err.is_outage() {
                Disposition::Retry(Duration::from_secs(1))
            } else {
                Disposition::Fault(err.to_string())
            };
            settled[index].get_or_insert(disposition);
        }
    }
    settled
        .into_iter()
        .map(|d| d.unwrap_or(Disposition::Ack))
        .collect()
}
