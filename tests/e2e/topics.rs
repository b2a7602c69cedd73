//! Topics through the API: create, list with counts, subscribe devices and users, unsubscribe,
//! delete; on SQLite and PostgreSQL.

use herald_e2e::{DbBackend, Tenant, hello};
use herald_proto::v1::*;
use tonic::Code;

async fn subscribe(t: &mut Tenant, topic: &str, who: subscribe_request::Subscriber) {
    t.topics
        .subscribe(SubscribeRequest {
            topic: topic.into(),
            subscriber: Some(who),
        })
        .await
        .unwrap_or_else(|e| panic!("subscribe to {topic}: {e}"));
}

async fn unsubscribe(t: &mut Tenant, topic: &str, who: unsubscribe_request::Subscriber) {
    t.topics
        .unsubscribe(UnsubscribeRequest {
            topic: topic.into(),
            subscriber: Some(who),
        })
        .await
        .unwrap_or_else(|e| panic!("unsubscribe from {topic}: {e}"));
}

async fn topics(t: &mut Tenant) -> Vec<(String, u64)> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = t
            .topics
            .list_topics(ListTopicsRequest {
                page_size: 1,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        all.extend(
            page.topics
                .into_iter()
                .map(|t| (t.name, t.subscriber_count)),
        );
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

fn counts(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

#[tokio::test]
async fn topics_are_created_listed_subscribed_and_deleted_per_tenant() {
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        let stack = herald_e2e::Stack::start(backend).await;
        let mut acme = stack.tenant("acme").await;
        let mut other = stack.tenant("other").await;

        let news = acme
            .topics
            .create_topic(CreateTopicRequest {
                name: "news".into(),
                description: "Breaking news".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (
                news.name.as_str(),
                news.description.as_str(),
                news.subscriber_count
            ),
            ("news", "Breaking news", 0)
        );
        let again = acme
            .topics
            .create_topic(CreateTopicRequest {
                name: "news".into(),
                description: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(again.code(), Code::AlreadyExists);
        let bad = acme
            .topics
            .create_topic(CreateTopicRequest {
                name: "two words".into(),
                description: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert!(bad.message().starts_with("name: "), "{}", bad.message());
        acme.topics
            .create_topic(CreateTopicRequest {
                name: "sports".into(),
                description: String::new(),
            })
            .await
            .unwrap();

        let alice = acme.register("alice", "tok-alice").await;
        let bob = acme.register("bob", "tok-bob").await;
        use subscribe_request::Subscriber as S;
        subscribe(&mut acme, "news", S::DeviceId(bob.device_id.clone())).await;
        subscribe(&mut acme, "news", S::DeviceId(bob.device_id.clone())).await;
        subscribe(&mut acme, "news", S::UserId("alice".into())).await;
        subscribe(&mut acme, "sports", S::DeviceId(alice.device_id.clone())).await;
        assert_eq!(
            topics(&mut acme).await,
            counts(&[("news", 2), ("sports", 1)])
        );

        // What cannot be subscribed is refused, naming why, and changes nothing.
        for (request, code, says) in [
            (
                SubscribeRequest {
                    topic: "weather".into(),
                    subscriber: Some(S::UserId("alice".into())),
                },
                Code::NotFound,
                "topic weather",
            ),
            (
                SubscribeRequest {
                    topic: "news".into(),
                    subscriber: Some(S::DeviceId("dev_nope".into())),
                },
                Code::NotFound,
                "device dev_nope",
            ),
            (
                SubscribeRequest {
                    topic: "news".into(),
                    subscriber: None,
                },
                Code::InvalidArgument,
                "subscriber: ",
            ),
            (
                SubscribeRequest {
                    topic: "news/eu".into(),
                    subscriber: Some(S::UserId("alice".into())),
                },
                Code::InvalidArgument,
                "topic: ",
            ),
        ] {
            let err = acme.topics.subscribe(request).await.unwrap_err();
            assert_eq!(err.code(), code, "{}", err.message());
            assert!(err.message().contains(says), "{}", err.message());
        }

        // Another tenant sees none of it and cannot reach it.
        assert!(topics(&mut other).await.is_empty());
        let err = other
            .topics
            .subscribe(SubscribeRequest {
                topic: "news".into(),
                subscriber: Some(S::UserId("alice".into())),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let err = other
            .topics
            .create_topic(CreateTopicRequest {
                name: "news".into(),
                description: String::new(),
            })
            .await
            .map(|created| created.into_inner().subscriber_count);
        assert_eq!(err.unwrap(), 0, "the same name is free in another tenant");

        use unsubscribe_request::Subscriber as U;
        unsubscribe(&mut acme, "news", U::UserId("alice".into())).await;
        unsubscribe(&mut acme, "news", U::UserId("alice".into())).await;
        assert_eq!(
            topics(&mut acme).await,
            counts(&[("news", 1), ("sports", 1)])
        );
        // An unregistered device leaves its topics.
        acme.devices
            .unregister_device(UnregisterDeviceRequest {
                device_id: bob.device_id.clone(),
            })
            .await
            .unwrap();
        assert_eq!(
            topics(&mut acme).await,
            counts(&[("news", 0), ("sports", 1)])
        );
        // and cannot join one again until it is registered again.
        let err = acme
            .topics
            .subscribe(SubscribeRequest {
                topic: "news".into(),
                subscriber: Some(S::DeviceId(bob.device_id.clone())),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());
        assert!(err.message().contains("unsubscribed"), "{}", err.message());

        acme.topics
            .delete_topic(DeleteTopicRequest {
                name: "sports".into(),
            })
            .await
            .unwrap();
        assert_eq!(topics(&mut acme).await, counts(&[("news", 0)]));
        let gone = acme
            .topics
            .delete_topic(DeleteTopicRequest {
                name: "sports".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(gone.code(), Code::NotFound);
        // A topic made again under the old name starts without the old subscribers.
        let remade = acme
            .topics
            .create_topic(CreateTopicRequest {
                name: "sports".into(),
                description: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(remade.subscriber_count, 0);
        stack.stop().await;
    }
}

#[tokio::test]
async fn a_send_to_a_topic_reaches_every_active_subscriber_once_page_by_page() {
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        // Two devices a page, so the audience takes several pages of both sources.
        let stack = herald_e2e::Stack::start_tuned(backend, 1, |s| s.router.fanout_page = 2).await;
        let mut acme = stack.tenant("acme").await;
        for topic in ["news", "sports"] {
            acme.topics
                .create_topic(CreateTopicRequest {
                    name: topic.into(),
                    description: String::new(),
                })
                .await
                .unwrap();
        }
        use subscribe_request::Subscriber as S;
        // Devices subscribed themselves.
        for n in 0..5 {
            let d = acme
                .register(&format!("solo{n}"), &format!("tok-solo{n}"))
                .await;
            subscribe(&mut acme, "news", S::DeviceId(d.device_id)).await;
        }
        // A user subscribed: both devices, one registered after the subscription.
        acme.register("bob", "tok-bob1").await;
        subscribe(&mut acme, "news", S::UserId("bob".into())).await;
        acme.register("bob", "tok-bob2").await;
        // Subscribed twice over (the device and its user): one delivery.
        let carl = acme.register("carl", "tok-carl").await;
        subscribe(&mut acme, "news", S::DeviceId(carl.device_id)).await;
        subscribe(&mut acme, "news", S::UserId("carl".into())).await;
        // A subscribed user's unregistered device, and a user not subscribed: none.
        let gone = acme.register("dan", "tok-dan").await;
        subscribe(&mut acme, "news", S::UserId("dan".into())).await;
        acme.devices
            .unregister_device(UnregisterDeviceRequest {
                device_id: gone.device_id,
            })
            .await
            .unwrap();
        acme.register("eve", "tok-eve").await;

        let sent = acme
            .send(destination::Kind::Topic("news".into()), hello())
            .await;
        let settled = acme.wait_settled(&sent.message_id).await;
        assert_eq!(
            settled.message.as_ref().unwrap().state(),
            MessageState::Submitted,
            "{settled:?}"
        );
        assert_eq!(settled.deliveries.len(), 8);
        let mut expected: Vec<String> = (0..5).map(|n| format!("tok-solo{n}")).collect();
        expected.extend(["tok-bob1", "tok-bob2", "tok-carl"].map(String::from));
        expected.sort();
        assert_eq!(stack.fcm_tokens(), expected);
        assert_eq!(
            stack.raw_text("SELECT COUNT(*) FROM fanouts").await,
            vec!["0"],
            "the checkpoint goes once the fan-out is done"
        );

        // A topic without active subscribers fails, saying so.
        let failed = acme
            .settled(destination::Kind::Topic("sports".into()))
            .await;
        assert_eq!(
            (failed.state(), failed.reason.as_str()),
            (
                MessageState::Failed,
                "topic \"sports\" has no active subscribers"
            )
        );

        // With topic messaging disabled for the tenant, a send to a topic is a policy failure.
        let disabled = TenantSettings {
            topic_messaging_disabled: true,
            ..Default::default()
        };
        let refused = stack
            .refused_after(
                &mut acme,
                disabled,
                "settings.topic_messaging_disabled",
                destination::Kind::Topic("news".into()),
            )
            .await;
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(
            refused.message().contains("topic messaging is disabled"),
            "{}",
            refused.message()
        );
        stack.stop().await;
    }
}
