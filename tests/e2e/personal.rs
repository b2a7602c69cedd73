//! Personal content through the API: `{{ … }}` templates rendered per recipient with the user's,
//! the customer's and the request's values, and language variants chosen by each device's
//! locale (de-AT → de → the message's own); on SQLite and PostgreSQL.

use std::collections::BTreeMap;

use herald_e2e::{DbBackend, Tenant};
use herald_proto::v1::*;
use tonic::Code;

async fn device(t: &mut Tenant, user: &str, token: &str, locale: &str) {
    t.register_with(user, token, locale, "").await;
    t.topics
        .subscribe(SubscribeRequest {
            topic: "all".into(),
            subscriber: Some(subscribe_request::Subscriber::UserId(user.into())),
        })
        .await
        .unwrap();
}

async fn customer(t: &mut Tenant, id: &str, name: &str, locale: &str, user: &str) {
    t.customers
        .create_customer(CreateCustomerRequest {
            customer: Some(Customer {
                customer_id: id.into(),
                name: name.into(),
                locale: locale.into(),
                attributes: [("tier".to_owned(), "gold".to_owned())].into(),
                user_ids: vec![user.into()],
                ..Default::default()
            }),
        })
        .await
        .unwrap();
}

fn variant(title: &str) -> LocalizedTexts {
    LocalizedTexts {
        title: title.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn each_recipient_gets_its_language_and_its_own_values() {
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        let stack = herald_e2e::Stack::start(backend).await;
        let mut acme = stack.tenant("acme").await;
        acme.topics
            .create_topic(CreateTopicRequest {
                name: "all".into(),
                description: String::new(),
            })
            .await
            .unwrap();
        device(&mut acme, "ann", "tok-ann", "de-AT").await;
        device(&mut acme, "bob", "tok-bob", "de-CH").await;
        device(&mut acme, "cy", "tok-cy", "").await;
        device(&mut acme, "dee", "tok-dee", "es").await;
        customer(&mut acme, "crm-ann", "Ann", "de-AT", "ann").await;
        customer(&mut acme, "crm-cy", "Cy", "fr", "cy").await;

        let notification = Notification {
            title: "Hello {{ user.name | default(\"there\") }}".into(),
            body:
                "Code {{ vars.code }} for {{ customer.attributes.tier | default(\"you\") | upper }}"
                    .into(),
            data: [("who".to_owned(), "{{ user.id }}".to_owned())].into(),
            localizations: BTreeMap::from([
                (
                    "de".to_owned(),
                    variant("Hallo {{ user.name | default(\"du\") }}"),
                ),
                ("de-AT".to_owned(), variant("Servus {{ user.name }}")),
                ("fr".to_owned(), variant("Bonjour {{ customer.name }}")),
            ]),
            ..Default::default()
        };
        let sent = acme
            .notifications
            .send(SendRequest {
                destination: Some(Destination {
                    kind: Some(destination::Kind::Topic("all".into())),
                }),
                notification: Some(notification.clone()),
                variables: [("code".to_owned(), "X1".to_owned())].into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        acme.wait_settled(&sent.message_id).await;
        let mut got: Vec<(String, String, String, String)> = stack
            .mocks
            .fcm
            .received()
            .iter()
            .map(|p| {
                let m = &p.body["message"];
                let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
                (
                    p.token.clone(),
                    text(&m["notification"]["title"]),
                    text(&m["notification"]["body"]),
                    text(&m["data"]["who"]),
                )
            })
            .collect();
        got.sort();
        let row = |t: &str, title: &str, body: &str, who: &str| {
            (
                t.to_owned(),
                title.to_owned(),
                body.to_owned(),
                who.to_owned(),
            )
        };
        assert_eq!(
            got,
            [
                row("tok-ann", "Servus Ann", "Code X1 for GOLD", "ann"),
                row("tok-bob", "Hallo du", "Code X1 for YOU", "bob"),
                // No locale of its own: the customer's (fr).
                row("tok-cy", "Bonjour Cy", "Code X1 for GOLD", "cy"),
                // es has no variant: the message's own texts.
                row("tok-dee", "Hello there", "Code X1 for YOU", "dee"),
            ]
        );

        // A template that does not compile is refused at ingest with its position.
        let broken = acme
            .notifications
            .send(SendRequest {
                destination: Some(Destination {
                    kind: Some(destination::Kind::Topic("all".into())),
                }),
                notification: Some(Notification {
                    title: "Hi {{ user.name ".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(broken.code(), Code::InvalidArgument);
        assert!(
            broken
                .message()
                .starts_with("notification.title: template error at line 1, column"),
            "{}",
            broken.message()
        );
        stack.stop().await;
    }
}
