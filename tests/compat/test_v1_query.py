"""v1 /query with the real v1 clients: the `influxdb` Python library (which asks for
MessagePack), influxdb3-python with language="influxql" (Flight), and the InfluxDB 1.x shell
`influx` from Debian's influxdb-client package (scripts/influx-cli.sh installs it)."""
import json
import shutil
import subprocess
import time

import pytest
import requests
from influxdb import InfluxDBClient
from influxdb.exceptions import InfluxDBClientError
from influxdb_client_3 import InfluxDB3ClientQueryError, InfluxDBClient3

DB = "compat_v1"


def host_port(server):
    host, port = server.addr.rsplit(":", 1)
    return host, int(port)


@pytest.fixture(scope="module")
def v1(server):
    host, port = host_port(server)
    client = InfluxDBClient(host=host, port=port, username="anyone", password=server.token, database=DB)
    # Telegraf and the 1.x tools create their database first; a second time is not an error.
    client.create_database(DB)
    client.create_database(DB)
    now = int(time.time())
    points = [
        {"measurement": "cpu", "tags": {"host": "a"}, "time": now - 20, "fields": {"usage": 1.5}},
        {"measurement": "cpu", "tags": {"host": "a"}, "time": now - 10, "fields": {"usage": 2.0}},
        {"measurement": "cpu", "tags": {"host": "b"}, "time": now - 20, "fields": {"usage": 3.25}},
        {"measurement": "mem", "tags": {"host": "a"}, "time": now - 20, "fields": {"free": 10}},
    ]
    assert client.write_points(points, time_precision="s")
    yield client
    client.close()


def test_influxdb_python_databases(v1):
    assert {"name": DB} in v1.get_list_database()


def test_influxdb_python_show_statements(v1):
    measurements = v1.query("SHOW MEASUREMENTS")
    assert list(measurements.get_points()) == [{"name": "cpu"}, {"name": "mem"}]
    tag_keys = v1.query("SHOW TAG KEYS FROM cpu")
    assert list(tag_keys.get_points()) == [{"tagKey": "host"}]
    fields = v1.query("SHOW FIELD KEYS FROM cpu")
    assert list(fields.get_points()) == [{"fieldKey": "usage", "fieldType": "float"}]
    rps = v1.get_list_retention_policies(DB)
    assert [rp["name"] for rp in rps] == ["autogen"]
    assert rps[0]["default"] is True


def test_influxdb_python_several_statements_and_post(v1):
    results = v1.query("SHOW MEASUREMENTS; SHOW DATABASES", method="POST")
    assert len(results) == 2
    assert list(results[0].get_points()) == [{"name": "cpu"}, {"name": "mem"}]


def test_influxdb_python_errors(server, v1):
    with pytest.raises(InfluxDBClientError, match="database not found: nope"):
        v1.query("SELECT * FROM cpu", database="nope")
    with pytest.raises(InfluxDBClientError, match="error parsing query"):
        v1.query("SELECT FROM")
    host, port = host_port(server)
    bad = InfluxDBClient(host=host, port=port, username="x", password="wrong", database=DB)
    with pytest.raises(InfluxDBClientError) as caught:
        bad.query("SHOW MEASUREMENTS")
    assert caught.value.code == 401


def test_influxdb_python_select(server, v1):
    result = v1.query("SELECT usage FROM cpu GROUP BY host", epoch="s")
    a = list(result.get_points(tags={"host": "a"}))
    assert [p["usage"] for p in a] == [1.5, 2.0]
    b = list(result.get_points(tags={"host": "b"}))
    assert [p["usage"] for p in b] == [3.25]
    # The library reads chunked answers as JSON lines while asking for MessagePack, which fails
    # against 1.x too (influxdb-python#820); chunked users ask for JSON.
    host, port = host_port(server)
    as_json = InfluxDBClient(host=host, port=port, username="u", password=server.token, database=DB,
                             headers={"Accept": "application/json"})
    chunks = list(as_json.query("SELECT usage FROM cpu", chunked=True, chunk_size=1))
    assert len(chunks) == 3
    assert sorted(p["usage"] for c in chunks for p in c.get_points()) == [1.5, 2.0, 3.25]


