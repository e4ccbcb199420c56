-- The catalog's first schema. Kept in step with ../sqlite/0001_init.sql: same tables, columns,
-- constraints and indexes. Every text column uses the "C" collation so that ordering and equality
-- are byte-wise, as in SQLite: listings come out in the same order on both backends.
--
-- IDs are 16 lower-case hex digits, so their text order is their numeric order. Times are
-- nanoseconds since the Unix epoch. Flags are 0/1 integers (the same on both backends).

CREATE TABLE meta (
    key   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE orgs (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name        TEXT COLLATE "C" NOT NULL UNIQUE,
    description TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE buckets (
    id                           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id                       TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name                         TEXT COLLATE "C" NOT NULL,
    description                  TEXT COLLATE "C" NOT NULL,
    bucket_type                  TEXT COLLATE "C" NOT NULL,
    retention_seconds            BIGINT NOT NULL,
    shard_group_duration_seconds BIGINT,
    schema_type                  TEXT COLLATE "C" NOT NULL,
    created_at                   BIGINT NOT NULL,
    updated_at                   BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX buckets_by_name ON buckets (name, id);

CREATE TABLE authorizations (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id      TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    token_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
    description TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    -- JSON array of permissions, as serde_json writes Vec<Permission>.
    permissions TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX authorizations_by_org ON authorizations (org_id, created_at, id);
CREATE INDEX authorizations_by_user ON authorizations (user_id);
CREATE INDEX authorizations_by_created ON authorizations (created_at, id);

CREATE TABLE dbrps (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id     TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    bucket_id  TEXT COLLATE "C" NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    db_name    TEXT COLLATE "C" NOT NULL,
    rp_name    TEXT COLLATE "C" NOT NULL,
    is_default BIGINT NOT NULL CHECK (is_default IN (0, 1)),
    UNIQUE (org_id, db_name, rp_name)
);
-- At most one default per (org, database); the code keeps "at least one".
CREATE UNIQUE INDEX dbrps_one_default ON dbrps (org_id, db_name) WHERE is_default = 1;
CREATE INDEX dbrps_by_bucket ON dbrps (bucket_id);
