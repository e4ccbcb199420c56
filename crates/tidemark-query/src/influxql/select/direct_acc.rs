//! One aggregate's running state in the direct path (`direct.rs`): the aggregates it computes
//! without DataFusion, with InfluxQL's choice among equal values and times.

use tidemark_influxql::BinaryOp;

use super::super::value::Value;
use super::direct_pred::Num;
use super::plan::AggFn;

/// One aggregate's state over one window.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Acc {
    n: i64,
    isum: i64,
    fsum: f64,
    /// (value, time) of the largest and smallest values: the earliest point among equals.
    max: Option<(Num, i64)>,
    min: Option<(Num, i64)>,
    /// (time, value) of the first and last points: the larger value among equal times.
    first: Option<(i64, Num)>,
    last: Option<(i64, Num)>,
}

fn greater(a: Num, b: Num) -> bool {
    match (a, b) {
        (Num::I(x), Num::I(y)) => x > y,
        (Num::F(x), Num::F(y)) => x > y,
        (Num::I(x), Num::F(y)) => (x as f64) > y,
        (Num::F(x), Num::I(y)) => x > y as f64,
    }
}

impl Acc {
    /// The aggregates [`Acc::add`] and [`Acc::finish`] know.
    pub(super) fn computes(func: &AggFn) -> bool {
        matches!(
            func,
            AggFn::Count
                | AggFn::Sum
                | AggFn::Mean
                | AggFn::Min
                | AggFn::Max
                | AggFn::First
                | AggFn::Last
                | AggFn::Spread
        )
    }

    pub(super) fn add(&mut self, func: &AggFn, v: Num, t: i64) {
        self.n += 1;
        match func {
            AggFn::Sum | AggFn::Mean => match v {
                Num::I(i) => {
                    self.isum = self.isum.wrapping_add(i);
                    self.fsum += i as f64;
                }
                Num::F(f) => self.fsum += f,
            },
            AggFn::Max | AggFn::Spread | AggFn::Min => {
                let better_max = match self.max {
                    None => true,
                    Some((m, mt)) => greater(v, m) || (!greater(m, v) && t < mt),
                };
                if better_max && *func != AggFn::Min {
                    self.max = Some((v, t));
                }
                let better_min = match self.min {
                    None => true,
                    Some((m, mt)) => greater(m, v) || (!greater(v, m) && t < mt),
                };
                if better_min && *func != AggFn::Max {
                    self.min = Some((v, t));
                }
            }
            AggFn::First
                if self
                    .first
                    .is_none_or(|(ft, fv)| t < ft || (t == ft && greater(v, fv))) =>
            {
                self.first = Some((t, v));
            }
            AggFn::Last
                if self
                    .last
                    .is_none_or(|(lt, lv)| t > lt || (t == lt && greater(v, lv))) =>
            {
                self.last = Some((t, v));
            }
            _ => {}
        }
    }

    /// The aggregate's value and, for a selector, its point's time.
    pub(super) fn finish(&self, func: &AggFn, int: bool) -> (Value, Option<i64>) {
        let val = |n: Num| match n {
            Num::I(i) => Value::Int(i),
            Num::F(f) => Value::Float(f),
        };
        if self.n == 0 {
            return (Value::Null, None);
        }
        match func {
            AggFn::Count => (Value::Int(self.n), None),
            AggFn::Sum if int => (Value::Int(self.isum), None),
            AggFn::Sum => (Value::Float(self.fsum), None),
            AggFn::Mean => (Value::Float(self.fsum / self.n as f64), None),
            AggFn::Max => self
                .max
                .map_or((Value::Null, None), |(v, t)| (val(v), Some(t))),
            AggFn::Min => self
                .min
                .map_or((Value::Null, None), |(v, t)| (val(v), Some(t))),
            AggFn::Spread => match (self.max, self.min) {
                (Some((a, _)), Some((b, _))) => (val(a).binary(BinaryOp::Sub, &val(b)), None),
                _ => (Value::Null, None),
            },
            AggFn::First => self
                .first
                .map_or((Value::Null, None), |(t, v)| (val(v), Some(t))),
            AggFn::Last => self
                .last
                .map_or((Value::Null, None), |(t, v)| (val(v), Some(t))),
            _ => (Value::Null, None),
        }
    }
}
