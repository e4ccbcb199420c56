"""influxdb-client (the InfluxDB 2 Python library) writing: its synchronous and batching write
APIs, every precision, points and raw line protocol, and its error handling; rows read back with
SQL over /api/v3/query_sql."""
import time

import pytest
import requests
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS, WriteOptions
from influxdb_client.rest import ApiException

BUCKET = "compat_v2_write"


def sql(server, q):
    r = requests.get(f"{server.url}/api/v3/query_sql", params={"db": BUCKET, "q": q},
                     headers={"Authorization": f"Token {server.token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def client(server):
    with InfluxDBClient(url=server.url, token=server.token, org="default") as c:
        org = c.organizations_api().find_organizations(org="default")[0]
        c.buckets_api().create_bucket(bucket_name=BUCKET, org_id=org.id)
        yield c


def test_synchronous_writes_every_precision(client, server):
    api = client.write_api(write_options=SYNCHRONOUS)
    now_s = int(time.time())
    api.write(BUCKET, "default", Point("m").tag("p", "s").field("v", 1.0).time(now_s, WritePrecision.S))
    api.write(BUCKET, "default", Point("m").tag("p", "ms").field("v", 2.0).time(now_s * 1000, WritePrecision.MS))
    api.write(BUCKET, "default", Point("m").tag("p", "us").field("v", 3.0).time(now_s * 10**6, WritePrecision.US))
    api.write(BUCKET, "default", f"m,p=ns v=4 {now_s * 10**9}")
    rows = sql(server, "SELECT p, v, CAST(time AS BIGINT) AS t FROM m ORDER BY v")
    assert [r["p"] for r in rows] == ["s", "ms", "us", "ns"]
    assert {r["t"] for r in rows} == {now_s * 10**9}


def test_duplicate_points_merge_field_by_field(client, server):
    api = client.write_api(write_options=SYNCHRONOUS)
    ts = int(time.time()) * 10**9
    api.write(BUCKET, "default", f"dup,host=a x=1,y=2 {ts}")
    api.write(BUCKET, "default", f"dup,host=a x=10 {ts}")
    assert sql(server, "SELECT host, x, y FROM dup") == [{"host": "a", "x": 10.0, "y": 2.0}]


def test_batching_writer_flushes_everything(client, server):
    base = int(time.time()) * 10**9  # recent: the bucket keeps 30 days
    with client.write_api(write_options=WriteOptions(batch_size=500, flush_interval=100)) as api:
        api.write(BUCKET, "default", [f"batched,i={i % 10} v={i}i {base + i}" for i in range(2000)])
    assert sql(server, "SELECT count(*) AS n FROM batched") == [{"n": 2000}]


def test_errors_reach_the_client(client):
    api = client.write_api(write_options=SYNCHRONOUS)
    with pytest.raises(ApiException) as e:
        api.write(BUCKET, "default", "m v=1\nnot line protocol")
    assert e.value.status == 400
    assert "partial write has occurred" in e.value.body
    with pytest.raises(ApiException) as e:
        api.write("no_such_bucket", "default", "m v=1")
    assert e.value.status == 404
