//! `herald message scheduled | reschedule | cancel`: scheduled messages listed, moved and
//! cancelled, and a started message recalled, with what the recall could do for each delivery.

use herald_core::time::{now_ms, rfc3339};
use herald_proto::v1::notifications_client::NotificationsClient;
use herald_proto::v1::{
    CancelMessageRequest, ListScheduledMessagesRequest, Message, RecallAction,
    RescheduleMessageRequest,
};

use herald_proto::client::AuthedChannel;

/// One scheduled message on a line: its id, when it is due, its state.
fn print_scheduled(m: &Message) {
    crate::output::show(m, |m| {
        println!(
            "message {}  due {}  {}",
            m.message_id,
            rfc3339(m.send_at_ms),
            m.state().as_str_name().trim_start_matches("MESSAGE_STATE_")
        );
    });
}

/// Every scheduled message of the tenant, soonest first.
pub async fn list(mut client: NotificationsClient<AuthedChannel>) -> anyhow::Result<()> {
    let mut page_token = String::new();
    loop {
        let page = client
            .list_scheduled_messages(ListScheduledMessagesRequest {
                page_size: 0,
                page_token,
            })
            .await?
            .into_inner();
        page.messages.iter().for_each(print_scheduled);
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = page.next_page_token;
    }
}

/// Moves a scheduled message to `at` (RFC 3339, or `+15m` from now).
pub async fn reschedule(
    mut client: NotificationsClient<AuthedChannel>,
    message_id: String,
    at: &str,
) -> anyhow::Result<()> {
    let send_at_ms = herald_core::timing::instant("--at", at, now_ms())?;
    let moved = client
        .reschedule_message(RescheduleMessageRequest {
            message_id,
            send_at_ms,
        })
        .await?
        .into_inner();
    print_scheduled(&moved);
    Ok(())
}

/// Cancels a message (a scheduled one never starts; a started one is recalled).
pub async fn cancel(
    mut client: NotificationsClient<AuthedChannel>,
    message_id: String,
    remove_delivered: bool,
) -> anyhow::Result<()> {
    let answer = client
        .cancel_message(CancelMessageRequest {
            message_id,
            remove_delivered,
        })
        .await?
        .into_inner();
    crate::output::show(&answer, |answer| {
        let message = answer.message.clone().unwrap_or_default();
        println!(
            "message {}  {}  cancelled {}  in flight {}  already sent {}  already final {}",
            message.message_id,
            message
                .state()
                .as_str_name()
                .trim_start_matches("MESSAGE_STATE_"),
            answer.cancelled,
            answer.in_flight,
            answer.already_sent,
            answer.already_final
        );
        if !answer.removal_message_id.is_empty() {
            println!(
                "removal message {} goes to the devices already sent to",
                answer.removal_message_id
            );
        }
        for d in &answer.deliveries {
            println!(
                "  {}  device {}  {}",
                d.delivery_id,
                d.device_id,
                RecallAction::try_from(d.action)
                    .unwrap_or_default()
                    .as_str_name()
                    .trim_start_matches("RECALL_ACTION_")
            );
        }
    });
    Ok(())
}
