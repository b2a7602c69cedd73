//! Outbound webhooks, apart from where they are stored and queued: what an endpoint URL may be
//! ([`target`]), which addresses may never be reached ([`guard`], checked at the resolver),
//! the JSON body of an event ([`event`]), the signatures ([`sign`]: Standard Webhooks and the
//! seeds' `x-hub-signature`), how Herald authorizes itself ([`auth`], [`oauth`], [`digest`]), when an attempt is tried
//! again ([`policy`]), and the one HTTP client that posts ([`post`]).
#![forbid(unsafe_code)]

pub mod auth;
pub mod digest;
pub mod event;
pub mod guard;
pub mod keys;
pub mod oauth;
pub mod policy;
pub mod post;
pub mod sign;
pub mod sigv4;
pub mod target;

pub use auth::Auth;
pub use guard::Guard;
pub use keys::Secrets;
pub use policy::{Answer, RetryPolicy, Verdict};
pub use post::{Endpoint, Poster};
pub use sign::Secret;
