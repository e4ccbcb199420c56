//! The session around the tables: information_schema, parameters, refusals and errors.

use datafusion::arrow::datatypes::DataType;

use super::{fixture, table};
use crate::{Error, Param, Params};

#[tokio::test]
async fn information_schema_lists_the_tables_under_iox() {
    let f = fixture().await;
    f.write("cpu,host=a usage=1,idle=2i,ok=true,note=\"x\",n=3u 10\nmem free=1 10")
        .await;
    assert_eq!(
        f.query("SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = 'iox' ORDER BY table_name").await,
        table(&[
            "+---------------+--------------+------------+------------+",
            "| table_catalog | table_schema | table_name | table_type |",
            "+---------------+--------------+------------+------------+",
            "| public        | iox          | cpu        | BASE TABLE |",
            "| public        | iox          | mem        | BASE TABLE |",
            "+---------------+--------------+------------+------------+",
        ])
    );
    assert_eq!(
        f.query("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'iox' AND table_name = 'cpu' ORDER BY ordinal_position").await,
        table(&[
            "+-------------+-------------------------+-------------+",
            "| column_name | data_type               | is_nullable |",
            "+-------------+-------------------------+-------------+",
            "| host        | Dictionary(Int32, Utf8) | YES         |",
            "| idle        | Int64                   | YES         |",
            "| n           | UInt64                  | YES         |",
            "| note        | Utf8                    | YES         |",
            "| ok          | Boolean                 | YES         |",
            "| time        | Timestamp(ns)           | NO          |",
            "| usage       | Float64                 | YES         |",
            "+-------------+-------------------------+-------------+",
        ])
    );
    let show = f.query("SHOW TABLES").await;
    assert!(
        show.contains("| public        | iox                | cpu         | BASE TABLE |"),
        "{show}"
    );
}

#[tokio::test]
async fn parameters_bind_by_name() {
    let f = fixture().await;
    f.write("cpu,host=a usage=1,idle=2i 10\ncpu,host=b usage=3,idle=4i 20")
        .await;
    let params = Params::from([
        ("host".to_owned(), Param::String("b".into())),
        ("min".to_owned(), Param::Int(3)),
    ]);
    let out = f
        .try_query(
            "SELECT usage FROM cpu WHERE host = $host AND idle >= $min",
            &params,
        )
        .await
        .expect("query");
    assert_eq!(
        out,
        table(&[
            "+-------+",
            "| usage |",
            "+-------+",
            "| 3.0   |",
            "+-------+"
        ])
    );
    let missing = f
        .try_query("SELECT usage FROM cpu WHERE host = $nope", &params)
        .await
        .expect_err("unbound");
    assert!(missing.is_user_error(), "{missing:?}");
}

#[tokio::test]
async fn user_errors_pass_their_message_and_writes_are_refused() {
    let f = fixture().await;
    f.write("cpu usage=1 10").await;
    let none = Params::new();
    let err = f
        .try_query("SELECT * FROM nope", &none)
        .await
        .expect_err("unknown table");
    assert!(
        matches!(&err, Error::Query(m) if m.contains("table 'public.iox.nope' not found")),
        "{err:?}"
    );
    let err = f.try_query("SELEC 1", &none).await.expect_err("bad sql");
    assert!(err.is_user_error(), "{err:?}");
    for statement in [
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "CREATE TABLE t AS SELECT 1",
        "INSERT INTO cpu VALUES (1.0, now())",
        "COPY cpu TO '/tmp/out.csv'",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let err = f.try_query(statement, &none).await.expect_err(statement);
        assert!(err.is_user_error(), "{statement}: {err:?}");
    }
    assert_eq!(
        f.query("SELECT 1 AS one").await,
        table(&["+-----+", "| one |", "+-----+", "| 1   |", "+-----+"])
    );
}

#[tokio::test]
async fn schema_and_tables_without_running_anything() {
    let f = fixture().await;
    f.write("cpu,host=a usage=1 10").await;
    let schema = f
        .query
        .schema(
            &f.bucket,
            "SELECT host, usage FROM cpu WHERE host = $h",
            &Params::new(),
        )
        .await
        .expect("schema");
    let fields: Vec<(&str, &DataType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[0].0, "host");
    assert!(matches!(fields[0].1, DataType::Dictionary(..)));
    assert_eq!(
        schema
            .field(1)
            .metadata()
            .get("iox::column::type")
            .map(String::as_str),
        Some("iox::column_type::field::float")
    );
    let tables = f.query.tables(&f.bucket).await.expect("tables");
    let cpu = tables.iter().find(|t| t.name == "cpu").expect("cpu listed");
    assert_eq!(
        (
            cpu.catalog.as_str(),
            cpu.schema.as_str(),
            cpu.table_type.as_str()
        ),
        ("public", "iox", "BASE TABLE")
    );
    assert_eq!(cpu.arrow_schema.fields().len(), 3);
    assert!(tables.iter().any(|t| t.schema == "information_schema"
        && t.name == "columns"
        && t.table_type == "VIEW"));
}
