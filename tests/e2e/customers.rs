//! Customer profiles through the API: profiles with linked users, identities, attributes and
//! preferences; a customer destination reaching every linked user's devices; opt-outs as policy
//! failures and as exclusions from topics; on SQLite and PostgreSQL.

use herald_e2e::{DbBackend, hello};
use herald_proto::v1::*;
use tonic::Code;

fn profile(id: &str, users: &[&str]) -> Customer {
    Customer {
        customer_id: id.into(),
        name: "Ann Example".into(),
        locale: "de-AT".into(),
        time_zone: "Europe/Vienna".into(),
        attributes: [("tier".to_owned(), "gold".to_owned())].into(),
        user_ids: users.iter().map(|u| (*u).to_owned()).collect(),
        identities: vec![ChannelIdentity {
            channel: "messenger".into(),
            id: "psid-123".into(),
        }],
        ..Default::default()
    }
}

fn to_customer(id: &str) -> SendRequest {
    SendRequest {
        destination: Some(Destination {
            kind: Some(destination::Kind::CustomerId(id.into())),
        }),
        notification: Some(hello()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_customer_reaches_every_linked_users_devices_and_its_preferences_hold() {
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        let stack = herald_e2e::Stack::start(backend).await;
        let mut acme = stack.tenant("acme").await;
        acme.register("ann-app", "tok-ann-phone").await;
        acme.register("ann-web", "tok-ann-tablet").await;
        acme.register("bob", "tok-bob").await;

        let created = acme
            .customers
            .create_customer(CreateCustomerRequest {
                customer: Some(profile("crm-42", &["ann-app"])),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(created.user_ids, ["ann-app"]);
        assert_eq!(created.identities[0].id, "psid-123");
        let again = acme
            .customers
            .create_customer(CreateCustomerRequest {
                customer: Some(profile("crm-42", &[])),
            })
            .await
            .unwrap_err();
        assert_eq!(again.code(), Code::AlreadyExists);
        let bad = acme
            .customers
            .create_customer(CreateCustomerRequest {
                customer: Some(Customer {
                    time_zone: "Vienna Time".into(),
                    ..profile("crm-43", &[])
                }),
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert!(
            bad.message().starts_with("customer.time_zone: "),
            "{}",
            bad.message()
        );

        let linked = acme
            .customers
            .link_user(LinkUserRequest {
                customer_id: "crm-42".into(),
                user_id: "ann-web".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(linked.user_ids, ["ann-app", "ann-web"]);

        // The customer destination: both linked users' devices, not bob's.
        let sent = acme
            .notifications
            .send(to_customer("$(who)"))
            .await
            .map(|_| ())
            .unwrap_err();
        assert_eq!(sent.code(), Code::InvalidArgument, "an undefined variable");
        let sent = acme
            .notifications
            .send(SendRequest {
                variables: [("who".to_owned(), "crm-42".to_owned())].into(),
                ..to_customer("$(who)")
            })
            .await
            .unwrap()
            .into_inner();
        let settled = acme.wait_settled(&sent.message_id).await;
        assert_eq!(settled.deliveries.len(), 2, "{settled:?}");
        let tokens = stack.fcm_tokens();
        assert_eq!(tokens, ["tok-ann-phone", "tok-ann-tablet"]);

        // An unknown customer is named.
        let unknown = acme
            .notifications
            .send(to_customer("crm-0"))
            .await
            .unwrap_err();
        assert_eq!(
            (unknown.code(), unknown.message()),
            (Code::NotFound, "customer \"crm-0\" not found")
        );

        // Opted out of one topic: that topic's sends leave the customer's devices out.
        acme.topics
            .create_topic(CreateTopicRequest {
                name: "deals".into(),
                description: String::new(),
            })
            .await
            .unwrap();
        for user in ["ann-app", "bob"] {
            acme.topics
                .subscribe(SubscribeRequest {
                    topic: "deals".into(),
                    subscriber: Some(subscribe_request::Subscriber::UserId(user.into())),
                })
                .await
                .unwrap();
        }
        let update = |preferences: CustomerPreferences, path: &str| UpdateCustomerRequest {
            customer: Some(Customer {
                customer_id: "crm-42".into(),
                preferences: Some(preferences),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec![path.into()],
            }),
        };
        let changed = acme
            .customers
            .update_customer(update(
                CustomerPreferences {
                    push_opt_out: false,
                    opted_out_topics: vec!["deals".into()],
                    ..Default::default()
                },
                "preferences.opted_out_topics",
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(changed.name, "Ann Example", "fields outside the mask stay");
        assert_eq!(changed.preferences.unwrap().opted_out_topics, ["deals"]);
        let deal = acme
            .send(destination::Kind::Topic("deals".into()), hello())
            .await;
        let settled = acme.wait_settled(&deal.message_id).await;
        assert_eq!(settled.deliveries.len(), 1, "bob only: {settled:?}");

        // Opted out of push: a send to the customer is a policy failure.
        acme.customers
            .update_customer(update(
                CustomerPreferences {
                    push_opt_out: true,
                    opted_out_topics: Vec::new(),
                    ..Default::default()
                },
                "preferences.push_opt_out",
            ))
            .await
            .unwrap();
        let refused = acme
            .notifications
            .send(to_customer("crm-42"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(
            refused.message().contains("opted out"),
            "{}",
            refused.message()
        );

        // Unlink, list, delete.
        let unlinked = acme
            .customers
            .unlink_user(UnlinkUserRequest {
                customer_id: "crm-42".into(),
                user_id: "ann-web".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(unlinked.user_ids, ["ann-app"]);
        let listed = acme
            .customers
            .list_customers(ListCustomersRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.customers.len(), 1);
        assert_eq!(listed.customers[0].attributes["tier"], "gold");
        acme.customers
            .delete_customer(DeleteCustomerRequest {
                customer_id: "crm-42".into(),
            })
            .await
            .unwrap();
        let gone = acme
            .customers
            .get_customer(GetCustomerRequest {
                customer_id: "crm-42".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(gone.code(), Code::NotFound);
        stack.stop().await;
    }
}
