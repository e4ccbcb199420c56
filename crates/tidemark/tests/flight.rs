//! Arrow Flight on the one port, end to end with arrow-flight's own clients: InfluxDB 3's JSON
//! tickets, Flight SQL (statements, prepared statements, catalog commands, handshake) and every
//! error status a client sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema};
use arrow::util::pretty::pretty_format_batches;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    CommandGetDbSchemas, CommandGetTables, CommandStatementQuery, ProstMessageExt, SqlInfo,
};
use arrow_flight::{FlightDescriptor, FlightInfo, Ticket};
use common::{perm, TestServer, OPERATOR_TOKEN};
use futures::TryStreamExt;
use prost::Message;
use reqwest::Method;
use serde_json::json;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

async fn channel(s: &TestServer) -> Channel {
    Channel::from_shared(s.url(""))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// A bucket in the default org that keeps rows for ever (the rows are from 1970), with rows
/// written through the v2 write API.
async fn bucket_with_rows(s: &TestServer, name: &str, lines: &str) {
    let org = s.default_org_id().await;
    let forever = json!({"orgID": org, "name": name, "retentionRules": [{"type": "expire", "everySeconds": 0}]});
    s.post("/api/v2/buckets", forever).await.expect(201);
    let r = s
        .op(
            Method::POST,
            &format!("/api/v2/write?org=default&bucket={name}"),
        )
        .body(lines.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204, "{}", r.text().await.unwrap());
}

const CPU: &str = "cpu,host=a usage=1,idle=2i 1000000000\ncpu,host=b usage=3 2000000000\ncpu,host=a usage=5 3000000000";

fn request<T>(message: T, headers: &[(&'static str, &str)]) -> Request<T> {
    let mut r = Request::new(message);
    for (k, v) in headers {
        r.metadata_mut().append(*k, v.parse().unwrap());
    }
    r
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// DoGet with raw metadata; the batches, or the status the call or the stream ended with.
async fn do_get(
    s: &TestServer,
    ticket: &[u8],
    headers: &[(&'static str, &str)],
) -> Result<Vec<RecordBatch>, Status> {
    let mut client = FlightServiceClient::new(channel(s).await);
    let stream = client
        .do_get(request(Ticket::new(ticket.to_vec()), headers))
        .await?
        .into_inner();
    let batches = FlightRecordBatchStream::new_from_flight_data(stream.map_err(FlightError::from));
    batches.try_collect().await.map_err(|e| match e {
        FlightError::Tonic(status) => *status,
        other => Status::internal(other.to_string()),
    })
}

fn json_ticket(database: &str, sql: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"database": database, "sql_query": sql, "query_type": "sql"}))
        .unwrap()
}

fn pretty(batches: &[RecordBatch]) -> String {
    pretty_format_batches(batches).unwrap().to_string()
}

#[tokio::test]
async fn doget_json_tickets_read_their_writes() {
    let s = TestServer::start().await;
    bucket_with_rows(&s, "flightdb", CPU).await;
    let auth = bearer(OPERATOR_TOKEN);
    let batches = do_get(
        &s,
        &json_ticket("flightdb", "SELECT * FROM cpu ORDER BY time"),
        &[("authorization", &auth)],
    )
    .await
    .unwrap();
    let expected = "\
+------+------+---------------------+-------+
| host | idle | time                | usage |
+------+------+---------------------+-------+
| a    | 2    | 1970-01-01T00:00:01 | 1.0   |
| b    |      | 1970-01-01T00:00:02 | 3.0   |
| a    |      | 1970-01-01T00:00:03 | 5.0   |
+------+------+---------------------+-------+";
    assert_eq!(pretty(&batches), expected);
    // Tags arrive as plain strings; every column says what it is.
    let schema = batches[0].schema();
    assert_eq!(
        schema.field_with_name("host").unwrap().data_type(),
        &DataType::Utf8
    );
    assert_eq!(
        schema
            .field_with_name("host")
            .unwrap()
            .metadata()
            .get("iox::column::type")
            .map(String::as_str),
        Some("iox::column_type::tag")
    );

    // `Token` works as well as `Bearer`; the database has aliases; parameters bind by name.
    let token = format!("Token {OPERATOR_TOKEN}");
    for alias in ["bucket", "bucket-name", "namespace_name"] {
        let ticket = json!({alias: "flightdb", "sql_query": "SELECT usage FROM cpu WHERE host = $h AND usage > $min", "params": {"h": "a", "min": 2}});
        let batches = do_get(
            &s,
            &serde_json::to_vec(&ticket).unwrap(),
            &[("authorization", &token)],
        )
        .await
        .unwrap();
        assert_eq!(
            pretty(&batches),
            "+-------+\n| usage |\n+-------+\n| 5.0   |\n+-------+",
            "{alias}"
        );
    }

    // A write is visible to the very next query.
    s.op(Method::POST, "/api/v2/write?org=default&bucket=flightdb")
        .body("cpu,host=c usage=7 4000000000")
        .send()
        .await
        .unwrap();
    let batches = do_get(
        &s,
        &json_ticket("flightdb", "SELECT count(*) AS n FROM cpu"),
        &[("authorization", &auth)],
    )
    .await
    .unwrap();
    assert_eq!(pretty(&batches), "+---+\n| n |\n+---+\n| 4 |\n+---+");
}

async fn sql_client(s: &TestServer, database: &str) -> FlightSqlServiceClient<Channel> {
    let mut client = FlightSqlServiceClient::new(channel(s).await);
    client.set_token(OPERATOR_TOKEN.to_owned());
    client.set_header("database", database);
    client
}

/// Every endpoint of a FlightInfo, read.
async fn fetch(client: &mut FlightSqlServiceClient<Channel>, info: FlightInfo) -> Vec<RecordBatch> {
    assert_eq!(info.endpoint.len(), 1, "exactly one endpoint");
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    client
        .do_get(ticket)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn flight_sql_statements_and_prepared_statements() {
    let s = TestServer::start().await;
    bucket_with_rows(&s, "sqldb", CPU).await;
    let mut client = sql_client(&s, "sqldb").await;

    let info = client
        .execute(
            "SELECT host, usage FROM cpu WHERE usage > 2 ORDER BY usage".to_owned(),
            None,
        )
        .await
        .unwrap();
    let announced: Schema = info.clone().try_decode_schema().unwrap();
    let batches = fetch(&mut client, info).await;
    assert_eq!(
        announced.fields(),
        batches[0].schema().fields(),
        "FlightInfo announces the DoGet schema"
    );
    assert_eq!(announced.field(0).data_type(), &DataType::Utf8);
    assert_eq!(
        pretty(&batches),
        "+------+-------+\n| host | usage |\n+------+-------+\n| b    | 3.0   |\n| a    | 5.0   |\n+------+-------+"
    );

    // Grafana's health check.
    let info = client.execute("SELECT 1".to_owned(), None).await.unwrap();
    assert_eq!(fetch(&mut client, info).await[0].num_rows(), 1);

    let mut prepared = client
        .prepare("SELECT count(*) AS n FROM cpu".to_owned(), None)
        .await
        .unwrap();
    assert_eq!(prepared.dataset_schema().unwrap().field(0).name(), "n");
    for _ in 0..2 {
        let info = prepared.execute().await.unwrap();
        assert_eq!(
            pretty(&fetch(&mut client, info).await),
            "+---+\n| n |\n+---+\n| 3 |\n+---+"
        );
    }
    prepared.close().await.unwrap();

    // Basic auth through the handshake gives a bearer token for later calls.
    let mut fresh = FlightSqlServiceClient::new(channel(&s).await);
    fresh.set_header("database", "sqldb");
    fresh.handshake("anyone", OPERATOR_TOKEN).await.unwrap();
    assert_eq!(fresh.token().map(String::as_str), Some(OPERATOR_TOKEN));
    let info = fresh
        .execute("SELECT count(*) FROM cpu".to_owned(), None)
        .await
        .unwrap();
    assert_eq!(fetch(&mut fresh, info).await[0].num_rows(), 1);
}

#[tokio::test]
async fn flight_sql_catalog_commands() {
    let s = TestServer::start().await;
    bucket_with_rows(&s, "catdb", CPU).await;
    let mut client = sql_client(&s, "catdb").await;

    let info = client.get_catalogs().await.unwrap();
    assert!(pretty(&fetch(&mut client, info).await).contains("| public       |"));

    let info = client
        .get_db_schemas(CommandGetDbSchemas {
            catalog: None,
            db_schema_filter_pattern: None,
        })
        .await
        .unwrap();
    let schemas = pretty(&fetch(&mut client, info).await);
    assert!(
        schemas.contains("| public       | iox                |"),
        "{schemas}"
    );
    assert!(schemas.contains("information_schema"), "{schemas}");

    let info = client
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: Some("iox".to_owned()),
            table_name_filter_pattern: None,
            table_types: vec![],
            include_schema: true,
        })
        .await
        .unwrap();
    let batches = fetch(&mut client, info).await;
    let batch = &batches[0];
    assert_eq!(batch.num_rows(), 1);
    let names = batch.column_by_name("table_name").unwrap();
    assert_eq!(
        arrow::util::display::array_value_to_string(names, 0).unwrap(),
        "cpu"
    );
    let schema_bytes = batch
        .column_by_name("table_schema")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow::array::BinaryArray>()
        .unwrap()
        .value(0)
        .to_vec();
    let table_schema = Schema::try_from(arrow_flight::IpcMessage(schema_bytes.into())).unwrap();
    let columns: Vec<&str> = table_schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(columns, ["host", "idle", "time", "usage"]);

    let info = client.get_table_types().await.unwrap();
    let types = pretty(&fetch(&mut client, info).await);
    assert!(
        types.contains("BASE TABLE") && types.contains("VIEW"),
        "{types}"
    );

    let info = client
        .get_sql_info(vec![
            SqlInfo::FlightSqlServerName,
            SqlInfo::FlightSqlServerReadOnly,
        ])
        .await
        .unwrap();
    assert_eq!(fetch(&mut client, info).await[0].num_rows(), 2);

    // Grafana reads the columns of a table from information_schema.
    let info = client
        .execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'iox' AND table_name = 'cpu' AND column_name = 'host'".to_owned(),
            None,
        )
        .await
        .unwrap();
    assert!(pretty(&fetch(&mut client, info).await).contains("Dictionary(Int32, Utf8)"));
}

async fn status_of(s: &TestServer, ticket: &[u8], headers: &[(&'static str, &str)]) -> Status {
    do_get(s, ticket, headers)
        .await
        .expect_err("an error status")
}

/// GetFlightInfo for a Flight SQL statement, with raw metadata.
async fn statement_info(
    s: &TestServer,
    sql: &str,
    headers: &[(&'static str, &str)],
) -> Result<FlightInfo, Status> {
    let mut client = FlightServiceClient::new(channel(s).await);
    let cmd = CommandStatementQuery {
        query: sql.to_owned(),
        transaction_id: None,
    };
    let descriptor = FlightDescriptor::new_cmd(cmd.as_any().encode_to_vec());
    Ok(client
        .get_flight_info(request(descriptor, headers))
        .await?
        .into_inner())
}

#[tokio::test]
async fn every_error_has_its_status() {
    let s = TestServer::start().await;
    bucket_with_rows(&s, "errdb", CPU).await;
    let org = s.default_org_id().await;
    let (_, writer) = s
        .create_token(&org, json!([perm("write", "buckets", Some(&org), None)]))
        .await;
    let op = bearer(OPERATOR_TOKEN);
    let auth = [("authorization", op.as_str())];
    let ticket = json_ticket("errdb", "SELECT * FROM cpu");

    let st = status_of(&s, &ticket, &[]).await;
    assert_eq!(st.code(), Code::Unauthenticated, "{st:?}");
    let st = status_of(&s, &ticket, &[("authorization", "Bearer not-a-token")]).await;
    assert_eq!(st.code(), Code::PermissionDenied, "{st:?}");
    let writer_auth = bearer(&writer);
    let st = status_of(&s, &ticket, &[("authorization", &writer_auth)]).await;
    assert_eq!(
        st.code(),
        Code::PermissionDenied,
        "write does not imply read: {st:?}"
    );

    let st = status_of(&s, &json_ticket("nope", "SELECT 1"), &auth).await;
    assert_eq!(
        (st.code(), st.message()),
        (Code::NotFound, "Database 'nope' not found")
    );
    let st = status_of(&s, &json_ticket("errdb", "SELEC * FROM cpu"), &auth).await;
    assert_eq!(st.code(), Code::InvalidArgument, "{st:?}");
    let st = status_of(&s, &json_ticket("errdb", "SELECT * FROM missing"), &auth).await;
    assert_eq!(st.code(), Code::InvalidArgument);
    assert!(
        st.message()
            .contains("table 'public.iox.missing' not found"),
        "{st:?}"
    );
    let long = format!("SELECT * FROM {}", "x".repeat(5000));
    let st = status_of(&s, &json_ticket("errdb", &long), &auth).await;
    assert_eq!(st.code(), Code::InvalidArgument);
    assert!(st.message().len() <= 2000, "{}", st.message().len());

    let influxql = json!({"database": "errdb", "sql_query": "SHOW MEASUREMENTS; SHOW DATABASES", "query_type": "influxql"});
    let st = status_of(&s, &serde_json::to_vec(&influxql).unwrap(), &auth).await;
    assert_eq!(
        (st.code(), st.message()),
        (
            Code::InvalidArgument,
            "The context currently only supports a single InfluxQL statement"
        )
    );
    let flux = json!({"database": "errdb", "sql_query": "x", "query_type": "flux"});
    let st = status_of(&s, &serde_json::to_vec(&flux).unwrap(), &auth).await;
    assert_eq!(
        (st.code(), st.message()),
        (
            Code::InvalidArgument,
            "Unknown query type. Expected 'sql' or 'influxql', got flux"
        )
    );
    let st = status_of(&s, b"{not json", &auth).await;
    assert_eq!(st.code(), Code::InvalidArgument);
    let st = status_of(&s, b"\x01\x02garbage", &auth).await;
    assert_ne!(st.code(), Code::Ok);

    // Flight SQL: the database comes from the metadata.
    let st = statement_info(&s, "SELECT 1", &auth).await.unwrap_err();
    assert_eq!(
        (st.code(), st.message()),
        (Code::InvalidArgument, "no 'database' header in request")
    );
    let both = [
        ("authorization", op.as_str()),
        ("database", "errdb"),
        ("bucket", "other"),
    ];
    assert_eq!(
        statement_info(&s, "SELECT 1", &both)
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
    let same = [
        ("authorization", op.as_str()),
        ("database", "errdb"),
        ("iox-namespace-name", "errdb"),
    ];
    statement_info(&s, "SELECT 1", &same).await.unwrap();
    let st = statement_info(&s, "SELECT 1", &[("database", "errdb")])
        .await
        .unwrap_err();
    assert_eq!(st.code(), Code::Unauthenticated);
    let st = statement_info(
        &s,
        "SELECT 1",
        &[("authorization", "Bearer nope"), ("database", "errdb")],
    )
    .await
    .unwrap_err();
    assert_eq!(st.code(), Code::PermissionDenied);
    let st = statement_info(
        &s,
        "SELECT 1",
        &[("authorization", op.as_str()), ("database", "nope")],
    )
    .await
    .unwrap_err();
    assert_eq!(
        (st.code(), st.message()),
        (Code::NotFound, "Database 'nope' not found")
    );
    let st = statement_info(
        &s,
        "DROP TABLE cpu",
        &[("authorization", op.as_str()), ("database", "errdb")],
    )
    .await
    .unwrap_err();
    assert_eq!(st.code(), Code::InvalidArgument);
}

fn influxql_ticket(database: &str, influxql: &str) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"database": database, "sql_query": influxql, "query_type": "influxql"}),
    )
    .unwrap()
}

#[tokio::test]
async fn influxql_over_flight_keeps_the_iox_shape() {
    let s = TestServer::start().await;
    bucket_with_rows(&s, "qldb", CPU).await;
    let auth = bearer(OPERATOR_TOKEN);
    let headers = [("authorization", auth.as_str())];

    let batches = do_get(&s, &influxql_ticket("qldb", "SHOW MEASUREMENTS"), &headers)
        .await
        .unwrap();
    assert_eq!(
        pretty(&batches),
        "+------------------+------+\n| iox::measurement | name |\n+------------------+------+\n| measurements     | cpu  |\n+------------------+------+"
    );
    let metadata = batches[0].schema().metadata().clone();
    assert!(
        metadata.contains_key("iox::influxql::group_key::metadata"),
        "{metadata:?}"
    );

    let batches = do_get(&s, &influxql_ticket("qldb", "SHOW TAG KEYS"), &headers)
        .await
        .unwrap();
    assert!(
        pretty(&batches).contains("| cpu              | host   |"),
        "{}",
        pretty(&batches)
    );

    // The statements the service answers itself work over Flight too.
    let batches = do_get(&s, &influxql_ticket("qldb", "SHOW DATABASES"), &headers)
        .await
        .unwrap();
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);

    let st = do_get(
        &s,
        &influxql_ticket("qldb", "SHOW MEASUREMENTS FROM"),
        &headers,
    )
    .await
    .unwrap_err();
    assert_eq!(st.code(), Code::InvalidArgument);
    assert!(st.message().starts_with("error parsing query: "), "{st:?}");
    let st = do_get(&s, &influxql_ticket("nope", "SHOW MEASUREMENTS"), &headers)
        .await
        .unwrap_err();
    assert_eq!(
        (st.code(), st.message()),
        (Code::NotFound, "Database 'nope' not found")
    );

    // Flight SQL with the language header: GetFlightInfo, then DoGet on its one endpoint.
    let mut client = sql_client(&s, "qldb").await;
    client.set_header("x-influxdata-query-language", "influxql");
    let info = client
        .execute("SHOW FIELD KEYS".to_owned(), None)
        .await
        .unwrap();
    let batches = fetch(&mut client, info).await;
    let text = pretty(&batches);
    assert!(
        text.contains("fieldKey") && text.contains("usage"),
        "{text}"
    );

    // Prepared statements follow the header too.
    let mut prepared = client
        .prepare("SELECT usage FROM cpu WHERE host = 'b'".to_owned(), None)
        .await
        .unwrap();
    let info = prepared.execute().await.unwrap();
    let text = pretty(&fetch(&mut client, info).await);
    assert!(
        text.contains("| cpu              | 1970-01-01T00:00:02 | 3.0   |"),
        "{text}"
    );
}
