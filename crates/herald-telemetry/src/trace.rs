//! Traces: `tracing` spans exported to an OpenTelemetry collector over OTLP (gRPC) when an
//! endpoint is set, and the W3C trace context carried in NATS message headers, so that one trace
//! follows a notification from the client's `Send` through ingest, the router, the sender's
//! provider request and the receipt's write.
//!
//! A consumer's span takes the first message's context as its parent (a batch of many links the
//! others' traces); a topic or segment fan-out's pages start traces of their own that link to
//! the message's, so a million-device send is not one giant trace.

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::propagation::{Injector, TextMapPropagator as _};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample,
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The headers of a trace context (W3C Trace Context).
pub const HEADERS: [&str; 2] = ["traceparent", "tracestate"];

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Where and how much to export.
#[derive(Clone, Debug)]
pub struct Export {
    /// The collector's OTLP/gRPC endpoint (`http://collector:4317`).
    pub endpoint: String,
    /// The process's `service.name`.
    pub service: String,
    /// The share of new traces recorded (0 to 1); a trace a caller started keeps its caller's
    /// decision.
    pub sample_ratio: f64,
}

/// A `tracing` layer that exports spans as `export` says. Call it inside a Tokio runtime (the
/// exporter's gRPC channel runs on it); [`shutdown`] flushes what is left at exit.
pub fn layer<S>(export: &Export) -> Result<impl tracing_subscriber::Layer<S> + use<S>, String>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(export.endpoint.clone())
        .with_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("the OTLP exporter for {}: {e}", export.endpoint))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(LinkedOrRatio(
            Sampler::TraceIdRatioBased(export.sample_ratio),
        ))))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(export.service.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("herald");
    let _ = PROVIDER.set(provider);
    Ok(tracing_opentelemetry::layer().with_tracer(tracer))
}

/// How a new trace is sampled: as a trace it links to was (a fan-out page follows its message),
/// else at the ratio.
#[derive(Clone, Debug)]
struct LinkedOrRatio(Sampler);

impl ShouldSample for LinkedOrRatio {
    fn should_sample(
        &self,
        parent: Option<&opentelemetry::Context>,
        trace_id: opentelemetry::trace::TraceId,
        name: &str,
        kind: &opentelemetry::trace::SpanKind,
        attributes: &[opentelemetry::KeyValue],
        links: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        if links.iter().any(|link| link.span_context.is_sampled()) {
            return SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: Default::default(),
            };
        }
        self.0
            .should_sample(parent, trace_id, name, kind, attributes, links)
    }
}

/// Sends the spans not exported yet (at exit, or before a test reads its receiver).
pub fn flush() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.force_flush();
    }
}

/// Flushes and stops the exporter.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.shutdown();
    }
}

struct Headers<'a>(&'a mut Vec<(&'static str, String)>);

impl Injector for Headers<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let Some(name) = HEADERS.iter().find(|h| **h == key) {
            self.0.push((name, value));
        }
    }
}

/// The current span's trace context as message headers; none when no trace is recorded.
pub fn inject() -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    let cx = tracing::Span::current().context();
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&cx, &mut Headers(&mut headers));
    }
    headers
}

/// The trace context in a message's headers (`get` answers one by name), if it has one.
fn extract(get: impl Fn(&str) -> Option<String>) -> Option<opentelemetry::Context> {
    let found: std::collections::HashMap<String, String> = HEADERS
        .iter()
        .filter_map(|name| get(name).map(|value| ((*name).to_owned(), value)))
        .collect();
    if found.is_empty() {
        return None;
    }
    let cx = TraceContextPropagator::new().extract(&found);
    cx.span().span_context().is_valid().then_some(cx)
}

/// Makes `span` part of the trace whose context the message headers hold (`get` answers a
/// header by name): its child, or, with `link_only`, a new trace that links to it. Answers
/// whether there was a trace context.
pub fn adopt(span: &tracing::Span, link_only: bool, get: impl Fn(&str) -> Option<String>) -> bool {
    let Some(cx) = extract(get) else {
        return false;
    };
    if link_only {
        span.add_link(cx.span().span_context().clone());
    } else {
        let _ = span.set_parent(cx);
    }
    true
}
