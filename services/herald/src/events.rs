//! CLI commands for event-driven pushes: publish events and read their records, manage
//! triggers (the built-in call and message ones included), and users' mobile sessions.

use anyhow::Context as _;
use herald_core::names::Named as _;
use herald_proto::client::AuthedChannel;
use herald_proto::v1::events_client::EventsClient;
use herald_proto::v1::*;

#[derive(clap::Subcommand, Debug)]
pub enum EventCommand {
    /// Publishes an event; prints its id and what each trigger of its type made of it.
    Publish {
        /// e.g. missedCall, conversation.escalated.
        event_type: String,
        /// The event's values as a JSON object.
        #[arg(long, conflicts_with = "vars")]
        json: Option<String>,
        /// NAME=VALUE (repeat it; a dotted name nests: bot.id=b1).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Send to this user where a trigger has no destination of its own.
        #[arg(long)]
        user: Option<String>,
        /// A repeated key answers the first event.
        #[arg(long, default_value = "")]
        idempotency_key: String,
    },
    /// An event's record.
    Get { event_id: String },
    /// Events, newest first.
    List {
        #[arg(long = "type", default_value = "")]
        event_type: String,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum TriggerCommand {
    /// Creates a trigger: when an event of its type comes and its condition holds, its template
    /// goes to its destination.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        event_type: String,
        /// A CEL expression over the event's values, e.g. "bot.id == 'b1'".
        #[arg(long, default_value = "")]
        condition: String,
        /// The title; a template over the event and the recipient ({{ bot.name }}).
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        body: String,
        /// The user to send to, a template over the event ("{{ event.user_uuid }}"); unset:
        /// the event's destination.
        #[arg(long)]
        user: Option<String>,
        /// Only through these providers (repeat it): fcm, apns, webpush, hms.
        #[arg(long = "provider")]
        providers: Vec<String>,
        /// Reach the user through their mobile sessions only.
        #[arg(long)]
        mobile_sessions: bool,
        /// The class of the messages it sends (transactional: calls, codes).
        #[arg(long, value_enum)]
        class: Option<crate::cli::Class>,
    },
    /// The built-in triggers and the tenant's own.
    List,
    Get {
        trigger_id: String,
    },
    Enable {
        trigger_id: String,
    },
    Disable {
        trigger_id: String,
    },
    /// Deletes a trigger (a built-in one goes back to how it was shipped).
    Delete {
        trigger_id: String,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum MobileCommand {
    /// A user's mobile login: registers the app's device and opens a session through which
    /// the call and message triggers reach the user.
    Login {
        #[arg(long)]
        user: String,
        /// android, ios or huawei.
        #[arg(long)]
        platform: String,
        #[arg(long)]
        token: String,
        /// iOS: the app's PushKit VoIP token, for incoming calls.
        #[arg(long, default_value = "")]
        voip_token: String,
        #[arg(long)]
        sandbox: bool,
    },
    /// Ends a mobile session (the user's logout on that device).
    Logout { session_id: String },
    /// Mobile sessions, optionally of one user.
    List {
        #[arg(long, default_value = "")]
        user: String,
    },
}

fn print_outcomes(outcomes: &[TriggerOutcome]) {
    for o in outcomes {
        let verdict = if o.message_ids.is_empty() {
            if o.matched {
                "matched, sent nothing"
            } else {
                "not matched"
            }
        } else {
            "sent"
        };
        println!(
            "  {} ({}): {verdict}{}{}",
            o.trigger_id,
            o.display_name,
            if o.message_ids.is_empty() {
                String::new()
            } else {
                format!(" {}", o.message_ids.join(", "))
            },
            if o.reason.is_empty() {
                String::new()
            } else {
                format!(" — {}", o.reason)
            }
        );
    }
}

fn print_record(e: &EventRecord) {
    crate::output::show(e, |e| {
        println!(
            "event {} {} from {} ({} message(s)) {}",
            e.event_id,
            e.event_type,
            e.source,
            e.message_ids.len(),
            e.payload_json
        );
        print_outcomes(&e.outcomes);
    });
}

fn print_trigger(t: &Trigger) {
    crate::output::show(t, |t| {
        let template = t.template.clone().unwrap_or_default();
        println!(
            "{}  {}  on {}{}{}  {:?}{}",
            t.trigger_id,
            if t.enabled { "enabled " } else { "disabled" },
            t.event_type,
            if t.condition.is_empty() {
                String::new()
            } else {
                format!(" if {}", t.condition)
            },
            if t.builtin { " (built-in)" } else { "" },
            t.display_name,
            if template.title.is_empty() {
                String::new()
            } else {
                format!("  title {:?}", template.title)
            }
        );
    });
}

pub async fn event(channel: AuthedChannel, command: EventCommand) -> anyhow::Result<()> {
    let mut events = EventsClient::new(channel);
    match command {
        EventCommand::Publish {
            event_type,
            json,
            vars,
            user,
            idempotency_key,
        } => {
            let variables = vars
                .iter()
                .map(|v| {
                    v.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .with_context(|| format!("--var {v:?}: expected NAME=VALUE"))
                })
                .collect::<anyhow::Result<_>>()?;
            let published = events
                .publish_event(PublishEventRequest {
                    event_type,
                    variables,
                    destination: user.map(|u| Destination {
                        kind: Some(destination::Kind::UserId(u)),
                    }),
                    idempotency_key,
                    payload_json: json.unwrap_or_default(),
                })
                .await?
                .into_inner();
            crate::output::show(&published, |published| {
                println!(
                    "event {}{}: {} message(s)",
                    published.event_id,
                    if published.duplicate {
                        " (published before)"
                    } else {
                        ""
                    },
                    published.message_ids.len()
                );
            });
            print_outcomes(&published.outcomes);
        }
        EventCommand::Get { event_id } => {
            print_record(
                &events
                    .get_event(GetEventRequest { event_id })
                    .await?
                    .into_inner(),
            );
        }
        EventCommand::List { event_type } => {
            let listed = events
                .list_events(ListEventsRequest {
                    event_type,
                    ..Default::default()
                })
                .await?
                .into_inner();
            for e in &listed.events {
                print_record(e);
            }
        }
    }
    Ok(())
}

pub async fn trigger(channel: AuthedChannel, command: TriggerCommand) -> anyhow::Result<()> {
    let mut events = EventsClient::new(channel);
    let enable = |trigger_id: String, enabled: bool| UpdateTriggerRequest {
        trigger_id,
        enabled: Some(enabled),
        ..Default::default()
    };
    match command {
        TriggerCommand::Create {
            name,
            event_type,
            condition,
            title,
            body,
            user,
            providers,
            mobile_sessions,
            class,
        } => {
            let providers = providers
                .iter()
                .map(|p| {
                    Provider::from_name(p).map(|p| p as i32).with_context(|| {
                        format!("unknown provider {p:?} (fcm, apns, webpush, hms)")
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            let created = events
                .create_trigger(CreateTriggerRequest {
                    display_name: name,
                    event_type,
                    condition,
                    template: Some(Notification {
                        title,
                        body,
                        ..Default::default()
                    }),
                    providers,
                    destination: user.map(|u| Destination {
                        kind: Some(destination::Kind::UserId(u)),
                    }),
                    mobile_sessions,
                    disabled: false,
                    class: class.map_or(0, |c| c.proto() as i32),
                })
                .await?
                .into_inner();
            println!("created trigger {}", created.trigger_id);
        }
        TriggerCommand::List => {
            let listed = events
                .list_triggers(ListTriggersRequest::default())
                .await?
                .into_inner();
            for t in &listed.triggers {
                print_trigger(t);
            }
        }
        TriggerCommand::Get { trigger_id } => {
            let t = events
                .get_trigger(GetTriggerRequest { trigger_id })
                .await?
                .into_inner();
            print_trigger(&t);
        }
        TriggerCommand::Enable { trigger_id } => {
            print_trigger(
                &events
                    .update_trigger(enable(trigger_id, true))
                    .await?
                    .into_inner(),
            );
        }
        TriggerCommand::Disable { trigger_id } => {
            print_trigger(
                &events
                    .update_trigger(enable(trigger_id, false))
                    .await?
                    .into_inner(),
            );
        }
        TriggerCommand::Delete { trigger_id } => {
            events
                .delete_trigger(DeleteTriggerRequest {
                    trigger_id: trigger_id.clone(),
                })
                .await?;
            println!("deleted trigger {trigger_id}");
        }
    }
    Ok(())
}

pub async fn mobile(channel: AuthedChannel, command: MobileCommand) -> anyhow::Result<()> {
    let mut events = EventsClient::new(channel);
    match command {
        MobileCommand::Login {
            user,
            platform,
            token,
            voip_token,
            sandbox,
        } => {
            let platform = Platform::from_name(&platform)
                .with_context(|| format!("unknown platform {platform:?} (android, ios, huawei)"))?;
            let session = events
                .start_mobile_session(StartMobileSessionRequest {
                    user_id: user,
                    device: Some(RegisterDeviceRequest {
                        platform: platform as i32,
                        push_token: token,
                        sandbox,
                        ..Default::default()
                    }),
                    voip_token,
                })
                .await?
                .into_inner();
            crate::output::show(&session, |session| {
                println!(
                    "session {} for user {:?} on device {}{}",
                    session.session_id,
                    session.user_id,
                    session.device_id,
                    if session.voip_device_id.is_empty() {
                        String::new()
                    } else {
                        format!(" (VoIP device {})", session.voip_device_id)
                    }
                );
            });
        }
        MobileCommand::Logout { session_id } => {
            events
                .end_mobile_session(EndMobileSessionRequest {
                    session_id: session_id.clone(),
                })
                .await?;
            println!("ended session {session_id}");
        }
        MobileCommand::List { user } => {
            let listed = events
                .list_mobile_sessions(ListMobileSessionsRequest {
                    user_id: user,
                    ..Default::default()
                })
                .await?
                .into_inner();
            for s in &listed.sessions {
                crate::output::show(s, |s| {
                    println!(
                        "{}  user {:?}  device {}{}",
                        s.session_id,
                        s.user_id,
                        s.device_id,
                        if s.voip_device_id.is_empty() {
                            String::new()
                        } else {
                            format!("  VoIP device {}", s.voip_device_id)
                        }
                    );
                });
            }
        }
    }
    Ok(())
}
