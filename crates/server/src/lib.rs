//! The HTTP face of ringfence: `ringfence serve`.
//!
//! A JSON API and a web dashboard over the same engines as the CLI. `GET /api/exposure`,
//! `/api/limits` and `/api/lint` return exactly the CLI's `--format json` bodies; `POST
//! /api/stress` runs a scenario through `ringfence-stress`; with a guard config the server also
//! runs the live guard (`ringfence-chain`'s watcher), pages its trips and alerts out of the store
//! (`GET /api/trips`) and streams new ones as server-sent events (`GET /api/events`). `GET
//! /metrics` speaks Prometheus, `GET /healthz` answers liveness, `GET /api/openapi.json` documents
//! every route (generated from the handlers, their typed bodies and the route table). Anything that changes state (reloading the spec, acknowledging a trip) needs
//! `Authorization: Bearer <RINGFENCE_API_TOKEN>`; un-pausing is never offered. The dashboard at
//! `/` is plain HTML, CSS and JavaScript compiled into the binary: no build step, no CDN, it works
//! offline.
//!
//! Errors are typed ([`ApiError`] for requests, [`Error`] for start-up) and mapped to responses
//! that say what is wrong with the request without leaking internals.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ringfence_server::{Config, Server};
//!
//! let server = Server::new(Config {
//!     spec: "examples/ecosystem.toml".into(),
//!     guard: None,
//!     api_token: std::env::var("RINGFENCE_API_TOKEN").ok(),
//! })?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, server.router()).await?;
//! # Ok(()) }
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod api;
mod auth;
mod body;
mod dashboard;
mod error;
mod guard;
mod metrics;
mod openapi;
mod routes;
mod server;
mod state;
mod stress;

pub use error::{ApiError, Error, Result};
pub use openapi::openapi_json;
pub use routes::{Access, ROUTES, Route};
pub use server::{Config, Server};
