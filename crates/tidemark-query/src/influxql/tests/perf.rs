//! Timing probe (ignored by default).

use super::{SEC, T0};
use crate::tests::fixture;

#[tokio::test]
#[ignore]
async fn timing() {
    let f = fixture().await;
    let mut lp = String::new();
    for h in 0..50 {
        for i in 0..2000i64 {
            let t = T0 + i * 10 * SEC;
            lp.push_str(&format!(
                "cpu,hostname=host_{h} usage_user={i}.5,usage_system={h}.0,usage_idle=3i {t}\n"
            ));
        }
        f.write(&lp).await;
        lp.clear();
    }
    f.persist().await;
    for q in [
        "SELECT max(usage_user) FROM cpu WHERE hostname='host_1' AND time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T01:00:00Z' GROUP BY time(1m)",
        "SELECT mean(*) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T06:00:00Z' GROUP BY time(1h), hostname",
        "SELECT last(usage_user) FROM cpu GROUP BY hostname",
        "SELECT max(usage_user) FROM cpu WHERE time < '2024-01-01T06:00:00Z' GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
        "SELECT usage_user FROM cpu WHERE hostname = 'host_3'",
        "SELECT mode(usage_user) FROM cpu GROUP BY time(1h)",
        "SELECT * FROM cpu LIMIT 10",
        "SELECT * FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1",
        "SELECT * FROM cpu WHERE usage_user > 1990",
    ] {
        let start = std::time::Instant::now();
        let out = f.try_influxql(q).await.expect("query");
        println!("{:?} {} lines: {q}", start.elapsed(), out.lines().count());
    }
}
