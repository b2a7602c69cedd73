//! End-to-end tests through Herald's public gRPC API.

mod android;
mod api;
mod auth;
mod customers;
mod delivery;
mod devices;
mod durability;
mod events;
mod import;
mod ios;
mod operate;
mod personal;
mod policy;
mod push_ids;
mod reliability;
mod reports;
mod rest;
mod segments;
mod send_test;
mod stats;
mod topics;
mod traces;
mod validation;
mod web;
mod webhooks;
