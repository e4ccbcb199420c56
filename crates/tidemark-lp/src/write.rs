//! Writing a line back as line protocol.

use std::fmt::{self, Write as _};

use crate::escape::{write_name, write_string, Escapes};
use crate::line::{FieldValue, ParsedLine};

/// Appends `line` as one line of line protocol, without a trailing newline.
///
/// Every line the parser produces comes back identical when this text is parsed again. A
/// hand-built line need not: a name with a tab or newline not preceded by a backslash, an empty
/// name or one ending in a backslash, or a line without fields has no line-protocol spelling,
/// and is written as is.
pub fn write_line(line: &ParsedLine<'_>, out: &mut String) {
    write_name(out, &line.measurement, Escapes::Measurement);
    for tag in &line.tags {
        out.push(',');
        write_name(out, &tag.key, Escapes::Key);
        out.push('=');
        write_name(out, &tag.value, Escapes::Key);
    }
    for (i, field) in line.fields.iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        write_name(out, &field.key, Escapes::Key);
        out.push('=');
        write_value(out, &field.value);
    }
    if let Some(ts) = line.timestamp {
        push_display(out, format_args!(" {ts}"));
    }
}

fn write_value(out: &mut String, value: &FieldValue<'_>) {
    match value {
        // Line protocol has no spelling for infinity, but the parser turns a float too large
        // for f64 into one; 1e999 is such a float.
        FieldValue::F64(v) if v.is_infinite() => {
            out.push_str(if *v > 0.0 { "1e999" } else { "-1e999" })
        }
        // `Display` never uses an exponent and prints the shortest text that reads back as the
        // same f64; the parser accepts every such text.
        FieldValue::F64(v) => push_display(out, format_args!("{v}")),
        FieldValue::I64(v) => push_display(out, format_args!("{v}i")),
        FieldValue::U64(v) => push_display(out, format_args!("{v}u")),
        FieldValue::Str(v) => {
            out.push('"');
            write_string(out, v);
            out.push('"');
        }
        FieldValue::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
    }
}

fn push_display(out: &mut String, args: fmt::Arguments<'_>) {
    // Writing into a String cannot fail.
    let _ = out.write_fmt(args);
}

impl fmt::Display for ParsedLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_line(self, &mut out);
        f.write_str(&out)
    }
}
