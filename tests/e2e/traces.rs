//! OpenTelemetry traces across the bus: an in-process OTLP receiver (the collector's gRPC
//! TraceService) gets the spans, and one trace — the one the client's `Send` started — runs
//! through ingest, the router, the sender's provider request and the receipt's write; a
//! topic's fan-out pages are traces of their own that link to the message's.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_e2e::{DbBackend, Stack, Tenant, hello};
use herald_proto::v1::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;

/// What the receiver got: every span, with its service's name.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Span)>>>);

#[tonic::async_trait]
impl TraceService for Received {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = self.0.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                received.extend(scope.spans.into_iter().map(|s| (service.clone(), s)));
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts the receiver and exports this process's spans to it.
async fn receive_traces() -> Received {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(received.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    herald_runtime::init_test_logging_with(Some(&herald_telemetry::trace::Export {
        endpoint,
        service: "herald-test".into(),
        // The client's trace is sampled; Herald follows its decision whatever its own ratio.
        sample_ratio: 0.0,
    }));
    received
}

impl Received {
    /// The spans received once `done` holds of them (flushing the exporter while waiting).
    async fn wait(&self, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let mut spans = Vec::new();
        for _ in 0..100 {
            tokio::task::spawn_blocking(herald_telemetry::trace::flush)
                .await
                .unwrap();
            spans = self
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|(_, s)| s.clone())
                .collect();
            if done(&spans) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        spans
    }
}

/// A request in the client's trace (W3C traceparent in its metadata).
fn traced<T>(message: T, trace_id: &str, span_id: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-{span_id}-01").parse().unwrap(),
    );
    request
}

// One test: the exporter and the subscriber are the process's own (one receiver for both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_follow_a_send_across_the_services_and_fan_outs_link_theirs() {
    let received = receive_traces().await;
    let stack = Stack::start(DbBackend::Sqlite).await;
    let mut acme = stack.tenant("acme").await;
    acme.register_on(Platform::Android, "ada", "fcm-ada").await;
    // The client's own trace: W3C traceparent in the call's metadata.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let request = SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::UserId("ada".into())),
        }),
        notification: Some(hello()),
        ..Default::default()
    };
    let sent = acme
        .notifications
        .send(traced(request, trace_id, client_span))
        .await
        .expect("send")
        .into_inner();
    acme.wait_settled(&sent.message_id).await;

    let wanted = [
        "herald.v1.Notifications/Send",
        "ingest accept",
        "router process",
        "sender-fcm process",
        "fcm request",
        "receipt process",
        "receipt record",
    ];
    let in_trace = |spans: &[Span]| -> Vec<Span> {
        spans
            .iter()
            .filter(|s| hex(&s.trace_id) == trace_id)
            .cloned()
            .collect()
    };
    let spans = in_trace(
        &received
            .wait(|spans| {
                let names: HashSet<String> = in_trace(spans).into_iter().map(|s| s.name).collect();
                wanted.iter().all(|w| names.contains(*w))
            })
            .await,
    );
    let names: HashSet<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    for name in wanted {
        assert!(
            names.contains(name),
            "no {name:?} span in the trace: {names:?}"
        );
    }
    // One tree: each span's parent is the client's span or another span of the trace.
    let ids: HashSet<String> = spans.iter().map(|s| hex(&s.span_id)).collect();
    let by_name: HashMap<&str, &Span> = spans.iter().map(|s| (s.name.as_str(), s)).collect();
    for span in &spans {
        let parent = hex(&span.parent_span_id);
        assert!(
            parent == client_span || ids.contains(&parent),
            "{} has a parent outside the trace",
            span.name
        );
    }
    assert_eq!(
        hex(&by_name["herald.v1.Notifications/Send"].parent_span_id),
        client_span
    );
    // The provider request is the sender's, the sender's process span follows the router's
    // (spans of lower levels, with RUST_LOG=debug, may come between).
    let descends = |name: &str, ancestor: &str| {
        let mut at = by_name[name];
        while let Some(parent) = spans.iter().find(|s| s.span_id == at.parent_span_id) {
            if parent.name == ancestor {
                return true;
            }
            at = parent;
        }
        false
    };
    assert!(descends("fcm request", "sender-fcm process"));
    assert!(descends("sender-fcm process", "router process"));
    assert!(descends("router process", "ingest accept"));
    assert!(descends("receipt record", "receipt process"));
    assert!(descends("receipt process", "sender-fcm process"));
    assert!(!descends("router process", "sender-fcm process"));

    a_fan_out_page_is_a_trace_of_its_own_linked_to_the_messages(&received, &mut acme).await;
}

/// A topic's fan-out: each page a trace of its own, linked to the message's.
async fn a_fan_out_page_is_a_trace_of_its_own_linked_to_the_messages(
    received: &Received,
    acme: &mut Tenant,
) {
    acme.topics
        .create_topic(CreateTopicRequest {
            name: "news".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    for user in ["ann", "bob"] {
        acme.register_on(Platform::Android, user, &format!("fcm-{user}"))
            .await;
        acme.topics
            .subscribe(SubscribeRequest {
                topic: "news".into(),
                subscriber: Some(subscribe_request::Subscriber::UserId(user.into())),
            })
            .await
            .unwrap();
    }
    let trace_id = "5bf92f3577b34da6a3ce929d0e0e4737";
    let request = SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::Topic("news".into())),
        }),
        notification: Some(hello()),
        ..Default::default()
    };
    let sent = acme
        .notifications
        .send(traced(request, trace_id, "10f067aa0ba902b7"))
        .await
        .expect("send")
        .into_inner();
    acme.wait_settled(&sent.message_id).await;

    let page_and_sends = |spans: &[Span]| {
        let page = spans
            .iter()
            .find(|s| s.name == "router fanout page")
            .cloned();
        let sends: Vec<Span> = page
            .as_ref()
            .map(|page| {
                spans
                    .iter()
                    .filter(|s| s.name == "fcm request" && s.trace_id == page.trace_id)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        (page, sends)
    };
    let spans = received
        .wait(|spans| page_and_sends(spans).1.len() == 2)
        .await;
    let (page, sends) = page_and_sends(&spans);
    let page = page.expect("a fan-out page span");
    assert_ne!(
        hex(&page.trace_id),
        trace_id,
        "a page is a trace of its own"
    );
    assert!(
        page.parent_span_id.is_empty(),
        "the page's trace starts with it"
    );
    // It links to the message's trace, at the ingest span that published the message.
    let linked: Vec<(String, String)> = page
        .links
        .iter()
        .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
        .collect();
    let accepted = spans
        .iter()
        .find(|s| s.name == "ingest accept" && hex(&s.trace_id) == trace_id)
        .expect("ingest's span in the message's trace");
    assert_eq!(linked, [(trace_id.to_owned(), hex(&accepted.span_id))]);
    assert_eq!(
        sends.len(),
        2,
        "both devices' sends are in the page's trace"
    );
    // One page held both devices (the topic's devices source, empty, made no page span).
    let pages = spans
        .iter()
        .filter(|s| s.name == "router fanout page")
        .count();
    assert_eq!(pages, 1);
}
