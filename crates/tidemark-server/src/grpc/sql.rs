//! Flight SQL, through arrow-flight's `FlightSqlService`: statement queries, prepared statements
//! and the catalog commands that Grafana, ADBC and JDBC clients send.
//!
//! The database comes from the request metadata (`database`, `bucket`, `bucket-name` or
//! `iox-namespace-name`). Tickets and prepared-statement handles carry the database and the
//! SQL themselves, so any node can answer them and nothing is kept between calls.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::server::PeekableFlightDataStream;
use arrow_flight::sql::DoPutPreparedStatementResult;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse,
    IpcMessage, SchemaAsIpc, Ticket,
};
use futures::{Stream, TryStreamExt};
use prost::Message;
use tidemark_query::{Params, TableInfo};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Request, Response, Status, Streaming};

use super::bind;
use super::flight::{encode, encode_batch, DoGetStream};
use super::ticket;
use crate::auth::{token, Principal};
use crate::error::Error;
use crate::service::{Query, QueryLanguage, Service};

/// The table types the catalog commands report (DataFusion's names, as InfluxDB 3 reports them).
const TABLE_TYPES: [&str; 2] = ["BASE TABLE", "VIEW"];

/// The Flight SQL half of the Flight service.
#[derive(Debug, Clone)]
pub(crate) struct FlightSql {
    service: Arc<Service>,
}

fn status(e: impl std::fmt::Display) -> Status {
    Status::from(Error::internal(e.to_string()))
}

/// The schema as the wire carries it: tags (dictionaries) as plain strings.
fn wire_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, value) => {
                f.as_ref().clone().with_data_type(value.as_ref().clone())
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Schema::new(fields).with_metadata(schema.metadata().clone())
}

fn ipc_schema(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let message: IpcMessage = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(status)?;
    Ok(message.0)
}

/// A FlightInfo with exactly one endpoint, whose ticket DoGet answers (Grafana requires one).
fn flight_info(
    schema: &Schema,
    ticket: Vec<u8>,
    descriptor: FlightDescriptor,
) -> Result<Response<FlightInfo>, Status> {
    let info = FlightInfo::new()
        .try_with_schema(schema)
        .map_err(status)?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor)
        .with_ordered(true);
    Ok(Response::new(info))
}

/// `x-influxdata-query-language: influxql` turns a statement into InfluxQL.
fn language(metadata: &MetadataMap) -> QueryLanguage {
    match metadata
        .get("x-influxdata-query-language")
        .and_then(|v| v.to_str().ok())
    {
        Some(l) if l.eq_ignore_ascii_case("influxql") => QueryLanguage::InfluxQl,
        _ => QueryLanguage::Sql,
    }
}

