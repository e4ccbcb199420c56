//! The gRPC side of the one port: for now the standard health service; Arrow Flight joins it.

use axum::Router;
use tonic::service::Routes;
use tonic_health::ServingStatus;

/// The gRPC services as one router, with every service reported as serving.
pub(crate) async fn router() -> Router {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    Routes::new(health).into_axum_router()
}
