-- Tables (one per measurement of a bucket), their columns, and the Parquet files holding their
-- persisted rows. Kept in step with ../sqlite/0002_tables_and_files.sql: same tables, columns,
-- constraints and indexes; only the type names and PostgreSQL's byte-wise "C" collation differ.
--
-- Deleting a bucket deletes its tables, their columns and its file records (the foreign keys
-- cascade; the code deletes them explicitly too).

CREATE TABLE tables (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    bucket_id  TEXT COLLATE "C" NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    explicit   BIGINT NOT NULL CHECK (explicit IN (0, 1)),
    created_at BIGINT NOT NULL,
    UNIQUE (bucket_id, name)
);

-- `time` is not stored: every table has it. `position` is the order added, from 0 without gaps;
-- `kind` is ColumnKind::as_str.
CREATE TABLE columns (
    table_id TEXT COLLATE "C" NOT NULL REFERENCES tables (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name     TEXT COLLATE "C" NOT NULL,
    kind     TEXT COLLATE "C" NOT NULL,
    UNIQUE (table_id, name),
    UNIQUE (table_id, position)
);

CREATE TABLE parquet_files (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    bucket_id     TEXT COLLATE "C" NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    table_id      TEXT COLLATE "C" NOT NULL REFERENCES tables (id) ON DELETE CASCADE,
    partition_day BIGINT NOT NULL,
    path          TEXT COLLATE "C" NOT NULL,
    min_time      BIGINT NOT NULL,
    max_time      BIGINT NOT NULL,
    row_count     BIGINT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    level         BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX parquet_files_by_bucket
    ON parquet_files (bucket_id, table_id, partition_day, min_time);
-- For the cascade from `tables`.
CREATE INDEX parquet_files_by_table ON parquet_files (table_id);
