"""influxdb-client (the InfluxDB 2 Python library) against tidemark's management API."""
import pytest
from influxdb_client import (BucketRetentionRules, InfluxDBClient, Permission,
                             PermissionResource)
from influxdb_client.domain.dbrp_create import DBRPCreate
from influxdb_client.domain.dbrp_update import DBRPUpdate
from influxdb_client.rest import ApiException
from influxdb_client.service.dbr_ps_service import DBRPsService


@pytest.fixture(scope="module")
def client(server):
    with InfluxDBClient(url=server.url, token=server.token, org="default") as c:
        yield c


@pytest.fixture(scope="module")
def org(client):
    return client.organizations_api().find_organizations(org="default")[0]


def test_ping_version_health(client):
    assert client.ping() is True
    assert client.version().startswith("3.")
    health = client.health()
    assert health.status == "pass"


def test_orgs(client, org):
    api = client.organizations_api()
    assert org.name == "default"
    created = api.create_organization(name="compat-second-org")
    assert created.name == "compat-second-org"
    assert {o.name for o in api.find_organizations()} >= {"default", "compat-second-org"}
    created.description = "renamed"
    created.name = "compat-renamed-org"
    updated = api.update_organization(created)
    assert updated.name == "compat-renamed-org"
    assert api.find_organization(created.id).description == "renamed"
    api.delete_organization(created.id)
    with pytest.raises(ApiException) as e:
        api.find_organization(created.id)
    assert e.value.status == 404


def test_buckets_crud_find_by_name_and_pagination(client, org):
    api = client.buckets_api()
    rules = BucketRetentionRules(type="expire", every_seconds=3600)
    b = api.create_bucket(bucket_name="compat-b1", retention_rules=rules, org_id=org.id,
                          description="first")
    assert b.name == "compat-b1"
    assert b.retention_rules[0].every_seconds == 3600
    found = api.find_bucket_by_name("compat-b1")
    assert found.id == b.id
    assert api.find_bucket_by_id(b.id).description == "first"

    b.description = "changed"
    b.retention_rules = [BucketRetentionRules(type="expire", every_seconds=7200)]
    updated = api.update_bucket(b)
    assert updated.description == "changed"
    assert updated.retention_rules[0].every_seconds == 7200

    for i in range(5):
        api.create_bucket(bucket_name=f"compat-page-{i}", org_id=org.id)
    first = api.find_buckets(limit=2, org_id=org.id).buckets
    second = api.find_buckets(limit=2, offset=2, org_id=org.id).buckets
    assert len(first) == 2 and len(second) == 2
    assert {x.id for x in first}.isdisjoint({x.id for x in second})
    names = [x.name for x in api.find_buckets_iter(org_id=org.id, limit=2)]
    assert len(names) == len(set(names))
    assert {f"compat-page-{i}" for i in range(5)} <= set(names)
    assert {"_monitoring", "_tasks"} <= set(names)

    api.delete_bucket(b)
    assert api.find_bucket_by_name("compat-b1") is None
    with pytest.raises(ApiException) as e:
        api.create_bucket(bucket_name="_reserved", org_id=org.id)
    assert e.value.status == 400


def test_authorizations_create_list_patch_delete(client, org, server):
    api = client.authorizations_api()
    perm = Permission(action="read", resource=PermissionResource(type="buckets", org_id=org.id))
    auth = api.create_authorization(org_id=org.id, permissions=[perm])
    assert auth.token and auth.token != "redacted"
    listed = {a.id: a for a in api.find_authorizations()}
    assert auth.id in listed and listed[auth.id].token == "redacted"
    assert auth.id in {a.id for a in api.find_authorizations_by_org_id(org.id)}

    # The new read-only token can list buckets but cannot create one.
    with InfluxDBClient(url=server.url, token=auth.token, org="default") as ro:
        assert ro.buckets_api().find_buckets().buckets is not None
        with pytest.raises(ApiException) as e:
            ro.buckets_api().create_bucket(bucket_name="compat-denied", org_id=org.id)
        assert e.value.status == 401

    auth.status = "inactive"
    assert api.update_authorization(auth).status == "inactive"
    with InfluxDBClient(url=server.url, token=auth.token, org="default") as ro:
        with pytest.raises(ApiException) as e:
            ro.buckets_api().find_buckets()
        assert e.value.status == 401

    api.delete_authorization(auth)
    assert auth.id not in {a.id for a in api.find_authorizations()}


def test_dbrp_service_crud(client, org):
    bucket = client.buckets_api().create_bucket(bucket_name="compat-dbrp", org_id=org.id)
    svc = DBRPsService(client.api_client)
    first = svc.post_dbrp(DBRPCreate(org_id=org.id, bucket_id=bucket.id, database="compatdb",
                                     retention_policy="autogen", default=False))
    assert first.default is True  # the first mapping of a database becomes its default
    second = svc.post_dbrp(DBRPCreate(org_id=org.id, bucket_id=bucket.id, database="compatdb",
                                      retention_policy="weekly", default=True))
    listed = {d.retention_policy: d for d in svc.get_dbr_ps(org_id=org.id, db="compatdb").content}
    assert listed["weekly"].default is True and listed["autogen"].default is False

    got = svc.get_dbr_ps_id(first.id, org_id=org.id).content
    assert got.database == "compatdb"
    patched = svc.patch_dbrpid(first.id, DBRPUpdate(default=True), org_id=org.id).content
    assert patched.default is True

    svc.delete_dbrpid(first.id, org_id=org.id)
    remaining = svc.get_dbr_ps(org_id=org.id, db="compatdb").content
    assert [d.id for d in remaining] == [second.id] and remaining[0].default is True