def test_influxdb3_python_influxql(server, v1):
    # Flight names the bucket; a v1 CREATE DATABASE made bucket `compat_v1`.
    with InfluxDBClient3(host=server.url, token=server.token, database=DB, org="default") as c:
        table = c.query("SHOW MEASUREMENTS", language="influxql")
        assert table.column_names == ["iox::measurement", "name"]
        assert table.to_pydict()["name"] == ["cpu", "mem"]
        assert b"iox::influxql::group_key::metadata" in table.schema.metadata
        table = c.query("SELECT usage FROM cpu WHERE host = 'b'", language="influxql")
        assert table.column_names == ["iox::measurement", "time", "usage"]
        assert table.to_pydict()["usage"] == [3.25]
        with pytest.raises(InfluxDB3ClientQueryError, match="single InfluxQL statement"):
            c.query("SHOW MEASUREMENTS; SHOW DATABASES", language="influxql")
        with pytest.raises(InfluxDB3ClientQueryError, match="error parsing query"):
            c.query("SELECT FROM", language="influxql")


def test_raw_http_formats(server, v1):
    headers = {"Authorization": f"Token {server.token}"}
    url = f"{server.url}/query"
    r = requests.get(url, params={"db": DB, "q": "SHOW MEASUREMENTS"}, headers={**headers, "Accept": "application/csv"}, timeout=10)
    assert r.status_code == 200
    assert r.text == "name,tags,name\nmeasurements,,cpu\nmeasurements,,mem\n"
    r = requests.post(url, data={"db": DB, "q": "SHOW MEASUREMENTS", "chunked": "true", "chunk_size": "1"}, headers=headers, timeout=10)
    docs = [json.loads(line) for line in r.text.splitlines()]
    assert [d["results"][0].get("partial", False) for d in docs] == [True, False]


influx_shell = pytest.mark.skipif(shutil.which("influx") is None, reason="run scripts/influx-cli.sh")


def influx(server, *args):
    host, port = host_port(server)
    cmd = ["influx", "-host", host, "-port", str(port), "-username", "anyone", "-password", server.token, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


@influx_shell
def test_influx_shell_json_and_csv(server, v1):
    out = influx(server, "-execute", "SHOW DATABASES", "-format", "json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert [DB] in body["results"][0]["series"][0]["values"]

    out = influx(server, "-database", DB, "-execute", "SHOW MEASUREMENTS", "-format", "csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["name,name", "measurements,cpu", "measurements,mem"]

    out = influx(server, "-execute", "CREATE DATABASE compat_shell", "-format", "json")
    assert out.returncode == 0, out.stderr
    out = influx(server, "-execute", "SHOW DATABASES", "-format", "csv")
    assert "databases,compat_shell" in out.stdout.splitlines()


@influx_shell
def test_influx_shell_select(server, v1):
    # The shell asks for chunked answers and prints each chunk.
    out = influx(server, "-database", DB, "-precision", "s", "-format", "csv",
                 "-execute", "SELECT usage FROM cpu WHERE host = 'a'")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "name,time,usage"
    assert [line.split(",")[2] for line in lines[1:]] == ["1.5", "2"]
    out = influx(server, "-database", DB, "-format", "json", "-execute", "SELECT usage FROM cpu GROUP BY host")
    assert out.returncode == 0, out.stderr
    tags = [s["tags"]["host"] for r in json.loads(out.stdout)["results"] for s in r["series"]]
    assert tags == ["a", "b"]


@influx_shell
def test_influx_shell_errors(server, v1):
    out = influx(server, "-database", DB, "-execute", "SELECT * FROM nope..cpu", "-format", "json")
    assert out.returncode != 0
    assert "database not found: nope" in out.stdout + out.stderr
    host, port = host_port(server)
    bad = subprocess.run(["influx", "-host", host, "-port", str(port), "-username", "x", "-password", "wrong",
                          "-execute", "SHOW DATABASES"], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0
    assert "401" in bad.stdout + bad.stderr