fn sql_info() -> Result<&'static SqlInfoData, Status> {
    static INFO: OnceLock<Result<SqlInfoData, String>> = OnceLock::new();
    INFO.get_or_init(|| {
        let mut b = SqlInfoDataBuilder::new();
        b.append(SqlInfo::FlightSqlServerName, "tidemark");
        b.append(SqlInfo::FlightSqlServerVersion, crate::INFLUXDB_VERSION);
        b.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
        b.append(SqlInfo::FlightSqlServerReadOnly, true);
        b.append(SqlInfo::FlightSqlServerSql, true);
        b.append(SqlInfo::FlightSqlServerSubstrait, false);
        // SQL_SUPPORTED_TRANSACTION_NONE
        b.append(SqlInfo::FlightSqlServerTransaction, 0_i32);
        b.append(SqlInfo::FlightSqlServerCancel, false);
        b.append(SqlInfo::SqlDdlCatalog, false);
        b.append(SqlInfo::SqlDdlSchema, false);
        b.append(SqlInfo::SqlDdlTable, false);
        b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
        b.build().map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(status)
}

impl FlightSql {
    pub(crate) fn new(service: Arc<Service>) -> Self {
        Self { service }
    }

    pub(crate) fn service(&self) -> &Arc<Service> {
        &self.service
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Arc<Principal>, Status> {
        Ok(self
            .service
            .query_principal(ticket::authorization(metadata))
            .await?)
    }

    /// The caller and the database the metadata names.
    async fn caller(&self, metadata: &MetadataMap) -> Result<(Arc<Principal>, String), Status> {
        let principal = self.principal(metadata).await?;
        Ok((principal, ticket::database_header(metadata)?))
    }

    async fn schema_of(
        &self,
        p: &Principal,
        database: &str,
        sql: &str,
        language: QueryLanguage,
        params: &Params,
    ) -> Result<Schema, Status> {
        let schema = self
            .service
            .query_schema(
                p,
                Query {
                    database,
                    text: sql,
                    language,
                    params,
                },
            )
            .await?;
        Ok(wire_schema(&schema))
    }

    /// Runs the query a handle (ticket) describes, for the caller in `metadata`.
    async fn run_handle(
        &self,
        metadata: &MetadataMap,
        handle: &[u8],
    ) -> Result<Response<DoGetStream>, Status> {
        let principal = self.principal(metadata).await?;
        let t = ticket::parse(handle)?;
        let output = self
            .service
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

    async fn tables(&self, metadata: &MetadataMap) -> Result<Vec<TableInfo>, Status> {
        let (principal, database) = self.caller(metadata).await?;
        Ok(self.service.query_tables(&principal, &database).await?)
    }
}

type HandshakeStream = Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>;

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    /// Echoes the payload; a token given with Basic auth (or any scheme) comes back as a
    /// bearer token, which clients such as pyarrow then send on every call. The token is
    /// checked on those calls, not here, as InfluxDB 3 does.
    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<HandshakeStream>, Status> {
        let token = ticket::authorization(request.metadata())
            .and_then(|value| token::from_authorization_header(value).ok());
        let mut stream = request.into_inner();
        let first = stream.message().await?.unwrap_or_default();
        let reply = HandshakeResponse {
            protocol_version: first.protocol_version,
            payload: first.payload,
        };
        let mut response: Response<HandshakeStream> =
            Response::new(Box::pin(futures::stream::iter([Ok(reply)])));
        if let Some(token) = token {
            let value = MetadataValue::try_from(format!("Bearer {token}"))
                .map_err(|_| Status::invalid_argument("the token is not valid header text"))?;
            response.metadata_mut().insert("authorization", value);
        }
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let (principal, database) = self.caller(request.metadata()).await?;
        let lang = language(request.metadata());
        let schema = self
            .schema_of(&principal, &database, &query.query, lang, &Params::new())
            .await?;
        let handle = ticket::encode(&database, &query.query, lang)?;
        let ticket = TicketStatementQuery {
            statement_handle: handle.into(),
        };
        flight_info(
            &schema,
            ticket.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.run_handle(request.metadata(), &ticket.statement_handle)
            .await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let (principal, database) = self.caller(request.metadata()).await?;
        let lang = language(request.metadata());
        let schema = self
            .schema_of(&principal, &database, &query.query, lang, &Params::new())
            .await?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: ticket::encode(&database, &query.query, lang)?.into(),
            dataset_schema: ipc_schema(&schema)?,
            parameter_schema: bytes::Bytes::new(),
        })
    }

    /// Handles hold everything they need, so there is nothing to release.
    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        self.principal(request.metadata()).await?;
        Ok(())
    }

    async fn get_flight_info_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let principal = self.principal(request.metadata()).await?;
        let t = ticket::parse(&cmd.prepared_statement_handle)?;
        let schema = self
            .schema_of(&principal, &t.database, &t.query, t.language, &t.params)
            .await?;
        flight_info(&schema, cmd.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.run_handle(request.metadata(), &cmd.prepared_statement_handle)
            .await
    }

    /// Binds parameters: the values come back inside a new handle (see `bind.rs`).
    async fn do_put_prepared_statement_query(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        self.principal(request.metadata()).await?;
        let stream = request.into_inner().map_err(FlightError::from);
        let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(stream)
            .try_collect()
            .await
            .map_err(|e| Status::invalid_argument(format!("reading the parameters: {e}")))?;
        let params = bind::params(&batches)?;
        let handle = bind::rebind(&cmd.prepared_statement_handle, &params)?;
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(handle.into()),
        })
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.caller(request.metadata()).await?;
        let schema = query.into_builder().schema();
        flight_info(
            &schema,
            query.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let tables = self.tables(request.metadata()).await?;
        let mut builder = query.into_builder();
        for catalog in tables.iter().map(|t| &t.catalog).collect::<BTreeSet<_>>() {
            builder.append(catalog);
        }
        let schema = builder.schema();
        Ok(Response::new(encode_batch(
            schema,
            builder.build().map_err(status)?,
        )))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.caller(request.metadata()).await?;
        let schema = query.clone().into_builder().schema();
        flight_info(
            &schema,
            query.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let tables = self.tables(request.metadata()).await?;
        let mut builder = query.into_builder();
        for (catalog, schema) in tables
            .iter()
            .map(|t| (&t.catalog, &t.schema))
            .collect::<BTreeSet<_>>()
        {
            builder.append(catalog, schema);
        }
        let schema = builder.schema();
        Ok(Response::new(encode_batch(
            schema,
            builder.build().map_err(status)?,
        )))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.caller(request.metadata()).await?;
        let schema = query.clone().into_builder().schema();
        flight_info(
            &schema,
            query.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let tables = self.tables(request.metadata()).await?;
        let mut builder = query.into_builder();
        for t in &tables {
            builder
                .append(
                    &t.catalog,
                    &t.schema,
                    &t.name,
                    &t.table_type,
                    &wire_schema(&t.arrow_schema),
                )
                .map_err(status)?;
        }
        let schema = builder.schema();
        Ok(Response::new(encode_batch(
            schema,
            builder.build().map_err(status)?,
        )))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.principal(request.metadata()).await?;
        let schema = query.into_builder().schema();
        flight_info(
            &schema,
            query.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.principal(request.metadata()).await?;
        let mut builder = query.into_builder();
        for t in TABLE_TYPES {
            builder.append(t);
        }
        let schema = builder.schema();
        Ok(Response::new(encode_batch(
            schema,
            builder.build().map_err(status)?,
        )))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.principal(request.metadata()).await?;
        let schema = query.clone().into_builder(sql_info()?).schema();
        flight_info(
            &schema,
            query.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.principal(request.metadata()).await?;
        let builder = query.into_builder(sql_info()?);
        let schema = builder.schema();
        Ok(Response::new(encode_batch(
            schema,
            builder.build().map_err(status)?,
        )))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
