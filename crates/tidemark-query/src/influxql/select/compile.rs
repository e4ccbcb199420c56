//! Compiling projected expressions: function calls checked as 1.x checks them (names,
//! argument counts and kinds, with 1.x's error texts) and turned into aggregate calls,
//! transformations and math over inputs.

use std::sync::Arc;

use tidemark_influxql::{Call, Expr as Ix, Literal, VarRef};

use super::super::condition;
use super::super::statement_error;
use super::super::value::Value;
use super::plan::{uses_agg, AggCall, AggFn, Ex, Input, Math, TransformCall, TransformFn};
use super::technical::Kind;
use crate::error::Result;

const AGGREGATES: &[&str] = &[
    "count", "mean", "sum", "median", "mode", "spread", "stddev", "distinct", "integral",
];
const SELECTORS: &[&str] = &[
    "first",
    "last",
    "max",
    "min",
    "percentile",
    "top",
    "bottom",
    "sample",
];
const TRANSFORMS: &[&str] = &[
    "exponential_moving_average",
    "double_exponential_moving_average",
    "triple_exponential_moving_average",
    "relative_strength_index",
    "triple_exponential_derivative",
    "kaufmans_efficiency_ratio",
    "kaufmans_adaptive_moving_average",
    "chande_momentum_oscillator",
    "holt_winters",
    "holt_winters_with_fit",
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "cumulative_sum",
    "elapsed",
];

fn math_fn(name: &str) -> Option<(Math, usize)> {
    Some(match name {
        "abs" => (Math::Abs, 1),
        "sin" => (Math::Sin, 1),
        "cos" => (Math::Cos, 1),
        "tan" => (Math::Tan, 1),
        "asin" => (Math::Asin, 1),
        "acos" => (Math::Acos, 1),
        "atan" => (Math::Atan, 1),
        "atan2" => (Math::Atan2, 2),
        "exp" => (Math::Exp, 1),
        "ln" => (Math::Ln, 1),
        "log" => (Math::Log, 2),
        "log2" => (Math::Log2, 1),
        "log10" => (Math::Log10, 1),
        "sqrt" => (Math::Sqrt, 1),
        "pow" => (Math::Pow, 2),
        "floor" => (Math::Floor, 1),
        "ceil" => (Math::Ceil, 1),
        "round" => (Math::Round, 1),
        _ => return None,
    })
}

fn arg_count(name: &str, args: &[Ix], expected: usize) -> Result<()> {
    if args.len() != expected {
        return Err(statement_error(format!(
            "invalid number of arguments for {name}, expected {expected}, got {}",
            args.len()
        )));
    }
    Ok(())
}

fn arg_range(name: &str, args: &[Ix], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        return Err(statement_error(format!(
            "invalid number of arguments for {name}, expected at least {min} but no more than {max}, got {}",
            args.len()
        )));
    }
    Ok(())
}

/// `indicator(x, period[, hold_period[, warmup_type]])` (Kaufman's take no warm-up type).
fn technical(name: &str, args: &[Ix]) -> Result<TransformFn> {
    let mut kind =
        Kind::of(name).ok_or_else(|| statement_error(format!("undefined function {name}()")))?;
    let max = if matches!(kind, Kind::Ker | Kind::Kama) {
        3
    } else {
        4
    };
    arg_range(name, args, 2, max)?;
    let period = match args.get(1) {
        Some(Ix::Literal(Literal::Integer(n))) if *n >= 1 => *n as usize,
        Some(Ix::Literal(Literal::Integer(_))) => {
            return Err(statement_error(format!(
                "{name} period must be greater than or equal to 1"
            )))
        }
        _ => return Err(statement_error(format!("{name} period must be an integer"))),
    };
    let hold = match args.get(2) {
        None | Some(Ix::Literal(Literal::Integer(-1))) => None,
        Some(Ix::Literal(Literal::Integer(h))) if *h >= 0 => Some(*h as usize),
        Some(_) => {
            return Err(statement_error(format!(
                "{name} hold period must be greater than or equal to 0"
            )))
        }
    };
    let simple_warmup = match args.get(3) {
        None if kind == Kind::Cmo => false,
        None => false,
        Some(Ix::Literal(Literal::String(w))) => match (w.as_str(), kind) {
            ("exponential", Kind::Cmo) => {
                kind = Kind::CmoSmoothed;
                false
            }
            ("simple", Kind::Cmo) => {
                kind = Kind::CmoSmoothed;
                true
            }
            ("none", Kind::Cmo) => false,
            ("exponential", _) => false,
            ("simple", _) => true,
            (_, Kind::Cmo) => {
                return Err(statement_error(format!(
                    "{name} warmup type must be one of: 'none' 'exponential' 'simple'"
                )))
            }
            _ => {
                return Err(statement_error(format!(
                    "{name} warmup type must be one of: 'exponential' 'simple'"
                )))
            }
        },
        Some(_) => {
            return Err(statement_error(format!(
                "{name} warmup type must be a string"
            )))
        }
    };
    Ok(TransformFn::Technical {
        kind,
        period,
        hold,
        simple_warmup,
    })
}

