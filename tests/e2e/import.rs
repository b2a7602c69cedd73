//! Bulk device import through the API: good rows are registered and subscribed, each bad row is
//! reported by its line and writes nothing; on SQLite and PostgreSQL.

use herald_e2e::{DbBackend, hello};
use herald_proto::v1::*;

fn row(line: u64, user: &str, platform: Platform, token: &str, topics: &[&str]) -> ImportRow {
    ImportRow {
        line,
        device: Some(RegisterDeviceRequest {
            user_id: user.into(),
            platform: platform as i32,
            push_token: token.into(),
            locale: "de-AT".into(),
            ..Default::default()
        }),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
    }
}

#[tokio::test]
async fn an_import_writes_the_good_rows_whole_and_reports_each_bad_row_by_line() {
    for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
        let stack = herald_e2e::Stack::start(backend).await;
        let mut acme = stack.tenant("acme").await;
        acme.topics
            .create_topic(CreateTopicRequest {
                name: "news".into(),
                description: String::new(),
            })
            .await
            .unwrap();
        // An existing device the import moves to another user.
        acme.register("old", "tok-2").await;
        let first = ImportDevicesRequest {
            rows: vec![
                row(2, "ann", Platform::Android, "tok-1", &["news"]),
                row(3, "bob", Platform::Android, "tok-2", &["news"]),
                // Not a hex APNs token.
                row(4, "cy", Platform::Ios, "not-hex", &["news"]),
            ],
            dry_run: false,
        };
        let second = ImportDevicesRequest {
            rows: vec![
                // A topic the tenant does not have: the device is not written either.
                row(5, "dee", Platform::Android, "tok-5", &["news", "weather"]),
                row(6, "eve", Platform::Huawei, "tok-6", &[]),
                // No line given: its place in the stream (6th row).
                row(0, "fay", Platform::Android, "", &[]),
            ],
            dry_run: false,
        };
        let outcome = acme
            .devices
            .import_devices(futures::stream::iter([first, second]))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (outcome.imported, outcome.created, outcome.error_count),
            (3, 2, 3)
        );
        let errors: Vec<(u64, &str)> = outcome
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect();
        assert_eq!(
            errors,
            [
                (4, "device.push_token"),
                (5, "topics[1]"),
                (6, "device.push_token")
            ]
        );
        assert!(
            outcome.errors[1].reason.contains("\"weather\" not found"),
            "{:?}",
            outcome.errors[1]
        );
        let tokens = stack
            .raw_text("SELECT push_token || ':' || COALESCE(user_id, '') || ':' || locale FROM devices ORDER BY push_token")
            .await;
        assert_eq!(
            tokens,
            ["tok-1:ann:de-AT", "tok-2:bob:de-AT", "tok-6:eve:de-AT"]
        );

        // The imported subscribers get the topic's sends.
        let sent = acme
            .send(destination::Kind::Topic("news".into()), hello())
            .await;
        let settled = acme.wait_settled(&sent.message_id).await;
        assert_eq!(settled.deliveries.len(), 2, "{settled:?}");

        // A dry run checks and writes nothing.
        let dry = acme
            .devices
            .import_devices(futures::stream::iter([ImportDevicesRequest {
                rows: vec![
                    row(1, "gus", Platform::Android, "tok-7", &["news"]),
                    row(2, "hal", Platform::Android, "", &[]),
                ],
                dry_run: true,
            }]))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((dry.imported, dry.created, dry.error_count), (1, 0, 1));
        assert_eq!(
            stack.raw_text("SELECT COUNT(*) FROM devices").await,
            vec!["3"]
        );
        stack.stop().await;
    }
}
