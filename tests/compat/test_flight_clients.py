"""Queries with the real Flight clients: influxdb3-python (writes over HTTP, queries over Flight
at the same host:port, plain-text HTTP/2) and the ADBC Flight SQL driver (what Grafana's and
JDBC-style tools' Flight SQL paths look like)."""
import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flightsql
import pytest
import requests
from influxdb_client_3 import InfluxDBClient3, InfluxDB3ClientQueryError

BUCKET = "compat_flight"


@pytest.fixture(scope="module")
def bucket(server):
    headers = {"Authorization": f"Token {server.token}"}
    orgs = requests.get(f"{server.url}/api/v2/orgs?org=default", headers=headers, timeout=10).json()
    created = requests.post(
        f"{server.url}/api/v2/buckets",
        json={"orgID": orgs["orgs"][0]["id"], "name": BUCKET},
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return BUCKET


@pytest.fixture(scope="module")
def client(server, bucket):
    with InfluxDBClient3(host=server.url, token=server.token, database=bucket, org="default") as c:
        yield c


def test_influxdb3_python_writes_then_queries_at_the_same_port(client):
    client.write(record="cpu,host=a usage=1.5,idle=7i")
    client.write(record="cpu,host=b usage=2.5")
    table = client.query("SELECT host, usage, idle FROM cpu ORDER BY host")
    assert table.column_names == ["host", "usage", "idle"]
    assert table.to_pydict() == {"host": ["a", "b"], "usage": [1.5, 2.5], "idle": [7, None]}
    # Tags arrive as plain strings; the column type metadata comes along.
    field = table.schema.field("host")
    assert str(field.type) == "string"
    assert field.metadata[b"iox::column::type"] == b"iox::column_type::tag"


def test_influxdb3_python_query_parameters(client):
    client.write(record="mem,host=p free=10i")
    table = client.query("SELECT free FROM mem WHERE host = $host", query_parameters={"host": "p"})
    assert table.to_pydict() == {"free": [10]}


def test_influxdb3_python_errors(client, server):
    with pytest.raises(InfluxDB3ClientQueryError, match="not found"):
        client.query("SELECT * FROM cpu", database="no_such_bucket")
    with pytest.raises(InfluxDB3ClientQueryError, match="error parsing query"):
        client.query("SELECT FROM cpu", language="influxql")
    with InfluxDBClient3(host=server.url, token="wrong", database=BUCKET, org="default") as bad:
        with pytest.raises(InfluxDB3ClientQueryError):
            bad.query("SELECT 1")


def adbc(server, database=None):
    db_kwargs = {
        adbc_driver_flightsql.DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {server.token}",
    }
    if database is not None:
        db_kwargs[f"{adbc_driver_flightsql.DatabaseOptions.RPC_CALL_HEADER_PREFIX.value}database"] = database
    # Autocommit: the server has no transactions (its SqlInfo says so).
    return flightsql.connect(f"grpc://{server.addr}", db_kwargs=db_kwargs, autocommit=True)


def test_adbc_select_1(server, bucket):
    with adbc(server, bucket) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 AS one")
        assert cur.fetchall() == [(1,)]


def test_adbc_query_with_the_database_header(server, bucket, client):
    client.write(record="disk,host=d used=3i")
    with adbc(server, bucket) as conn, conn.cursor() as cur:
        cur.execute("SELECT host, used FROM disk")
        assert cur.fetchall() == [("d", 3)]
        cur.execute("SELECT data_type FROM information_schema.columns "
                    "WHERE table_schema = 'iox' AND table_name = 'disk' AND column_name = 'host'")
        assert cur.fetchall() == [("Dictionary(Int32, Utf8)",)]


def test_adbc_prepared_statement_with_bound_parameters(server, bucket, client):
    # ADBC prepares the statement, sends the values with DoPut, then runs the new handle.
    client.write(record="mem,host=a used=1i\nmem,host=b used=2i")
    with adbc(server, bucket) as conn, conn.cursor() as cur:
        cur.execute("SELECT host, used FROM mem WHERE host = $1", parameters=("b",))
        assert cur.fetchall() == [("b", 2)]
        cur.execute("SELECT $1 + 1 AS n", parameters=(41,))
        assert cur.fetchall() == [(42,)]


def test_adbc_without_a_database_header_is_refused(server):
    with adbc(server) as conn, conn.cursor() as cur:
        with pytest.raises(Exception, match="no 'database' header in request"):
            cur.execute("SELECT 1")


def test_adbc_get_objects(server, bucket, client):
    client.write(record="net,host=n rx=1i")
    with adbc(server, bucket) as conn:
        objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
    catalogs = {c["catalog_name"]: c for c in objects}
    assert "public" in catalogs
    schemas = {s["db_schema_name"]: s for s in catalogs["public"]["catalog_db_schemas"]}
    assert {"iox", "information_schema"} <= set(schemas)
    tables = {t["table_name"]: t for t in schemas["iox"]["db_schema_tables"]}
    assert tables["net"]["table_type"] == "BASE TABLE"
    columns = [c["column_name"] for c in tables["net"]["table_columns"]]
    assert columns == ["host", "rx", "time"]
