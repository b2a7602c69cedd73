//! Fan-outs: a message to a large audience (a topic, a segment, the devices a recalled message
//! reached) routed page by page, in keyset order,
//! with a bounded number of pages' publishes in flight and a durable checkpoint.
//!
//! Each page is read (its active devices after the cursor), its deliveries recorded with the
//! lease renewed and the checkpoint moved up to the last page whose send batches JetStream
//! acknowledged, then published without waiting; at most [`WINDOW`] pages wait for their acks.
//! Memory holds those pages, whatever the audience's size, and the per-message work (decoding
//! the message, parsing its destination) happens once per fan-out, not per device.
//!
//! A router that stops releases its fan-outs at their checkpoint; one that dies leaves them to
//! whichever router finds the lease run out. Either way the next one goes on from the
//! checkpoint: no device is skipped, and the pages after it are handled again — their
//! deliveries exist, so only those still queued are published again, in batches of the same
//! composition, which JetStream's duplicate window drops (and a sender's claim stops any copy).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument as _;

use herald_bus::{BusError, Lane, MAX_TRIES};
use herald_core::ids::MessageId;
use herald_core::personalize::Personalizer;
use herald_core::segments::{self, Expr};
use herald_core::time::now_ms;
use herald_core::validate::{Audience, audience};
use herald_proto::bus::v1::MessageAccepted;
use herald_store::{DeviceRecord, FanoutEnd, FanoutJob, PageRecorded, Position, Source};
use prost::Message as _;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::plan::{self, Routed};
use crate::{Config, RETRY, RouteError, Router};

/// How long a router holds a fan-out without renewing it (each page renews it).
const LEASE: Duration = Duration::from_secs(10);
/// How often a router looks for fan-outs whose holder went away.
const POLL: Duration = Duration::from_secs(2);
/// Pages whose publishes may be waiting for their acks at once.
const WINDOW: usize = 4;

