//! The topics API: create, delete and list topics, subscribe and unsubscribe devices and
//! users; create, delete and list segments (expressions over topics and attributes).

use herald_core::Error;
use herald_core::names::Named as _;
use herald_core::segments;
use herald_core::topics::{self, Subscriber};
use herald_proto::v1::topics_server::Topics;
use herald_proto::v1::*;
use herald_store::{SegmentRecord, Subscription, TopicRecord};
use tonic::{Request, Response, Status};

use crate::Api;
use crate::pages::Page;

fn topic(record: TopicRecord) -> Topic {
    Topic {
        name: record.name,
        description: record.description,
        subscriber_count: record.subscriber_count,
    }
}

fn segment(record: SegmentRecord) -> Segment {
    Segment {
        name: record.name,
        expression: record.expression,
        audience_size: 0,
    }
}

impl Api {
    /// Subscribes or unsubscribes the device or user a request names (a device must be the
    /// tenant's) to `topic`.
    async fn change_subscription(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        topic: &str,
        (device, user): (Option<&str>, Option<&str>),
        subscribe: bool,
    ) -> Result<(), Status> {
        let tenant = self.tenant(metadata).await?;
        topics::name("topic", topic)?;
        let who = topics::subscriber(device, user)?;
        // Only an active device joins a topic: one unsubscribed or refused by its provider
        // must be registered again first.
        if let Subscriber::Device(id) = &who
            && subscribe
        {
            let device = self
                .store
                .get_device(&tenant, id)
                .await
                .map_err(Error::from)?
                .ok_or_else(|| Error::NotFound(format!("device {id}")))?;
            if !device.is_active() {
                return Err(Error::FailedPrecondition(format!(
                    "device {id} is {}: register it again before subscribing it",
                    device.state.name()
                ))
                .into());
            }
        }
        let outcome = if subscribe {
            self.store.subscribe(&tenant, topic, &who).await
        } else {
            self.store.unsubscribe(&tenant, topic, &who).await
        };
        match outcome.map_err(Error::from)? {
            Subscription::NoTopic => Err(Error::NotFound(format!("topic {topic}")).into()),
            Subscription::Changed | Subscription::Unchanged => Ok(()),
        }
    }
}

#[tonic::async_trait]
impl Topics for Api {
    #[tracing::instrument(skip_all)]
    async fn create_topic(
        &self,
        request: Request<CreateTopicRequest>,
    ) -> Result<Response<Topic>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        topics::new_topic(&req.name, &req.description)?;
        let created = self
            .store
            .create_topic(&tenant, &req.name, &req.description)
            .await
            .map_err(Error::from)?;
        let Some(record) = created else {
            return Err(Status::already_exists(format!(
                "topic {} already exists",
                req.name
            )));
        };
        tracing::info!(tenant_id = %tenant, topic = %record.name, "topic created");
        Ok(Response::new(topic(record)))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_topic(
        &self,
        request: Request<DeleteTopicRequest>,
    ) -> Result<Response<DeleteTopicResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let name = &request.get_ref().name;
        topics::name("name", name)?;
        if !self
            .store
            .delete_topic(&tenant, name)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("topic {name}")).into());
        }
        tracing::info!(tenant_id = %tenant, topic = %name, "topic deleted");
        Ok(Response::new(DeleteTopicResponse {}))
    }

    async fn list_topics(
        &self,
        request: Request<ListTopicsRequest>,
    ) -> Result<Response<ListTopicsResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let page = Page::read(
            &self.config.master_key,
            format!("topics/{tenant}"),
            req.page_size,
            &req.page_token,
        )?;
        let records = self
            .store
            .list_topics(&tenant, page.after.as_deref(), page.limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListTopicsResponse {
            next_page_token: page.next_token(&records, |t| t.name.clone()),
            topics: records.into_iter().map(topic).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<SubscribeResponse>, Status> {
        use subscribe_request::Subscriber as S;
        let req = request.get_ref();
        let who = match &req.subscriber {
            Some(S::DeviceId(device)) => (Some(device.as_str()), None),
            Some(S::UserId(user)) => (None, Some(user.as_str())),
            None => (None, None),
        };
        self.change_subscription(request.metadata(), &req.topic, who, true)
            .await?;
        Ok(Response::new(SubscribeResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn unsubscribe(
        &self,
        request: Request<UnsubscribeRequest>,
    ) -> Result<Response<UnsubscribeResponse>, Status> {
        use unsubscribe_request::Subscriber as S;
        let req = request.get_ref();
        let who = match &req.subscriber {
            Some(S::DeviceId(device)) => (Some(device.as_str()), None),
            Some(S::UserId(user)) => (None, Some(user.as_str())),
            None => (None, None),
        };
        self.change_subscription(request.metadata(), &req.topic, who, false)
            .await?;
        Ok(Response::new(UnsubscribeResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn create_segment(
        &self,
        request: Request<CreateSegmentRequest>,
    ) -> Result<Response<Segment>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        segments::name("name", &req.name)?;
        let expr = segments::parse("expression", &req.expression)?;
        // The topics it names must exist (a typo would otherwise match no one, silently).
        for topic in segments::topics(&expr) {
            if !self
                .store
                .topic_exists(&tenant, topic)
                .await
                .map_err(Error::from)?
            {
                return Err(
                    Error::invalid("expression", format!("topic {topic:?} not found")).into(),
                );
            }
        }
        let created = self
            .store
            .create_segment(&tenant, &req.name, &req.expression)
            .await
            .map_err(Error::from)?;
        let Some(record) = created else {
            return Err(Status::already_exists(format!(
                "segment {} already exists",
                req.name
            )));
        };
        tracing::info!(tenant_id = %tenant, segment = %record.name, "segment created");
        Ok(Response::new(segment(record)))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_segment(
        &self,
        request: Request<DeleteSegmentRequest>,
    ) -> Result<Response<DeleteSegmentResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let name = &request.get_ref().name;
        segments::name("name", name)?;
        if !self
            .store
            .delete_segment(&tenant, name)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound(format!("segment {name}")).into());
        }
        tracing::info!(tenant_id = %tenant, segment = %name, "segment deleted");
        Ok(Response::new(DeleteSegmentResponse {}))
    }

    async fn list_segments(
        &self,
        request: Request<ListSegmentsRequest>,
    ) -> Result<Response<ListSegmentsResponse>, Status> {
        let tenant = self.tenant(request.metadata()).await?;
        let req = request.get_ref();
        let page = Page::read(
            &self.config.master_key,
            format!("segments/{tenant}"),
            req.page_size,
            &req.page_token,
        )?;
        let records = self
            .store
            .list_segments(&tenant, page.after.as_deref(), page.limit)
            .await
            .map_err(Error::from)?;
        let next_page_token = page.next_token(&records, |s| s.name.clone());
        let mut segments: Vec<Segment> = records.into_iter().map(segment).collect();
        if req.with_audience_size {
            for segment in &mut segments {
                segment.audience_size = self.segment_size(&tenant, &segment.expression).await?;
            }
        }
        Ok(Response::new(ListSegmentsResponse {
            next_page_token,
            segments,
        }))
    }
}
