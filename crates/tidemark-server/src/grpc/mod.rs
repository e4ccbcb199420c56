//! The gRPC side of the one port: the standard health service and Arrow Flight (InfluxDB 3's
//! DoGet tickets and Flight SQL).
//!
//! Like `http`, this module translates and decides nothing: tickets and metadata become a
//! [`Service`] call, its answer becomes Flight data, its errors become statuses through
//! `error.rs`.

mod bind;
mod flight;
mod sql;
mod ticket;

use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use axum::Router;
use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::service::Service;

/// The gRPC services as one router, with every service reported as serving.
pub(crate) async fn router(service: Arc<Service>) -> Router {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    reporter
        .set_serving::<FlightServiceServer<flight::Flight>>()
        .await;
    Routes::new(health)
        .add_service(FlightServiceServer::new(flight::Flight::new(service)))
        .into_axum_router()
}
