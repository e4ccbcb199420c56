//! Floats in JSON exactly as Go's `encoding/json` writes them (1.x's `/query` is Go): shortest
//! decimal, switching to exponent form below 1e-6 and from 1e21 (`1e-7`, `1.5e+21`). serde_json
//! would write `1e-6` and `1e21` differently, so a formatter wraps the compact or pretty one
//! and replaces only how floats are written.

use std::io::{self, Write};

use serde_json::ser::Formatter;

/// A float as Go writes it.
pub(crate) fn go_float(v: f64) -> String {
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{v:e}");
        // Go writes a sign on positive exponents (`e+21`); Rust writes none.
        match e.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => e,
        }
    } else {
        format!("{v}")
    }
}

/// `F` with Go's floats.
#[derive(Debug, Clone)]
pub(crate) struct GoFloats<F>(pub(crate) F);

impl<F: Formatter> Formatter for GoFloats<F> {
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(go_float(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    // The layout is the inner formatter's.
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_like_go() {
        for (v, want) in [
            (1.5, "1.5"),
            (0.1, "0.1"),
            (-2.25, "-2.25"),
            (0.000001, "0.000001"),
            (0.00001234, "0.00001234"),
            (1e-7, "1e-7"),
            (-1.5e-10, "-1.5e-10"),
            (1e20, "100000000000000000000"),
            (1.5e21, "1.5e+21"),
            (0.0, "0"),
        ] {
            assert_eq!(go_float(v), want, "{v}");
        }
    }
}
