//! Tests: table tests over `data/*.txt` (`cases`; `UPDATE_EXPECT=1` rewrites them), property
//! tests (`props`) and tests of the API around the grammar (`units`).

mod cases;
mod props;
mod units;
