//! The Flight service: InfluxDB 3's JSON tickets on DoGet, everything else Flight SQL.
//!
//! arrow-flight's Flight SQL dispatch decodes every ticket as protobuf, which a JSON ticket is
//! not, so this thin layer looks at DoGet tickets first and hands the rest on unchanged.

use std::pin::Pin;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, PollInfo,
    SchemaResult, Ticket,
};
use futures::{Stream, TryStreamExt};
use tidemark_query::QueryOutput;
use tonic::{Request, Response, Status, Streaming};

use super::sql::FlightSql;
use super::ticket;
use crate::error::Error;
use crate::service::{Query, Service};

pub(crate) type DoGetStream =
    Pin<Box<dyn Stream<Item = Result<FlightData, Status>> + Send + 'static>>;

/// Query results as Flight data. Dictionaries (tags) are sent as plain strings, the
/// encoder's default, as InfluxDB 3 sends them.
pub(crate) fn encode(output: QueryOutput) -> DoGetStream {
    let batches = output
        .stream
        .map_err(|e| FlightError::Tonic(Box::new(Status::from(Error::from(e)))));
    let data = FlightDataEncoderBuilder::new()
        .with_schema(output.schema)
        .build(batches)
        .map_err(Status::from);
    Box::pin(data)
}

/// One batch (a Flight SQL catalog answer) as Flight data.
pub(crate) fn encode_batch(schema: SchemaRef, batch: RecordBatch) -> DoGetStream {
    let data = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::iter([Ok(batch)]))
        .map_err(Status::from);
    Box::pin(data)
}

/// The Flight service on the one port.
#[derive(Debug, Clone)]
pub(crate) struct Flight {
    sql: FlightSql,
}

impl Flight {
    pub(crate) fn new(service: Arc<Service>) -> Self {
        Self {
            sql: FlightSql::new(service),
        }
    }

    /// DoGet with InfluxDB 3's JSON ticket.
    async fn do_get_json(&self, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        let service = self.sql.service();
        let principal = service
            .query_principal(ticket::authorization(request.metadata()))
            .await?;
        let t = ticket::parse(&request.get_ref().ticket)?;
        let output = service
            .query(
                &principal,
                Query {
                    database: &t.database,
                    text: &t.query,
                    language: t.language,
                    params: &t.params,
                },
            )
            .await?;
        Ok(Response::new(encode(output)))
    }
}

type Delegate = FlightSql;

#[tonic::async_trait]
impl FlightService for Flight {
    type HandshakeStream = <Delegate as FlightService>::HandshakeStream;
    type ListFlightsStream = <Delegate as FlightService>::ListFlightsStream;
    type DoGetStream = DoGetStream;
    type DoPutStream = <Delegate as FlightService>::DoPutStream;
    type DoActionStream = <Delegate as FlightService>::DoActionStream;
    type ListActionsStream = <Delegate as FlightService>::ListActionsStream;
    type DoExchangeStream = <Delegate as FlightService>::DoExchangeStream;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        FlightService::handshake(&self.sql, request).await
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        FlightService::list_flights(&self.sql, request).await
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        FlightService::get_flight_info(&self.sql, request).await
    }

    async fn poll_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        FlightService::poll_flight_info(&self.sql, request).await
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        FlightService::get_schema(&self.sql, request).await
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        if ticket::is_json(&request.get_ref().ticket) {
            return self.do_get_json(request).await;
        }
        FlightService::do_get(&self.sql, request).await
    }

    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        FlightService::do_put(&self.sql, request).await
    }

    async fn do_exchange(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        FlightService::do_exchange(&self.sql, request).await
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        FlightService::do_action(&self.sql, request).await
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        FlightService::list_actions(&self.sql, request).await
    }
}
