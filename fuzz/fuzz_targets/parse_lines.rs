//! Any bytes: parsing must not panic, both entry points must agree, and every line that parses
//! must come back identical after serialising and parsing again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tidemark_lp::{parse_lines, write_line};

fuzz_target!(|data: &[u8]| {
    let owned: Vec<_> = parse_lines(data).collect();
    let mut lines = parse_lines(data);
    let mut text = String::new();
    let mut count = 0;
    while let Some(item) = lines.next_borrowed() {
        let same = owned.get(count).map(|o| o.as_ref());
        assert_eq!(
            same,
            Some(item.as_ref().map(|l| &**l)),
            "next and next_borrowed disagree"
        );
        count += 1;

        let Ok(line) = item else { continue };
        text.clear();
        write_line(line, &mut text);
        let mut again = parse_lines(text.as_bytes());
        match again.next() {
            Some(Ok(mut reparsed)) => {
                reparsed.line_number = line.line_number;
                assert_eq!(&reparsed, line, "{text:?} reads back differently");
            }
            other => panic!("{line:?} was written as {text:?}, which gives {other:?}"),
        }
        assert!(again.next().is_none(), "{text:?} is more than one line");
    }
    assert_eq!(count, owned.len());
});
