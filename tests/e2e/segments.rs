//! Segments through the API: expressions over topics (AND/OR/NOT) and device and customer
//! attributes, evaluated by the database when a notification goes to the segment; parse errors
//! with their position; the tenant's segment-messaging policy; on SQLite and PostgreSQL.

use herald_e2e::{DbBackend, Tenant, hello};
use herald_proto::v1::*;
use tonic::Code;

async fn device(t: &mut Tenant, user: &str, token: &str, locale: &str, version: &str) -> String {
    t.register_with(user, token, locale, version)
        .await
        .device_id
}

async fn subscribe(t: &mut Tenant, topic: &str, who: subscribe_request::Subscriber) {
    t.topics
        .subscribe(SubscribeRequest {
            topic: topic.into(),
            subscriber: Some(who),
        })
        .await
        .unwrap();
}

async fn segment(t: &mut Tenant, name: &str, expression: &str) -> Result<Segment, tonic::Status> {
    t.topics
        .create_segment(CreateSegmentRequest {
            name: name.into(),
            expression: expression.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The devices a send to `segment` reached, sorted.
async fn reached(t: &mut Tenant, segment: &str) -> Vec<String> {
    let sent = t
        .send(destination::Kind::Segment(segment.into()), hello())
        .await;
    let settled = t.wait_settled(&sent.message_id).await;
    let mut devices: Vec<String> = settled
        .deliveries
        .iter()
        .map(|d| d.device_id.clone())
        .collect();
    devices.sort();
    devices
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn a_segment_reaches_the_devices_its_expression_holds_for() {
    use subscribe_request::Subscriber as S;
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        let stack = herald_e2e::Stack::start(backend).await;
        let mut acme = stack.tenant("acme").await;
        for topic in ["sports", "news", "weather"] {
            acme.topics
                .create_topic(CreateTopicRequest {
                    name: topic.into(),
                    description: String::new(),
                })
                .await
                .unwrap();
        }
        // ann: sports only. bob (as a user): sports and weather. cy: all three. dee: news.
        let ann = device(&mut acme, "ann", "tok-ann", "de-AT", "2.10.0").await;
        let bob = device(&mut acme, "bob", "tok-bob", "de", "2.8").await;
        let cy = device(&mut acme, "cy", "tok-cy", "fr-FR", "3.0").await;
        let dee = device(&mut acme, "dee", "tok-dee", "", "1.0").await;
        subscribe(&mut acme, "sports", S::DeviceId(ann.clone())).await;
        for topic in ["sports", "weather"] {
            subscribe(&mut acme, topic, S::UserId("bob".into())).await;
        }
        for topic in ["sports", "news", "weather"] {
            subscribe(&mut acme, topic, S::DeviceId(cy.clone())).await;
        }
        subscribe(&mut acme, "news", S::DeviceId(dee.clone())).await;
        // dee's customer profile: German, a gold customer.
        acme.customers
            .create_customer(CreateCustomerRequest {
                customer: Some(Customer {
                    customer_id: "crm-dee".into(),
                    locale: "de-CH".into(),
                    attributes: [("tier".to_owned(), "gold".to_owned())].into(),
                    user_ids: vec!["dee".into()],
                    ..Default::default()
                }),
            })
            .await
            .unwrap();

        let created = segment(&mut acme, "fans", "sports && (news || !weather)")
            .await
            .unwrap();
        assert_eq!(created.expression, "sports && (news || !weather)");
        assert_eq!(
            reached(&mut acme, "fans").await,
            sorted(vec![ann.clone(), cy.clone()])
        );

        // Versions compare as versions (2.10 > 2.9); a locale matches within its language, the
        // customer's locale standing in for a device without one.
        segment(
            &mut acme,
            "de_new",
            "locale == de && app_version >= \"2.9\"",
        )
        .await
        .unwrap();
        assert_eq!(reached(&mut acme, "de_new").await, vec![ann.clone()]);
        segment(&mut acme, "german", "locale == \"de\" && !platform == web")
            .await
            .unwrap();
        assert_eq!(
            reached(&mut acme, "german").await,
            sorted(vec![ann.clone(), bob.clone(), dee.clone()])
        );
        // A customer attribute, or a push in the last day (ann and cy were reached above, bob
        // too). When a push last reached a device is noted a moment after its receipt.
        for device_id in [&ann, &bob, &cy] {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                if acme.device(device_id).await.last_active_at_ms > 0 {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{device_id} was never noted as reached"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        segment(
            &mut acme,
            "warm",
            "customer.tier == \"gold\" || last_active within 1d",
        )
        .await
        .unwrap();
        assert_eq!(
            reached(&mut acme, "warm").await,
            sorted(vec![ann.clone(), bob.clone(), cy.clone(), dee.clone()])
        );
        segment(&mut acme, "gold", "customer.tier == gold")
            .await
            .unwrap();
        assert_eq!(reached(&mut acme, "gold").await, vec![dee.clone()]);

        // Errors point at their position; an unknown topic is named; nothing is stored.
        for (expression, says) in [
            (
                "sports && (news",
                "expression: at column 16: expected && or ) or ||",
            ),
            (
                "platform == pager",
                "expression: at column 13: \"pager\" is not a platform",
            ),
            ("sports && golf", "expression: topic \"golf\" not found"),
        ] {
            let err = segment(&mut acme, "bad", expression).await.unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
            assert!(err.message().starts_with(says), "{}", err.message());
        }
        let again = segment(&mut acme, "fans", "news").await.unwrap_err();
        assert_eq!(again.code(), Code::AlreadyExists);
        let listed = acme
            .topics
            .list_segments(ListSegmentsRequest::default())
            .await
            .unwrap()
            .into_inner();
        let names: Vec<&str> = listed.segments.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["de_new", "fans", "german", "gold", "warm"]);
        assert!(listed.segments.iter().all(|s| s.audience_size == 0));
        // Asked for, each segment says how many devices it matches now.
        let sized = acme
            .topics
            .list_segments(ListSegmentsRequest {
                with_audience_size: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let size = |name: &str| {
            sized
                .segments
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.audience_size)
        };
        assert_eq!((size("warm"), size("gold")), (Some(4), Some(1)));

        // A segment nobody matches fails, saying so.
        segment(&mut acme, "nobody", "news && weather && !sports")
            .await
            .unwrap();
        let failed = acme
            .settled(destination::Kind::Segment("nobody".into()))
            .await;
        assert_eq!(
            (failed.state(), failed.reason.as_str()),
            (
                MessageState::Failed,
                "segment \"nobody\" matches no active device"
            )
        );

        // With segment messaging disabled for the tenant: a policy failure.
        let disabled = TenantSettings {
            segment_messaging_disabled: true,
            ..Default::default()
        };
        let refused = stack
            .refused_after(
                &mut acme,
                disabled,
                "settings.segment_messaging_disabled",
                destination::Kind::Segment("fans".into()),
            )
            .await;
        assert_eq!(refused.code(), Code::FailedPrecondition);
        acme.topics
            .delete_segment(DeleteSegmentRequest {
                name: "fans".into(),
            })
            .await
            .unwrap();
        stack.stop().await;
    }
}