pub(crate) struct Builder {
    pub(crate) inputs: Vec<Input>,
    pub(crate) aggs: Vec<AggCall>,
    pub(crate) transforms: Vec<TransformCall>,
    /// A field or tag is referenced outside any function.
    pub(crate) raw_refs: bool,
    pub(crate) has_interval: bool,
    pub(crate) top_bottom: Option<String>,
}

impl Builder {
    fn input(&mut self, v: &VarRef) -> usize {
        let input = Input {
            name: v.name.clone(),
            cast: v.data_type,
        };
        if let Some(i) = self.inputs.iter().position(|x| *x == input) {
            return i;
        }
        self.inputs.push(input);
        self.inputs.len() - 1
    }

    /// Compiles a projected expression; `companion` marks top/bottom's tag columns, which do
    /// not count as raw references.
    pub(crate) fn compile(&mut self, e: &Ix, companion: bool) -> Result<Ex> {
        Ok(match e {
            Ix::VarRef(v) => {
                if !companion {
                    self.raw_refs = true;
                }
                Ex::Input(self.input(v))
            }
            Ix::Literal(l) => Ex::Lit(match l {
                Literal::Integer(i) => Value::Int(*i),
                Literal::Unsigned(u) => Value::UInt(*u),
                Literal::Float(f) => Value::Float(*f),
                Literal::String(s) => Value::Str(Arc::from(s.as_str())),
                Literal::Boolean(b) => Value::Bool(*b),
                Literal::Duration(d) => Value::Int(d.nanos()),
                Literal::Regex(_) => {
                    return Err(statement_error("invalid expression: regex in projection"))
                }
            }),
            Ix::Binary(b) => {
                if b.op.is_condition() {
                    return Err(statement_error(format!(
                        "invalid operator {} in SELECT clause",
                        b.op.as_str()
                    )));
                }
                Ex::Bin(
                    Box::new(self.compile(&b.lhs, companion)?),
                    b.op,
                    Box::new(self.compile(&b.rhs, companion)?),
                )
            }
            Ix::Call(c) => self.call(c)?,
            Ix::Wildcard(_) => return Err(statement_error("invalid use of wildcard")),
            Ix::Param(name) => return Err(condition::missing_param(name)),
        })
    }

    /// The field argument of an aggregate.
    fn field_arg(&mut self, c: &Call) -> Result<usize> {
        match c.args.first() {
            Some(Ix::VarRef(v)) => Ok(self.input(v)),
            _ => Err(statement_error(format!(
                "expected field argument in {}()",
                c.name
            ))),
        }
    }

    fn agg(&mut self, func: AggFn, input: usize) -> Ex {
        self.aggs.push(AggCall { func, input });
        Ex::Agg(self.aggs.len() - 1)
    }

