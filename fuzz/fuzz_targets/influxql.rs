//! Any UTF-8 text as an InfluxQL query: parsing must not panic (nor overflow the stack), and a
//! query that parses must print to text that parses back to the same query and prints the
//! same again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tidemark_influxql::parse_query;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(query) = parse_query(text) else {
        return;
    };
    let printed = query.to_string();
    match parse_query(&printed) {
        Ok(again) => {
            assert_eq!(again, query, "{text:?} printed as {printed:?} reads back differently");
            assert_eq!(again.to_string(), printed, "{text:?} prints differently twice");
        }
        Err(e) => panic!("{text:?} printed as {printed:?}, which does not parse: {e}"),
    }
});
