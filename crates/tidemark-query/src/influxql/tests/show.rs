//! The schema statements: exact results over a small fixture.

use super::cpu;

const CASES: &[(&str, &str)] = &[
    (
        "SHOW SERIES CARDINALITY",
        r#"+------------------+------------------------+
| iox::measurement | cardinality estimation |
+------------------+------------------------+
|                  | 4                      |
+------------------+------------------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW MEASUREMENT EXACT CARDINALITY WHERE host = 'a'",
        r#"+------------------+-------+
| iox::measurement | count |
+------------------+-------+
|                  | 2     |
+------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW MEASUREMENTS",
        r#"+------------------+------+
| iox::measurement | name |
+------------------+------+
| measurements     | cpu  |
| measurements     | disk |
| measurements     | mem  |
+------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW MEASUREMENTS WITH MEASUREMENT =~ /^c/",
        r#"+------------------+------+
| iox::measurement | name |
+------------------+------+
| measurements     | cpu  |
+------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW MEASUREMENTS WHERE host = 'c'",
        r#"+------------------+------+
| iox::measurement | name |
+------------------+------+
| measurements     | disk |
+------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW MEASUREMENTS LIMIT 1 OFFSET 1",
        r#"+------------------+------+
| iox::measurement | name |
+------------------+------+
| measurements     | disk |
+------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW TAG KEYS",
        r#"+------------------+--------+
| iox::measurement | tagKey |
+------------------+--------+
| cpu              | host   |
| cpu              | region |
| disk             | host   |
| disk             | path   |
| mem              | host   |
+------------------+--------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW TAG KEYS FROM cpu WITH KEY = region",
        r#"+------------------+--------+
| iox::measurement | tagKey |
+------------------+--------+
| cpu              | region |
+------------------+--------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW TAG KEYS WHERE host = 'c'",
        r#"+------------------+--------+
| iox::measurement | tagKey |
+------------------+--------+
| disk             | host   |
| disk             | path   |
+------------------+--------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW TAG VALUES WITH KEY = host",
        r#"+------------------+------+-------+
| iox::measurement | key  | value |
+------------------+------+-------+
| cpu              | host | a     |
| cpu              | host | b     |
| disk             | host | c     |
| mem              | host | a     |
+------------------+------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW TAG VALUES FROM cpu WITH KEY IN (host, region) WHERE region = 'west'",
        r#"+------------------+--------+-------+
| iox::measurement | key    | value |
+------------------+--------+-------+
| cpu              | host   | b     |
| cpu              | region | west  |
+------------------+--------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW TAG VALUES WITH KEY =~ /reg/ LIMIT 1",
        r#"+------------------+--------+-------+
| iox::measurement | key    | value |
+------------------+--------+-------+
| cpu              | region | east  |
+------------------+--------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW FIELD KEYS",
        r#"+------------------+----------+-----------+
| iox::measurement | fieldKey | fieldType |
+------------------+----------+-----------+
| cpu              | idle     | integer   |
| cpu              | usage    | float     |
| disk             | full     | boolean   |
| mem              | free     | integer   |
| mem              | used     | float     |
+------------------+----------+-----------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW FIELD KEYS FROM cpu",
        r#"+------------------+----------+-----------+
| iox::measurement | fieldKey | fieldType |
+------------------+----------+-----------+
| cpu              | idle     | integer   |
| cpu              | usage    | float     |
+------------------+----------+-----------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW SERIES",
        r#"+------------------+------------------------+
| iox::measurement | key                    |
+------------------+------------------------+
|                  | cpu,host=a,region=east |
|                  | cpu,host=b,region=west |
|                  | disk,host=c,path=/     |
|                  | mem,host=a             |
+------------------+------------------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW SERIES FROM cpu WHERE host = 'b'",
        r#"+------------------+------------------------+
| iox::measurement | key                    |
+------------------+------------------------+
|                  | cpu,host=b,region=west |
+------------------+------------------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW SERIES EXACT CARDINALITY",
        r#"+------------------+-------+
| iox::measurement | count |
+------------------+-------+
| cpu              | 2     |
| disk             | 1     |
| mem              | 1     |
+------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW MEASUREMENT CARDINALITY",
        r#"+------------------+------------------------+
| iox::measurement | cardinality estimation |
+------------------+------------------------+
|                  | 3                      |
+------------------+------------------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host",
        r#"+------------------+-------+
| iox::measurement | count |
+------------------+-------+
| cpu              | 2     |
| disk             | 1     |
| mem              | 1     |
+------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW FIELD KEY CARDINALITY",
        r#"+------------------+-------+
| iox::measurement | count |
+------------------+-------+
| cpu              | 2     |
| disk             | 1     |
| mem              | 2     |
+------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW TAG KEY CARDINALITY FROM cpu",
        r#"+------------------+-------+
| iox::measurement | count |
+------------------+-------+
| cpu              | 2     |
+------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SHOW MEASUREMENTS WHERE time > now() - 1h",
        r#"+------------------+------+
| iox::measurement | name |
+------------------+------+
| measurements     | cpu  |
| measurements     | disk |
| measurements     | mem  |
+------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
];

#[tokio::test]
async fn cases() {
    let f = cpu().await;
    for (q, want) in CASES {
        let got = f
            .try_influxql(q)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(got, *want, "{q}");
    }
}

/// InfluxDB 3's metadata cutoff: SHOW TAG VALUES looks only at recent rows unless the WHERE
/// bounds time.
#[tokio::test]
async fn metadata_cutoff_limits_tag_values_to_recent_rows() {
    let f = cpu().await;
    // A host last seen a day before the others.
    f.write(&format!(
        "cpu,host=old usage=1 {}",
        super::T0 - 86_400 * super::SEC
    ))
    .await;
    let statement = tidemark_influxql::parse_statement("SHOW TAG VALUES FROM cpu WITH KEY = host")
        .expect("parse");
    let values = |cutoff: Option<i64>| {
        let statement = statement.clone();
        let f = &f;
        async move {
            let options = crate::InfluxQlOptions {
                now: super::NOW,
                metadata_cutoff: cutoff,
            };
            let out = f
                .query
                .influxql(&f.bucket, &statement, &options)
                .await
                .expect("query");
            let batches: Vec<_> = futures::TryStreamExt::try_collect(out.stream)
                .await
                .expect("batches");
            batches.iter().map(|b| b.num_rows()).sum::<usize>()
        }
    };
    assert_eq!(values(None).await, 3);
    assert_eq!(values(Some(3_600 * super::SEC)).await, 2);
    let bounded = f
        .try_influxql("SHOW TAG VALUES FROM cpu WITH KEY = host WHERE time > 0")
        .await
        .expect("bounded");
    assert!(bounded.contains("old"), "{bounded}");
}