    fn call(&mut self, c: &Call) -> Result<Ex> {
        let name = c.name.as_str();
        let args = &c.args;
        if let Some((m, n)) = math_fn(name) {
            arg_count(name, args, n)?;
            let args = args
                .iter()
                .map(|a| self.compile(a, false))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Ex::Math(m, args));
        }
        if TRANSFORMS.contains(&name) {
            return self.transform(c);
        }
        if !AGGREGATES.contains(&name) && !SELECTORS.contains(&name) {
            return Err(statement_error(format!("undefined function {name}()")));
        }
        let func = match name {
            "count" => {
                arg_count(name, args, 1)?;
                if let Some(Ix::Call(inner)) = args.first() {
                    if inner.name == "distinct" {
                        arg_count("distinct", &inner.args, 1)?;
                        let input = self.field_arg(inner)?;
                        return Ok(self.agg(AggFn::CountDistinct, input));
                    }
                }
                AggFn::Count
            }
            "mean" => AggFn::Mean,
            "sum" => AggFn::Sum,
            "median" => AggFn::Median,
            "mode" => AggFn::Mode,
            "spread" => AggFn::Spread,
            "stddev" => AggFn::Stddev,
            "distinct" => AggFn::Distinct,
            "first" => AggFn::First,
            "last" => AggFn::Last,
            "max" => AggFn::Max,
            "min" => AggFn::Min,
            "integral" => {
                arg_range(name, args, 1, 2)?;
                let unit = match args.get(1) {
                    None => 1_000_000_000,
                    Some(Ix::Literal(Literal::Duration(d))) if d.nanos() > 0 => d.nanos(),
                    Some(Ix::Literal(Literal::Duration(d))) => {
                        return Err(statement_error(format!(
                            "duration argument must be positive, got {d}"
                        )))
                    }
                    Some(_) => return Err(statement_error("second argument must be a duration")),
                };
                let input = self.field_arg(c)?;
                return Ok(self.agg(AggFn::Integral(unit), input));
            }
            "percentile" => {
                arg_count(name, args, 2)?;
                let p = match args.get(1) {
                    Some(Ix::Literal(Literal::Integer(i))) => *i as f64,
                    Some(Ix::Literal(Literal::Float(f))) => *f,
                    _ => return Err(statement_error("expected float argument in percentile()")),
                };
                let input = self.field_arg(c)?;
                return Ok(self.agg(AggFn::Percentile(p), input));
            }
            "sample" => {
                arg_count(name, args, 2)?;
                let n = match args.get(1) {
                    Some(Ix::Literal(Literal::Integer(i))) if *i > 0 => *i as usize,
                    Some(Ix::Literal(Literal::Integer(i))) => {
                        return Err(statement_error(format!(
                            "sample window must be greater than 1, got {i}"
                        )))
                    }
                    _ => return Err(statement_error("expected integer argument in sample()")),
                };
                let input = self.field_arg(c)?;
                return Ok(self.agg(AggFn::Sample(n), input));
            }
            "top" | "bottom" => {
                if args.len() < 2 {
                    return Err(statement_error(format!(
                        "invalid number of arguments for {name}, expected at least 2, got {}",
                        args.len()
                    )));
                }
                self.top_bottom = Some(name.to_owned());
                let n = match args.last() {
                    Some(Ix::Literal(Literal::Integer(i))) if *i >= 1 => *i as usize,
                    Some(Ix::Literal(Literal::Integer(i))) => {
                        return Err(statement_error(format!(
                            "limit ({i}) in {name} function must be at least 1"
                        )))
                    }
                    Some(other) => {
                        return Err(statement_error(format!(
                            "expected integer as last argument in {name}(), found {other}"
                        )))
                    }
                    None => 1,
                };
                let mut tags = Vec::new();
                for a in &args[1..args.len() - 1] {
                    match a {
                        Ix::VarRef(v) => tags.push(self.input(v)),
                        other => {
                            return Err(statement_error(format!(
                                "only fields or tags are allowed in {name}(), found {other}"
                            )))
                        }
                    }
                }
                let input = self.field_arg(c)?;
                let func = if name == "top" {
                    AggFn::Top(n, tags)
                } else {
                    AggFn::Bottom(n, tags)
                };
                return Ok(self.agg(func, input));
            }
            _ => return Err(statement_error(format!("undefined function {name}()"))),
        };
        arg_count(name, args, 1)?;
        let input = self.field_arg(c)?;
        Ok(self.agg(func, input))
    }

    fn transform(&mut self, c: &Call) -> Result<Ex> {
        let name = c.name.as_str();
        let args = &c.args;
        let duration = |a: Option<&Ix>| -> Result<Option<i64>> {
            match a {
                None => Ok(None),
                Some(Ix::Literal(Literal::Duration(d))) if d.nanos() > 0 => Ok(Some(d.nanos())),
                Some(Ix::Literal(Literal::Duration(d))) => Err(statement_error(format!(
                    "duration argument must be positive, got {d}"
                ))),
                Some(_) => Err(statement_error(format!(
                    "second argument to {name} must be a duration, got {}",
                    a.map(ToString::to_string).unwrap_or_default()
                ))),
            }
        };
        let func = match name {
            "derivative" | "non_negative_derivative" => {
                arg_range(name, args, 1, 2)?;
                TransformFn::Derivative {
                    unit: duration(args.get(1))?,
                    non_negative: name.starts_with("non_"),
                }
            }
            "difference" | "non_negative_difference" | "cumulative_sum" => {
                arg_count(name, args, 1)?;
                if name == "cumulative_sum" {
                    TransformFn::CumulativeSum
                } else {
                    TransformFn::Difference {
                        non_negative: name.starts_with("non_"),
                    }
                }
            }
            "moving_average" => {
                arg_count(name, args, 2)?;
                match args.get(1) {
                    Some(Ix::Literal(Literal::Integer(n))) if *n > 1 => {
                        TransformFn::MovingAverage(*n as usize)
                    }
                    Some(Ix::Literal(Literal::Integer(n))) => {
                        return Err(statement_error(format!(
                            "moving_average window must be greater than 1, got {n}"
                        )))
                    }
                    _ => {
                        return Err(statement_error(
                            "second argument for moving_average must be an integer",
                        ))
                    }
                }
            }
            _ if Kind::of(name).is_some() => technical(name, args)?,
            "holt_winters" | "holt_winters_with_fit" => {
                arg_count(name, args, 3)?;
                let h = match args.get(1) {
                    Some(Ix::Literal(Literal::Integer(h))) if *h > 0 => *h as usize,
                    _ => {
                        return Err(statement_error(format!(
                            "{name} N argument must be greater than 0"
                        )))
                    }
                };
                let m = match args.get(2) {
                    Some(Ix::Literal(Literal::Integer(m))) if *m >= 0 => *m as usize,
                    _ => {
                        return Err(statement_error(format!(
                            "{name} S argument cannot be negative"
                        )))
                    }
                };
                if !matches!(args.first(), Some(Ix::Call(_))) {
                    return Err(statement_error(format!(
                        "must use aggregate function with {name}"
                    )));
                }
                TransformFn::HoltWinters {
                    h,
                    m,
                    fit: name == "holt_winters_with_fit",
                }
            }
            _ => {
                arg_range(name, args, 1, 2)?;
                TransformFn::Elapsed(duration(args.get(1))?.unwrap_or(1))
            }
        };
        let inner = match args.first() {
            Some(Ix::Call(inner)) => {
                if !self.has_interval {
                    return Err(statement_error(format!(
                        "{name} aggregate requires a GROUP BY interval"
                    )));
                }
                let ex = self.call(inner)?;
                if !uses_agg(&ex) {
                    return Err(statement_error(format!(
                        "aggregate function required inside the call to {name}"
                    )));
                }
                ex
            }
            Some(Ix::VarRef(v)) => {
                if self.has_interval {
                    return Err(statement_error(format!(
                        "aggregate function required inside the call to {name}"
                    )));
                }
                Ex::Input(self.input(v))
            }
            _ => {
                return Err(statement_error(format!(
                    "expected field argument in {name}()"
                )))
            }
        };
        self.transforms.push(TransformCall { func, inner });
        Ok(Ex::Transform(self.transforms.len() - 1))
    }
}
