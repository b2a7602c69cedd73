//! CLI commands for audiences: topics and their subscriptions, segments, and customer profiles.

use anyhow::bail;
use herald_proto::client::AuthedChannel;
use herald_proto::v1::customers_client::CustomersClient;
use herald_proto::v1::topics_client::TopicsClient;
use herald_proto::v1::*;

#[derive(clap::Subcommand, Debug)]
pub enum TopicCommand {
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Topics with their subscription counts.
    List,
    Delete {
        name: String,
    },
    /// Subscribes a device, or a user (covering the user's devices, present and future).
    Subscribe {
        name: String,
        #[arg(long, group = "who", required = true)]
        user: Option<String>,
        #[arg(long, group = "who")]
        device: Option<String>,
    },
    Unsubscribe {
        name: String,
        #[arg(long, group = "who", required = true)]
        user: Option<String>,
        #[arg(long, group = "who")]
        device: Option<String>,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum SegmentCommand {
    /// A segment: an expression over topics and attributes, e.g.
    /// 'sports && (news || !weather) && platform == android'.
    Create {
        name: String,
        expression: String,
    },
    List,
    Delete {
        name: String,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum CustomerCommand {
    /// A customer profile under your id for the person.
    Create {
        customer_id: String,
        #[arg(long, default_value = "")]
        name: String,
        /// A language tag (de-AT).
        #[arg(long, default_value = "")]
        locale: String,
        /// An IANA time zone (Europe/Vienna).
        #[arg(long, default_value = "")]
        time_zone: String,
        /// A user id to link (repeatable).
        #[arg(long = "user")]
        users: Vec<String>,
        /// A custom attribute as key=value (repeatable).
        #[arg(long = "attr", value_parser = crate::cli::parse_pair)]
        attributes: Vec<(String, String)>,
        /// Another channel's identifier as channel=id, e.g. messenger=PSID (repeatable).
        #[arg(long = "identity", value_parser = crate::cli::parse_pair)]
        identities: Vec<(String, String)>,
    },
    Get {
        customer_id: String,
    },
    List,
    Delete {
        customer_id: String,
    },
    /// Links a user id to the customer.
    Link {
        customer_id: String,
        #[arg(long)]
        user: String,
    },
    Unlink {
        customer_id: String,
        #[arg(long)]
        user: String,
    },
    /// Sets the customer's preferences: no push at all, or none from the topics named.
    OptOut {
        customer_id: String,
        /// Opt out of push altogether (else only of --topic).
        #[arg(long)]
        all: bool,
        /// A topic to opt out of (repeatable; replaces the earlier list).
        #[arg(long = "topic")]
        topics: Vec<String>,
    },
}

pub async fn topic(channel: AuthedChannel, command: TopicCommand) -> anyhow::Result<()> {
    let mut topics = TopicsClient::new(channel);
    match command {
        TopicCommand::Create { name, description } => {
            let topic = topics
                .create_topic(CreateTopicRequest { name, description })
                .await?
                .into_inner();
            println!("created topic {}", topic.name);
        }
        TopicCommand::List => {
            let mut page_token = String::new();
            loop {
                let page = topics
                    .list_topics(ListTopicsRequest {
                        page_size: 1000,
                        page_token,
                    })
                    .await?
                    .into_inner();
                for t in &page.topics {
                    crate::output::show(t, |t| {
                        println!(
                            "{:<32} {:>8} subscriptions  {}",
                            t.name, t.subscriber_count, t.description
                        );
                    });
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
        TopicCommand::Delete { name } => {
            topics.delete_topic(DeleteTopicRequest { name }).await?;
            println!("deleted");
        }
        TopicCommand::Subscribe { name, user, device } => {
            let subscriber = match (user, device) {
                (Some(user), _) => subscribe_request::Subscriber::UserId(user),
                (_, Some(device)) => subscribe_request::Subscriber::DeviceId(device),
                _ => bail!("say who: --user or --device"),
            };
            topics
                .subscribe(SubscribeRequest {
                    topic: name.clone(),
                    subscriber: Some(subscriber),
                })
                .await?;
            println!("subscribed to {name}");
        }
        TopicCommand::Unsubscribe { name, user, device } => {
            let subscriber = match (user, device) {
                (Some(user), _) => unsubscribe_request::Subscriber::UserId(user),
                (_, Some(device)) => unsubscribe_request::Subscriber::DeviceId(device),
                _ => bail!("say who: --user or --device"),
            };
            topics
                .unsubscribe(UnsubscribeRequest {
                    topic: name.clone(),
                    subscriber: Some(subscriber),
                })
                .await?;
            println!("unsubscribed from {name}");
        }
    }
    Ok(())
}

pub async fn segment(channel: AuthedChannel, command: SegmentCommand) -> anyhow::Result<()> {
    let mut topics = TopicsClient::new(channel);
    match command {
        SegmentCommand::Create { name, expression } => {
            let segment = topics
                .create_segment(CreateSegmentRequest { name, expression })
                .await?
                .into_inner();
            println!("created segment {}: {}", segment.name, segment.expression);
        }
        SegmentCommand::List => {
            let mut page_token = String::new();
            loop {
                let page = topics
                    .list_segments(ListSegmentsRequest {
                        page_size: 100,
                        page_token,
                        with_audience_size: true,
                    })
                    .await?
                    .into_inner();
                for s in &page.segments {
                    crate::output::show(s, |s| {
                        println!(
                            "{:<32} {:>10} devices  {}",
                            s.name, s.audience_size, s.expression
                        );
                    });
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
        SegmentCommand::Delete { name } => {
            topics.delete_segment(DeleteSegmentRequest { name }).await?;
            println!("deleted");
        }
    }
    Ok(())
}

fn print_customer(c: &Customer) {
    crate::output::show(c, |c| {
        let preferences = c.preferences.clone().unwrap_or_default();
        println!(
            "customer {}  name {:?}  locale {:?}  time zone {:?}",
            c.customer_id, c.name, c.locale, c.time_zone
        );
        println!("  users: {}", c.user_ids.join(", "));
        for i in &c.identities {
            println!("  {}: {}", i.channel, i.id);
        }
        for (k, v) in &c.attributes {
            println!("  {k} = {v}");
        }
        println!(
            "  push opt-out: {}; opted out of topics: {}",
            preferences.push_opt_out,
            preferences.opted_out_topics.join(", ")
        );
    });
}

pub async fn customer(channel: AuthedChannel, command: CustomerCommand) -> anyhow::Result<()> {
    let mut customers = CustomersClient::new(channel);
    let shown = match command {
        CustomerCommand::Create {
            customer_id,
            name,
            locale,
            time_zone,
            users,
            attributes,
            identities,
        } => {
            customers
                .create_customer(CreateCustomerRequest {
                    customer: Some(Customer {
                        customer_id,
                        name,
                        locale,
                        time_zone,
                        user_ids: users,
                        attributes: attributes.into_iter().collect(),
                        identities: identities
                            .into_iter()
                            .map(|(channel, id)| ChannelIdentity { channel, id })
                            .collect(),
                        ..Default::default()
                    }),
                })
                .await?
        }
        CustomerCommand::Get { customer_id } => {
            customers
                .get_customer(GetCustomerRequest { customer_id })
                .await?
        }
        CustomerCommand::List => {
            let mut page_token = String::new();
            loop {
                let page = customers
                    .list_customers(ListCustomersRequest {
                        page_size: 1000,
                        page_token,
                    })
                    .await?
                    .into_inner();
                for c in &page.customers {
                    print_customer(c);
                }
                if page.next_page_token.is_empty() {
                    return Ok(());
                }
                page_token = page.next_page_token;
            }
        }
        CustomerCommand::Delete { customer_id } => {
            customers
                .delete_customer(DeleteCustomerRequest { customer_id })
                .await?;
            println!("deleted");
            return Ok(());
        }
        CustomerCommand::Link { customer_id, user } => {
            customers
                .link_user(LinkUserRequest {
                    customer_id,
                    user_id: user,
                })
                .await?
        }
        CustomerCommand::Unlink { customer_id, user } => {
            customers
                .unlink_user(UnlinkUserRequest {
                    customer_id,
                    user_id: user,
                })
                .await?
        }
        CustomerCommand::OptOut {
            customer_id,
            all,
            topics,
        } => {
            customers
                .update_customer(UpdateCustomerRequest {
                    customer: Some(Customer {
                        customer_id,
                        preferences: Some(CustomerPreferences {
                            push_opt_out: all,
                            opted_out_topics: topics,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["preferences".into()],
                    }),
                })
                .await?
        }
    };
    print_customer(&shown.into_inner());
    Ok(())
}