/// Takes fan-outs (new ones when woken, abandoned ones as their leases run out) and works up to
/// `config.fanouts` of them at once, until `stop`; then each stops at a checkpoint.
pub(crate) async fn run(router: Router, config: Config, stop: CancellationToken) {
    let process = format!("router-{}-{}", std::process::id(), MessageId::generate());
    let slots = Arc::new(Semaphore::new(config.fanouts));
    let mut running = JoinSet::new();
    for claim in 0u64.. {
        let free = slots.available_permits();
        // A holder name per claim: if this router's own lease on a fan-out ran out and it takes
        // the fan-out again, the earlier task no longer holds it (and stops) rather than both
        // going on.
        let holder = format!("{process}-{claim}");
        if free > 0 {
            let now = now_ms();
            let lease_until = now + lease_ms();
            let limit = u32::try_from(free).unwrap_or(u32::MAX);
            match router
                .store
                .claim_fanouts(&holder, now, lease_until, limit)
                .await
            {
                Ok(jobs) => {
                    for job in jobs {
                        let Ok(slot) = slots.clone().try_acquire_owned() else {
                            break;
                        };
                        let fan_out = FanOut {
                            router: router.clone(),
                            holder: holder.clone(),
                            page: u32::try_from(config.fanout_page).unwrap_or(u32::MAX),
                            job,
                        };
                        let stop = stop.clone();
                        running.spawn(async move {
                            fan_out.run(&stop).await;
                            drop(slot);
                        });
                    }
                }
                Err(err) => tracing::warn!(%err, "could not look for fan-outs"),
            }
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = router.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
    while running.join_next().await.is_some() {}
}

fn lease_ms() -> i64 {
    i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX)
}

/// One fan-out a router holds.
struct FanOut {
    router: Router,
    holder: String,
    page: u32,
    job: FanoutJob,
}

/// Where a walk through the audience ended.
enum Walk {
    /// Every source was read to its end.
    Done,
    /// The message's time to live ran out.
    Expired,
    /// The router is stopping.
    Stopped,
    /// Another router holds the fan-out now.
    Lost,
    /// The message was recalled.
    Cancelled,
    /// A throttled fan-out waits for its pace until this instant, without holding a slot.
    Paused(i64),
}

/// What a fan-out goes to.
enum Target {
    Topic(String),
    Segment {
        name: String,
        expr: Expr,
    },
    /// The devices another message reached (a removal of its pushes).
    Recipients(MessageId),
}

/// A page published, waiting for its acks.
struct InFlight {
    /// The checkpoint once its acks are in: where the next page starts.
    next: Position,
    /// Deliveries routed up to and including it.
    routed: i64,
    acks: JoinHandle<Result<(), BusError>>,
}

/// The checkpoint: where the fan-out goes on from, and how many deliveries were routed before.
type Checkpoint = (Position, i64);

impl FanOut {
    async fn run(self, stop: &CancellationToken) {
        let (tenant, message) = (&self.job.tenant_id, &self.job.message_id);
        tracing::info!(tenant_id = %tenant, message_id = %message, position = ?self.job.position, "fan-out taken");
        let Ok(accepted) = MessageAccepted::decode(self.job.body.as_slice()) else {
            self.end(FanoutEnd::Failed(
                "its stored message does not decode".into(),
            ))
            .await;
            return;
        };
        let target = match self.target(&accepted, stop).await {
            Some(Ok(target)) => target,
            Some(Err(reason)) => {
                self.end(FanoutEnd::Failed(reason)).await;
                return;
            }
            None => {
                self.release(&(self.job.position.clone(), self.job.routed), 0)
                    .await;
                return;
            }
        };
        // Templates and language variants: compiled once for the whole audience.
        let personal = match plan::personalizer(&accepted) {
            Ok(personal) => personal,
            Err(reason) => {
                self.end(FanoutEnd::Failed(reason)).await;
                return;
            }
        };
        let sources = match &target {
            Target::Topic(topic) => vec![Source::TopicDevices(topic), Source::TopicUsers(topic)],
            // Relative conditions count from the acceptance, so a resumed fan-out reads the
            // same audience.
            Target::Segment { expr, .. } => vec![Source::Segment {
                expr,
                now: accepted.accepted_at_ms,
            }],
            Target::Recipients(message) => vec![Source::Recipients(message)],
        };
        let mut checkpoint: Checkpoint = (self.job.position.clone(), self.job.routed);
        let mut faults = 0;
        loop {
            let before = checkpoint.clone();
            let walk = self
                .walk(
                    &accepted,
                    personal.as_ref(),
                    &sources,
                    &mut checkpoint,
                    stop,
                )
                .await;
            let routed = checkpoint.1;
            // Devices held back for a later wave count as routed: the fan-out ends scheduled.
            let waiting = match &walk {
                Ok(Walk::Done) => self
                    .router
                    .store
                    .fanout_next_wave(&self.job)
                    .await
                    .ok()
                    .flatten()
                    .is_some(),
                _ => false,
            };
            let nothing = |reason: String| {
                if routed > 0 || waiting {
                    FanoutEnd::Routed
                } else {
                    FanoutEnd::Failed(reason)
                }
            };
            match walk {
                Ok(Walk::Done) => {
                    tracing::info!(tenant_id = %tenant, message_id = %message, routed, "fan-out done");
                    let end = nothing(match &target {
                        Target::Topic(topic) => {
                            format!("topic {topic:?} has no active subscribers")
                        }
                        Target::Segment { name, .. } => {
                            format!("segment {name:?} matches no active device")
                        }
                        Target::Recipients(message) => {
                            format!("message {message} reached no active device")
                        }
                    });
                    self.end(end).await;
                    return;
                }
                Ok(Walk::Expired) => {
                    tracing::info!(tenant_id = %tenant, message_id = %message, routed, "fan-out ended by the time to live");
                    self.end(nothing("the time to live ran out before routing".into()))
                        .await;
                    return;
                }
                Ok(Walk::Lost) => {
                    tracing::info!(tenant_id = %tenant, message_id = %message, "another router took the fan-out");
                    return;
                }
                Ok(Walk::Cancelled) => {
                    tracing::info!(tenant_id = %tenant, message_id = %message, routed, "fan-out stopped: the message was recalled");
                    self.end(FanoutEnd::Cancelled).await;
                    return;
                }
                Ok(Walk::Paused(until)) => {
                    tracing::info!(tenant_id = %tenant, message_id = %message, routed, until, "throttled fan-out waits for its pace");
                    self.release(&checkpoint, until).await;
                    return;
                }
                Ok(Walk::Stopped) => {
                    self.release(&checkpoint, 0).await;
                    return;
                }
                Err(err) => {
                    // Faults count in a row: a fan-out that moved on since starts again at one.
                    if checkpoint != before {
                        faults = 0;
                    }
                    if !err.is_outage() {
                        faults += 1;
                    }
                    if faults >= MAX_TRIES {
                        tracing::error!(%err, tenant_id = %tenant, message_id = %message, routed, "fan-out given up");
                        // Failed, whatever was routed before: the rest of the audience was not.
                        self.end(FanoutEnd::Failed(format!(
                            "routing stopped after {routed} deliveries: {err}"
                        )))
                        .await;
                        return;
                    }
                    tracing::warn!(%err, tenant_id = %tenant, message_id = %message, "fan-out page failed; going on from the checkpoint");
                    tokio::select! {
                        () = stop.cancelled() => {
                            self.release(&checkpoint, 0).await;
                            return;
                        }
                        () = tokio::time::sleep(RETRY) => {}
                    }
                }
            }
        }
    }

    /// What the message goes to, or why it cannot go; `None` when the router is stopping.
    async fn target(
        &self,
        accepted: &MessageAccepted,
        stop: &CancellationToken,
    ) -> Option<Result<Target, String>> {
        if !accepted.removes_message_id.is_empty() {
            return Some(Ok(Target::Recipients(MessageId::from_trusted(
                accepted.removes_message_id.clone(),
            ))));
        }
        let segment = match audience(accepted.destination.as_ref()) {
            Ok(Audience::Topic(topic)) => return Some(Ok(Target::Topic(topic))),
            Ok(Audience::Segment(segment)) => segment,
            _ => return Some(Err("its destination is not a topic or a segment".into())),
        };
        let parse = |expression: &str| {
            segments::parse("expression", expression)
                .map(|expr| Target::Segment {
                    name: segment.clone(),
                    expr,
                })
                .map_err(|err| format!("segment {segment:?} does not parse: {err}"))
        };
        // A resumed fan-out reads the audience it started with.
        if !self.job.pinned.is_empty() {
            return Some(parse(&self.job.pinned));
        }
        loop {
            let read = match self
                .router
                .store
                .get_segment(&self.job.tenant_id, &segment)
                .await
            {
                Ok(None) => return Some(Err(format!("segment {segment:?} was deleted"))),
                Ok(Some(record)) => self
                    .router
                    .store
                    .pin_fanout(&self.job, &self.holder, &record.expression)
                    .await
                    .map(|_| record.expression),
                Err(err) => Err(err),
            };
            match read {
                Ok(expression) => return Some(parse(&expression)),
                Err(err) => {
                    tracing::warn!(%err, "could not read the segment; retrying");
                    tokio::select! {
                        () = stop.cancelled() => return None,
                        () = tokio::time::sleep(RETRY) => {}
                    }
                }
            }
        }
    }

    /// Routes pages from the checkpoint on, moving it up as their acks arrive.
    async fn walk(
        &self,
        accepted: &MessageAccepted,
        personal: Option<&Arc<Personalizer>>,
        sources: &[Source<'_>],
        checkpoint: &mut Checkpoint,
        stop: &CancellationToken,
    ) -> Result<Walk, RouteError> {
        let mut in_flight = VecDeque::new();
        let walked = self
            .pages(
                accepted,
                personal,
                sources,
                checkpoint,
                &mut in_flight,
                stop,
            )
            .await;
        for page in &in_flight {
            page.acks.abort();
        }
        walked
    }

    async fn pages(
        &self,
        accepted: &MessageAccepted,
        personal: Option<&Arc<Personalizer>>,
        sources: &[Source<'_>],
        checkpoint: &mut Checkpoint,
        in_flight: &mut VecDeque<InFlight>,
        stop: &CancellationToken,
    ) -> Result<Walk, RouteError> {
        let store = &self.router.store;
        let mut position = checkpoint.0.clone();
        let mut routed = checkpoint.1;
        // A campaign goes in the bulk lane, paced by what the senders have left of it; a
        // transactional message to a large audience goes as any other send.
        let lane = Lane::of_message(accepted.class(), true);
        let throttle = accepted.throttle_per_minute;
        // A throttled fan-out reads at most a second's worth of its pace a page, so its
        // deliveries go in even steps.
        let mut paced_until = 0;
        let page_size = match throttle {
            0 => self.page,
            per_minute => self.page.min((per_minute / 60).max(1)),
        };
        loop {
            settle(in_flight, checkpoint, WINDOW).await?;
            if lane == Lane::Bulk {
                self.router.bulk_room(&self.job.tenant_id, stop).await?;
            }
            let due = paced_due(self.job.started_at, routed, throttle, paced_until);
            if let Some(walk) = self
                .pace(due, accepted, checkpoint, in_flight, stop)
                .await?
            {
                return Ok(walk);
            }
            let now = now_ms();
            let source = usize::try_from(position.source)
                .ok()
                .and_then(|at| sources.get(at));
            let ended = match source {
                _ if stop.is_cancelled() => Some(Walk::Stopped),
                _ if now >= accepted.expires_at_ms => Some(Walk::Expired),
                None => Some(Walk::Done),
                Some(_) => None,
            };
            if let Some(walk) = ended {
                settle(in_flight, checkpoint, 0).await?;
                return Ok(walk);
            }
            let source = *source.expect("checked above");
            let page = store
                .audience_page(&self.job.tenant_id, source, &position.cursor, page_size)
                .await?;
            let next = match page.last() {
                Some((cursor, _)) if page.len() == page_size as usize => Position {
                    source: position.source,
                    cursor: cursor.clone(),
                },
                _ => Position {
                    source: position.source + 1,
                    cursor: Default::default(),
                },
            };
            let devices: Vec<DeviceRecord> = page.into_iter().map(|(_, d)| d).collect();
            // A page's sends are a trace of their own, linked to the message's.
            let page_span = if devices.is_empty() {
                tracing::Span::none()
            } else {
                let span = tracing::info_span!(
                    "fanout page",
                    otel.name = "router fanout page",
                    message_id = %self.job.message_id,
                    devices = devices.len()
                );
                herald_telemetry::trace::adopt(&span, true, |name| {
                    (name == "traceparent")
                        .then(|| self.job.traceparent.clone())
                        .flatten()
                });
                span
            };
            let judged = self
                .router
                .policies
                .judge(store, accepted, &devices, now, &mut Default::default())
                .await?;
            let routed_page = Routed {
                tenant: self.job.tenant_id.clone(),
                message: self.job.message_id.clone(),
                accepted,
                deliveries: plan::deliveries(accepted, &self.job.message_id, &devices, &judged),
                personal: personal.cloned(),
                next_wave: judged.next_wave,
                lane,
            };
            let created = match store
                .record_fanout_page(
                    &self.job,
                    &self.holder,
                    now + lease_ms(),
                    &routed_page.records(),
                    (&checkpoint.0, checkpoint.1),
                    routed_page.next_wave,
                )
                .await?
            {
                PageRecorded::Created(created) => {
                    if let Some((class, subjects)) = &judged.counted {
                        self.router
                            .log_pushes(&routed_page, class, subjects, now)
                            .await?;
                    }
                    created
                }
                PageRecorded::Lost => return Ok(Walk::Lost),
                PageRecorded::Cancelled => return Ok(Walk::Cancelled),
            };
            let outgoing = self
                .router
                .outgoing(std::slice::from_ref(&routed_page), &created, now)
                .await?;
            let routed_now = i64::try_from(routed_page.deliveries.len()).unwrap_or(i64::MAX);
            routed += routed_now;
            // The next page goes no sooner than this one's share of the pace after it, however
            // far behind its start the fan-out fell (a stall, a router taking it over).
            if throttle > 0 {
                paced_until = now + paced_ms(routed_now, throttle);
            }
            let bus = self.router.bus.clone();
            in_flight.push_back(InFlight {
                next: next.clone(),
                routed,
                acks: tokio::spawn(
                    async move { herald_bus::all_published(bus.publish_all(outgoing).await) }
                        .instrument(page_span),
                ),
            });
            settle(in_flight, checkpoint, WINDOW).await?;
            position = next;
        }
    }

    /// Waits until `due` (a throttled fan-out's pace; 0: not throttled), holding the fan-out's
    /// lease meanwhile; a wait longer than the lease lets go of it until then (or its expiry)
    /// instead, so it holds none of the router's fan-out slots. Answers how the walk ends if it
    /// ends while waiting (paused, lost or recalled); a stop ends the wait.
    async fn pace(
        &self,
        due: i64,
        accepted: &MessageAccepted,
        checkpoint: &mut Checkpoint,
        in_flight: &mut VecDeque<InFlight>,
        stop: &CancellationToken,
    ) -> Result<Option<Walk>, RouteError> {
        loop {
            let now = now_ms();
            if now >= due || stop.is_cancelled() {
                return Ok(None);
            }
            // Nothing waits for its acks while the fan-out waits for its pace.
            settle(in_flight, checkpoint, 0).await?;
            if due - now > lease_ms() {
                return Ok(Some(Walk::Paused(due.min(accepted.expires_at_ms))));
            }
            let renewed = self
                .router
                .store
                .record_fanout_page(
                    &self.job,
                    &self.holder,
                    now + lease_ms(),
                    &[],
                    (&checkpoint.0, checkpoint.1),
                    None,
                )
                .await?;
            match renewed {
                PageRecorded::Created(_) => {}
                PageRecorded::Lost => return Ok(Some(Walk::Lost)),
                PageRecorded::Cancelled => return Ok(Some(Walk::Cancelled)),
            }
            let wait = Duration::from_millis(u64::try_from(due - now).unwrap_or(0)).min(LEASE / 3);
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Ends the fan-out: the message is routed (or failed), the checkpoint goes.
    async fn end(&self, end: FanoutEnd) {
        for _ in 0..MAX_TRIES {
            match self
                .router
                .store
                .finish_fanout(&self.job, &self.holder, end.clone())
                .await
            {
                Ok(_) => return,
                Err(err) => {
                    tracing::warn!(%err, message_id = %self.job.message_id, "could not end the fan-out; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// Lets go of the fan-out at the checkpoint, so another router takes it at once; if that
    /// fails, the lease runs out and it is taken all the same.
    async fn release(&self, (position, routed): &Checkpoint, until: i64) {
        tracing::info!(message_id = %self.job.message_id, ?position, "fan-out released at its checkpoint");
        if let Err(err) = self
            .router
            .store
            .release_fanout(&self.job, &self.holder, (position, *routed), until)
            .await
        {
            tracing::warn!(%err, "could not release the fan-out; its lease will run out");
        }
    }
}

/// When a fan-out throttled to `per_minute` (0: not throttled) that started at `started_at`
/// and has routed `routed` deliveries may route more: at its pace from its start, and no
/// sooner than `paced_until` (its last page's share of the pace after that page).
fn paced_due(started_at: i64, routed: i64, per_minute: u32, paced_until: i64) -> i64 {
    if per_minute == 0 {
        return 0;
    }
    started_at
        .saturating_add(paced_ms(routed, per_minute))
        .max(paced_until)
}

/// How long after its start a fan-out throttled to `per_minute` may have routed `routed`
/// deliveries.
fn paced_ms(routed: i64, per_minute: u32) -> i64 {
    let ms = i128::from(routed.max(0)) * 60_000 / i128::from(per_minute.max(1));
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Takes pages off the front whose acks are in, and waits for more until at most `keep` are
/// left, moving the checkpoint past each; a failed publish is the walk's error.
async fn settle(
    in_flight: &mut VecDeque<InFlight>,
    checkpoint: &mut Checkpoint,
    keep: usize,
) -> Result<(), RouteError> {
    while let Some(page) = in_flight.front() {
        if in_flight.len() <= keep && !page.acks.is_finished() {
            break;
        }
        let page = in_flight.pop_front().expect("a front page");
        page.acks.await.map_err(|err| BusError::Setup {
            what: "publishing a page".into(),
            detail: err.to_string(),
        })??;
        *checkpoint = (page.next, page.routed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_spreads_deliveries_evenly_over_its_minutes() {
        assert_eq!(paced_ms(0, 60), 0);
        assert_eq!(paced_ms(1, 60), 1_000);
        assert_eq!(paced_ms(90, 60), 90_000);
        assert_eq!(paced_ms(600_000, 600_000), 60_000);
        assert_eq!(paced_ms(1, 6_000_000), 0);
        assert_eq!(paced_ms(i64::MAX, 1), i64::MAX);
        assert_eq!(paced_ms(-5, 60), 0);
    }

    #[test]
    fn a_throttled_fan_out_that_fell_behind_does_not_catch_up_in_a_burst() {
        assert_eq!(paced_due(1_000, 5, 0, 99_999), 0, "not throttled");
        assert_eq!(
            paced_due(1_000, 60, 60, 0),
            61_000,
            "its pace from its start"
        );
        // Far behind its start (a stall): the next page waits its share after the last one.
        assert_eq!(paced_due(1_000, 60, 60, 500_000), 500_000);
    }
}
