//! The rules, one input at a time. Error texts come from IOx's own tests where it has them.

use super::parse_all;

/// One-line bodies and what they give: a line as `describe` shows it, `E: <message>` for a
/// parse error or `W: <message>` for a write error (both on line 1).
pub(super) const ONE_LINE: &[(&str, &str)] = &[
    // The shape: measurement, tags, fields, timestamp.
    ("cpu,host=A,region=west usage_system=64i 1590488773254420000", "cpu [host=A,region=west] usage_system=64i @1590488773254420000"),
    ("cpu f=1", "cpu [] f=1.0 @-"),
    ("cpu,a=1 f=1,g=2 -5", "cpu [a=1] f=1.0,g=2.0 @-5"),
    // Separators: one or more spaces; leading spaces and tabs; spaces after a timestamp only.
    ("  m  f=1  5  ", "m [] f=1.0 @5"),
    ("\t m f=1", "m [] f=1.0 @-"),
    ("m f=1 ", "E: Could not parse entire line. Found trailing content: ` `"),
    ("m f=1\t5", "E: Could not parse entire line. Found trailing content: `\t5`"),
    ("m\tf=1 5", "E: Expected at least one space character, got `\tf=1 5`"),
    ("m,t=a\tb f=1", "E: Expected at least one space character, got `\tb f=1`"),
    ("m,t\tx=a f=1", "E: Tag set malformed: could not find equals sign in `t\tx=a f=1`"),
    ("m f\tg=1", "E: No fields were provided"),
    ("measurement", "E: Expected at least one space character, got end of input"),
    // `\r` is not white space, so CRLF bodies fail.
    ("m f=1\r", "E: Could not parse entire line. Found trailing content: `\r`"),
    ("m f=1 5\r", "E: Could not parse entire line. Found trailing content: `\r`"),
    ("m\r f=1", "m\r [] f=1.0 @-"),
    // Measurement: escapes `,` space `\`; other escapes keep both characters; `=` is literal.
    (r"wea\,ther f=1", "wea,ther [] f=1.0 @-"),
    (r"wea\ ther f=1", "wea ther [] f=1.0 @-"),
    (r"\\wea\\ther f=1", r"\wea\ther [] f=1.0 @-"),
    (r"\wea\ther f=1", r"\wea\ther [] f=1.0 @-"),
    (r"m\=x f=1", r"m\=x [] f=1.0 @-"),
    ("a=b f=1", "a=b [] f=1.0 @-"),
    ("tag1=1,tag2=2 value=1 123", "tag1=1 [tag2=2] value=1.0 @123"),
    (r"\#cpu f=1", r"\#cpu [] f=1.0 @-"),
    ("m\"q f=1", "m\"q [] f=1.0 @-"),
    ("m\\\tx f=1", "m\\\tx [] f=1.0 @-"),
    ("m\\\0 f=1", "m\\\0 [] f=1.0 @-"),
    ("\u{e9}t\u{e9} f=1", "\u{e9}t\u{e9} [] f=1.0 @-"),
    ("m\\\u{e9} f=1", "m\\\u{e9} [] f=1.0 @-"),
    (",t=1 f=1", "E: Invalid measurement was provided"),
    (",", "E: Invalid measurement was provided"),
    ("\0 field=1 1234", "E: Invalid measurement was provided"),
    ("\0,tag1=1 value=1 123", "E: Invalid measurement was provided"),
    (r"m\ f=1", "E: Expected at least one space character, got end of input"),
    ("m\\", "E: Measurements, tag keys and values, and field keys may not end with a backslash"),
    (r"m\\ f=1", "E: Measurements, tag keys and values, and field keys may not end with a backslash"),
    (":\u{14}\\", "E: Measurements, tag keys and values, and field keys may not end with a backslash"),
    // Tags: keys, values and field keys escape `,` `=` space `\`.
    (r"m,t\,k=v\=x,a\ b=c\ d f=1", "m [t,k=v=x,a b=c d] f=1.0 @-"),
    (r"m,k\\k=v\\x f=1", r"m [k\k=v\x] f=1.0 @-"),
    (r"m,k=v\x f=1", r"m [k=v\x] f=1.0 @-"),
    ("m,k=a\\\tb f=1", "m [k=a\\\tb] f=1.0 @-"),
    // IOx quirks: an unescaped `,` in a tag key and `=` in a tag value are literal.
    ("m,a,b=c f=1", "m [a,b=c] f=1.0 @-"),
    ("m,a=b=c f=1", "m [a=b=c] f=1.0 @-"),
    ("m,tag\x001=one,tag2=\0 value=1", "m [tag\x001=one,tag2=\0] value=1.0 @-"),
    ("m,a= f=1", "E: Expected tag value, got ` f=1`"),
    ("testmeasure,foo=,baz= bar=1i", "E: Expected tag value, got `,baz= bar=...`"),
    ("metrics,bananas=,platanos=great value=1.000000 1725629157696678000", "E: Expected tag value, got `,platanos=...`"),
    ("0,,=", "E: Expected tag value, got end of input"),
    (r"testmeasure,foo\=\,baz= bar=1i", "E: Expected tag value, got ` bar=1i`"),
    ("m,=a f=1", "E: Expected tag key, got `=a f=1`"),
    ("testmeasure, bar=1i", "E: Expected tag key, got ` bar=1i`"),
    ("m,", "E: Expected tag key, got end of input"),
    ("m,a=1, f=1", "E: Expected tag key, got ` f=1`"),
    ("m,t f=1", "E: Tag set malformed: could not find equals sign in `t f=1`"),
    ("J,#", "E: Tag set malformed: could not find equals sign in `#`"),
    ("zz,t=1,uuuuuuuuuuuuuuuuuuuuu v=1", "E: Tag set malformed: could not find equals sign in `t=1,uuuuuu...`"),
    ("m,a=1,b", "E: Tag set malformed: could not find equals sign in `a=1,b`"),
    (r"m,a\=x f=1", "E: Tag set malformed: could not find equals sign in `a\\=x f=1`"),
    ("m,k\\", "E: Measurements, tag keys and values, and field keys may not end with a backslash"),
    ("m,k=v\\", "E: Measurements, tag keys and values, and field keys may not end with a backslash"),
    (r"m,k\\=v f=1", "E: Measurements, tag keys and values, and field keys may not end with a backslash"),
    ("m,k=v ", "E: No fields were provided"),
    ("m,k=\t\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}", "E: Expected tag value, got `\t\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}...`"),
    // Write-stage checks, in IOx's order.
    ("m,a=1,a=2 f=1", "W: the tag 'a' is specified more than once with conflicting values"),
    ("m,a=1,b=1,b=1,a=1 f=1", "W: the tag 'b' is specified more than once with conflicting values"),
    (r"m,a\,b=1,a,b=2 f=1", "W: the tag 'a,b' is specified more than once with conflicting values"),
    ("m,time=1 f=1", "W: input tag \"time\" on measurement \"m\" is invalid"),
    (r"m\ x,a=1,a=1,time=1 f=1", "W: input tag \"time\" on measurement \"m x\" is invalid"),
    ("m time=1", "W: invalid field name: input field \"time\" on measurement \"m\" is invalid"),
    ("m,a=1,a=2 time=1", "W: invalid field name: input field \"time\" on measurement \"m\" is invalid"),
    ("m time=1,time=2i", "W: invalid field name: input field \"time\" on measurement \"m\" is invalid"),
    ("m time=1,f=2 3", "m [] f=2.0 @3"),
    ("m f=2,time=\"x\",g=t", "m [] f=2.0,g=true @-"),
    ("m Time=1", "m [] Time=1.0 @-"),
    ("m,Time=1 f=1", "m [Time=1] f=1.0 @-"),
    ("m f=1i,f=2i", "m [] f=2i @-"),
    ("m v=2,bananas=42,v=3,platanos=24", "m [] bananas=42.0,v=3.0,platanos=24.0 @-"),
    ("m f=1i,f=2", "W: the field 'f' is specified more than once with conflicting types"),
    ("m f=1i,g=1,f=2i,f=\"x\"", "W: the field 'f' is specified more than once with conflicting types"),
    (r"table ,field=33,\,field=333", "table [] ,field=333.0 @-"),
    ("m,f=1 f=1", "m [f=1] f=1.0 @-"),
    // Field keys.
    (r"m f\,g\=h\ i=1", "m [] f,g=h i=1.0 @-"),
    ("m a,b=1", "m [] a,b=1.0 @-"),
    ("m val\0ue=1", "m [] val\0ue=1.0 @-"),
    (r"m f\=1", "E: No fields were provided"),
    ("m f\\", "E: Measurements, tag keys and values, and field keys may not end with a backslash"),
    ("m f=1,g\\", "E: Measurements, tag keys and values, and field keys may not end with a backslash"),
    ("foo 1234", "E: No fields were provided"),
    ("field=1 1234", "E: No fields were provided"),
    ("m =1", "E: No fields were provided"),
    ("\u{1b}# /", "E: No fields were provided"),
    // Floats: bare numbers, decimals, exponents; no leading `.` or `+`.
    ("m a=1,b=-1.5,c=1e9,d=1E+9,e=1.5e-3,f=-0,g=007,h=-1e-0", "m [] a=1.0,b=-1.5,c=1000000000.0,d=1000000000.0,e=0.0015,f=-0.0,g=7.0,h=-1.0 @-"),
    ("m a=123456789012345678901234567890", "m [] a=1.2345678901234568e29 @-"),
    ("m a=1.234456e06", "m [] a=1234456.0 @-"),
    ("m a=1.", "E: Could not parse entire line. Found trailing content: `.`"),
    ("m a=1.e5", "E: Could not parse entire line. Found trailing content: `.e5`"),
    ("m a=1e", "E: Could not parse entire line. Found trailing content: `e`"),
    ("m0 field=-1.234456e+ 1615869152385000000", "E: Could not parse entire line. Found trailing content: `e+ 1615869...`"),
    ("m a=1.5e", "E: Could not parse entire line. Found trailing content: `e`"),
    ("m a=1e5.5", "E: Could not parse entire line. Found trailing content: `.5`"),
    ("m a=.5", "E: No fields were provided"),
    ("m a=+5", "E: No fields were provided"),
    ("m a=-", "E: No fields were provided"),
    ("m a=-x", "E: No fields were provided"),
    ("m a=1.2.3", "E: Could not parse entire line. Found trailing content: `.3`"),
    // Integers and unsigned integers.
    ("m a=123i,b=-123i,c=9223372036854775807i,d=-9223372036854775808i,e=0i,f=-0i", "m [] a=123i,b=-123i,c=9223372036854775807i,d=-9223372036854775808i,e=0i,f=0i @-"),
    ("m a=00000000000000000000000000042i", "m [] a=42i @-"),
    ("m a=9223372036854775808i", "E: Unable to parse integer value `9223372036854775808`"),
    ("m a=-9223372036854775809i", "E: Unable to parse integer value `-9223372036854775809`"),
    ("testmeasure field=66666666666666666666666666666666666666666666668i", "E: Unable to parse integer value `66666666666666666666666666666666666666666666668`"),
    ("m a=123u,b=18446744073709551615u,c=0u", "m [] a=123u,b=18446744073709551615u,c=0u @-"),
    ("m a=18446744073709551616u", "E: Unable to parse unsigned integer value `18446744073709551616`"),
    ("m a=-1u", "E: Could not parse entire line. Found trailing content: `u`"),
    ("m a=1.5i", "E: Could not parse entire line. Found trailing content: `i`"),
    ("m a=1e3i", "E: Could not parse entire line. Found trailing content: `i`"),
    ("m a=1i,b=99999999999999999999i", "E: Unable to parse integer value `99999999999999999999`"),
    ("m a=1i,b=2i,c=99999999999999999999u", "E: Unable to parse unsigned integer value `99999999999999999999`"),
    // Booleans: the first spelling that is a prefix wins.
    ("m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE", "m [] a=true,b=true,c=true,d=true,e=true,f=false,g=false,h=false,i=false,j=false @-"),
    ("m a=tru", "E: Could not parse entire line. Found trailing content: `ru`"),
    ("m a=tRUE", "E: Could not parse entire line. Found trailing content: `RUE`"),
    ("m a=FaLSE", "E: Could not parse entire line. Found trailing content: `aLSE`"),
    ("m a=yes", "E: No fields were provided"),
    // Strings: `\"` and `\\` are escapes, any other backslash stays.
    (r#"m s="""#, r#"m [] s="" @-"#),
    (r#"m s="a b,c=d" 1"#, r#"m [] s="a b,c=d" @1"#),
    (r#"m s="The \"string\" val""#, r#"m [] s="The \"string\" val" @-"#),
    (r#"m s="too hot\cold""#, r#"m [] s="too hot\\cold" @-"#),
    (r#"m s="too hot\\cold""#, r#"m [] s="too hot\\cold" @-"#),
    (r#"m s="too hot\\\cold""#, r#"m [] s="too hot\\\\cold" @-"#),
    (r#"m s="too hot\\\\cold""#, r#"m [] s="too hot\\\\cold" @-"#),
    (r#"m s="too hot\\\\\cold""#, r#"m [] s="too hot\\\\\\cold" @-"#),
    (r#"m s="a\nb\tc""#, r#"m [] s="a\\nb\\tc" @-"#),
    ("m s=\"v\0\"", "m [] s=\"v\\0\" @-"),
    (r#"m s="abc"#, "E: No fields were provided"),
    (r#"m s="abc\""#, "E: No fields were provided"),
    (r#"m f=1,s="abc"#, "E: Could not parse entire line. Found trailing content: `s=\"abc`"),
    (r#"m s="a"b"#, "E: Could not parse entire line. Found trailing content: `b`"),
    (r#"m s=abc"#, "E: No fields were provided"),
    // The field list: a broken second field is trailing content from after its comma, a broken
    // later one from its comma; a trailing comma after the first field is ignored.
    ("m f=1,", "m [] f=1.0 @-"),
    ("m f=1, 5", "m [] f=1.0 @5"),
    ("m f=1,g=2,", "E: Could not parse entire line. Found trailing content: `,`"),
    ("m f=1,g=2, 5", "E: Could not parse entire line. Found trailing content: `, 5`"),
    ("testmeasure,foo=f bar=1i,baz=", "E: Could not parse entire line. Found trailing content: `baz=`"),
    ("zz v=1,w=2,x=3,y= 5", "E: Could not parse entire line. Found trailing content: `,y= 5`"),
    ("zz v=1,w=abcdefghijklmnop", "E: Could not parse entire line. Found trailing content: `w=abcdefgh...`"),
    ("m f=1 \u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}", "E: Could not parse entire line. Found trailing content: ` \u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}...`"),
    // Timestamps: optional, signed, i64.
    ("m f=1 -123", "m [] f=1.0 @-123"),
    ("m f=1 0000000000000000000000001", "m [] f=1.0 @1"),
    ("m f=1 9223372036854775807", "m [] f=1.0 @9223372036854775807"),
    ("m f=1 -9223372036854775808", "m [] f=1.0 @-9223372036854775808"),
    ("m f=1 9223372036854775808", "E: Unable to parse timestamp value `9223372036854775808`"),
    ("testmeasure field=3.0 188888888888888888888888888888888888888888888888888888888888888888888888", "E: Unable to parse timestamp value `188888888888888888888888888888888888888888888888888888888888888888888888`"),
    ("m f=1 1.5", "E: Could not parse entire line. Found trailing content: `.5`"),
    ("m f=1 abc", "E: Could not parse entire line. Found trailing content: ` abc`"),
    ("m f=1 1 2", "E: Could not parse entire line. Found trailing content: `2`"),
    ("m f=1 -", "E: Could not parse entire line. Found trailing content: ` -`"),
    ("m f=1 123i", "E: Could not parse entire line. Found trailing content: `i`"),
];

/// Bodies of several lines and every item they give, as `parse_all` shows them.
const BODIES: &[(&[u8], &[&str])] = &[
    (b"", &[]),
    (b"\n\n\n", &[]),
    (b"# comment", &[]),
    (b"  # comment\n\t#another\n", &[]),
    (b"a f=1\nb f=2\n", &["1: a [] f=1.0 @-", "2: b [] f=2.0 @-"]),
    // Line numbers count blank and comment lines; an error does not stop the lines after it.
    (
        b"m f=1\n\nbad\n# c\n,t=1 f=1\nm f=2",
        &[
            "1: m [] f=1.0 @-",
            "3: error parsing line 3 (1-based): Expected at least one space character, got end of input",
            "5: error parsing line 5 (1-based): Invalid measurement was provided",
            "6: m [] f=2.0 @-",
        ],
    ),
    (b"m f=1\r\nm f=2\r\n", &[
        "1: error parsing line 1 (1-based): Could not parse entire line. Found trailing content: `\r`",
        "2: error parsing line 2 (1-based): Could not parse entire line. Found trailing content: `\r`",
    ]),
    // A string field may hold newlines; the next line's number accounts for them.
    (b"m s=\"a\nb\" 1\nm f=2", &["1: m [] s=\"a\\nb\" @1", "3: m [] f=2.0 @-"]),
    (b"m s=\"a\n\n\nb\",f=1\nm f=2", &["1: m [] s=\"a\\n\\n\\nb\",f=1.0 @-", "5: m [] f=2.0 @-"]),
    // An escaped quote does not open a string, so the newline ends the line.
    (b"m f=\\\"\nval\"\nnext", &[
        "1: error parsing line 1 (1-based): No fields were provided",
        "2: error parsing line 2 (1-based): Expected at least one space character, got end of input",
        "3: error parsing line 3 (1-based): Expected at least one space character, got end of input",
    ]),
    // A backslash keeps the newline after it in the line.
    (b"m\\\nx f=1\nn f=2", &["1: m\\\nx [] f=1.0 @-", "3: n [] f=2.0 @-"]),
    // IOx's quote heuristic counts `=` and `,`: an unescaped comma in a field key stops the
    // quote from opening, so the newline splits the string.
    (b"m a,b=\"x\ny\"", &[
        "1: error parsing line 1 (1-based): No fields were provided",
        "2: error parsing line 2 (1-based): Expected at least one space character, got end of input",
    ]),
    // ... and a comment with a quote in it runs on until the quote closes.
    (b"# a b=\"c\nm f=1\nn f=\"2\"", &["2: error parsing line 2 (1-based): Could not parse entire line. Found trailing content: `\nn f=\"2\"`"]),
    // A line that is not UTF-8 is refused on its own.
    (b"m f=1\nm\xff f=1\nm f=2", &[
        "1: m [] f=1.0 @-",
        "2: error parsing line 2 (1-based): Invalid UTF-8 at byte 1 of the line",
        "3: m [] f=2.0 @-",
    ]),
    (b"\xff\xfe", &["1: error parsing line 1 (1-based): Invalid UTF-8 at byte 0 of the line"]),
    (b"# \xff comment\nm f=1", &["2: m [] f=1.0 @-"]),
];

fn expand(expected: &str) -> String {
    if let Some(message) = expected.strip_prefix("E: ") {
        format!("1: error parsing line 1 (1-based): {message}")
    } else if let Some(message) = expected.strip_prefix("W: ") {
        format!("1: error writing line 1 (1-based): {message}")
    } else {
        format!("1: {expected}")
    }
}

#[test]
fn one_line_bodies() {
    let mut failures = Vec::new();
    for (input, expected) in ONE_LINE {
        let got = parse_all(input.as_bytes());
        let want = vec![expand(expected)];
        if got != want {
            failures.push(format!("input {input:?}\n  want {want:?}\n   got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        ONE_LINE.len(),
        failures.join("\n")
    );
}

#[test]
fn multi_line_bodies() {
    let mut failures = Vec::new();
    for (input, expected) in BODIES {
        let got = parse_all(input);
        if got != *expected {
            failures.push(format!(
                "input {:?}\n  want {expected:?}\n   got {got:?}",
                String::from_utf8_lossy(input)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        BODIES.len(),
        failures.join("\n")
    );
}

#[test]
fn strings_and_names_up_to_64_kib() {
    let limit = crate::MAX_STRING_LEN;
    let long = |n: usize| "x".repeat(n);
    let ok = |body: String| parse_all(body.as_bytes())[0].starts_with("1: m");
    let too_long = "1: error parsing line 1 (1-based): String is greater than 64KB";

    assert!(ok(format!("m s=\"{}\"", long(limit))));
    assert_eq!(
        parse_all(format!("m s=\"{}\"", long(limit + 1)).as_bytes()),
        [too_long]
    );
    // Escapes count once: 32 Ki `\"` pairs are 32 KiB of value.
    assert!(ok(format!("m s=\"{}\"", "\\\"".repeat(limit / 2 + 1))));
    assert!(ok(format!("m,t={} f=1", long(limit))));
    assert_eq!(
        parse_all(format!("m,t={} f=1", long(limit + 1)).as_bytes()),
        [too_long]
    );
    assert_eq!(
        parse_all(format!("m {}=1", long(limit + 1)).as_bytes()),
        [too_long]
    );
    assert_eq!(
        parse_all(format!("{}\\  f=1", long(limit)).as_bytes()),
        [too_long]
    );
    assert!(ok(format!("m {}\\ =1", long(limit - 1))));
}

#[test]
fn huge_floats_become_infinite() {
    let body = format!("m a={0}.{0}", "9".repeat(1000));
    assert_eq!(parse_all(body.as_bytes()), ["1: m [] a=inf @-"]);
}
