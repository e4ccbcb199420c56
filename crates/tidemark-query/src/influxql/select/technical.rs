//! The technical-analysis transformations of 1.x, which computes them with the `gota`
//! package: exponential moving averages (single, double, triple), relative strength index,
//! TRIX, Kaufman's efficiency ratio and adaptive moving average, and Chande's momentum
//! oscillator. Each is fed a series' values in time order and gives a value per input; 1.x
//! shows a value only after the "hold period" (by default, the indicator's warm-up count).

/// Which indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ema,
    Dema,
    Tema,
    Rsi,
    Trix,
    Ker,
    Kama,
    /// Chande's oscillator over a window (`warmup_type` `none`, 1.x's default).
    Cmo,
    /// The smoothed oscillator of ta-lib (`warmup_type` `exponential` or `simple`).
    CmoSmoothed,
}

impl Kind {
    pub(crate) fn of(name: &str) -> Option<Kind> {
        Some(match name {
            "exponential_moving_average" => Kind::Ema,
            "double_exponential_moving_average" => Kind::Dema,
            "triple_exponential_moving_average" => Kind::Tema,
            "relative_strength_index" => Kind::Rsi,
            "triple_exponential_derivative" => Kind::Trix,
            "kaufmans_efficiency_ratio" => Kind::Ker,
            "kaufmans_adaptive_moving_average" => Kind::Kama,
            "chande_momentum_oscillator" => Kind::Cmo,
            _ => return None,
        })
    }

    /// Values that are infinite are not shown (division by a zero average).
    pub(crate) fn hides_infinite(self) -> bool {
        matches!(self, Kind::Trix | Kind::Ker | Kind::Kama)
    }
}

/// An exponential moving average warmed over its first `period` values, either by a simple
/// average or by an exponential one whose weight shrinks as values arrive.
#[derive(Debug, Clone)]
pub(crate) struct Ema {
    period: usize,
    alpha: f64,
    simple: bool,
    count: usize,
    last: f64,
}

impl Ema {
    fn new(period: usize, simple: bool) -> Self {
        Self {
            period,
            alpha: 2.0 / (period as f64 + 1.0),
            simple,
            count: 0,
            last: 0.0,
        }
    }

    fn warm_count(&self) -> usize {
        self.period.saturating_sub(1)
    }

    fn warmed(&self) -> bool {
        self.count == self.period
    }

    fn add(&mut self, v: f64) -> f64 {
        let avg = if self.count == 0 {
            v
        } else if !self.warmed() {
            if self.simple {
                (self.last * self.count as f64 + v) / (self.count as f64 + 1.0)
            } else {
                let alpha = 2.0 / (self.count as f64 + 2.0);
                (v - self.last) * alpha + self.last
            }
        } else {
            (v - self.last) * self.alpha + self.last
        };
        self.last = avg;
        if self.count < self.period {
            self.count += 1;
        }
        avg
    }

    /// Whether the next stage of a chain takes this stage's output yet.
    fn feeds_next(&self) -> bool {
        self.warmed() || !self.simple
    }
}

/// Ups and downs averaged separately (RSI and the smoothed oscillator).
#[derive(Debug, Clone)]
pub(crate) struct UpDown {
    up: Ema,
    down: Ema,
    last_v: f64,
}

impl UpDown {
    fn new(period: usize, simple: bool) -> Self {
        let mut ema = Ema::new(period.saturating_add(1), simple);
        ema.alpha = 1.0 / period.max(1) as f64;
        Self {
            up: ema.clone(),
            down: ema,
            last_v: 0.0,
        }
    }

    fn add(&mut self, v: f64) -> (f64, f64) {
        let (up, down) = if v > self.last_v {
            (v - self.last_v, 0.0)
        } else if v < self.last_v {
            (0.0, self.last_v - v)
        } else {
            (0.0, 0.0)
        };
        self.up.add(up);
        self.down.add(down);
        self.last_v = v;
        (self.up.last, self.down.last)
    }
}

/// Kaufman's efficiency ratio over a ring of the last `period` values.
#[derive(Debug, Clone)]
pub(crate) struct Ker {
    points: Vec<(f64, f64)>,
    noise: f64,
    count: usize,
    idx: usize,
}

impl Ker {
    fn new(period: usize) -> Self {
        Self {
            points: vec![(0.0, 0.0); period.max(1)],
            noise: 0.0,
            count: 0,
            idx: 0,
        }
    }

    fn warmed(&self) -> bool {
        self.count == self.points.len() + 1
    }

    fn newest_price(&self) -> f64 {
        self.points.get(self.idx).map_or(0.0, |p| p.0)
    }

    fn add(&mut self, v: f64) -> f64 {
        let n = self.points.len();
        let oldest = if self.idx + 1 >= n { 0 } else { self.idx + 1 };
        let (old_price, old_diff) = self.points[oldest];
        let signal = (v - old_price).abs();
        let diff = (v - self.newest_price()).abs();
        self.noise += diff - old_diff;
        self.idx = oldest;
        self.points[oldest] = (v, diff);
        if !self.warmed() {
            self.count += 1;
        }
        if signal == 0.0 || self.noise == 0.0 {
            0.0
        } else {
            signal / self.noise
        }
    }
}

/// Chande's momentum oscillator over a ring of the last `period - 1` differences.
#[derive(Debug, Clone)]
pub(crate) struct Cmo {
    points: Vec<(f64, f64)>,
    sum_up: f64,
    sum_down: f64,
    count: usize,
    idx: usize,
}

impl Cmo {
    fn new(period: usize) -> Self {
        Self {
            points: vec![(0.0, 0.0); period.saturating_sub(1).max(1)],
            sum_up: 0.0,
            sum_down: 0.0,
            count: 0,
            idx: 0,
        }
    }

    fn add(&mut self, v: f64) -> f64 {
        let n = self.points.len();
        let oldest = if self.idx + 1 >= n { 0 } else { self.idx + 1 };
        let mut diff = 0.0;
        if self.count != 0 {
            diff = v - self.points[self.idx].0;
            if diff > 0.0 {
                self.sum_up += diff;
            } else if diff < 0.0 {
                self.sum_down -= diff;
            }
        }
        let out = if self.sum_up != 0.0 || self.sum_down != 0.0 {
            100.0 * ((self.sum_up - self.sum_down) / (self.sum_up + self.sum_down))
        } else {
            0.0
        };
        let old_diff = self.points[oldest].1;
        if old_diff > 0.0 {
            self.sum_up -= old_diff;
        } else if old_diff < 0.0 {
            self.sum_down += old_diff;
        }
        self.points[oldest] = (v, diff);
        self.idx = oldest;
        if self.count != n + 2 {
            self.count += 1;
        }
        out
    }
}

/// One indicator's state over a series.
#[derive(Debug, Clone)]
pub(crate) enum Indicator {
    Emas { kind: Kind, stages: Vec<Ema> },
    Trix { stages: Vec<Ema>, last: f64 },
    Rsi(UpDown),
    CmoSmoothed(UpDown),
    Ker(Ker),
    Kama { ker: Ker, last: f64 },
    Cmo(Cmo),
}

impl Indicator {
    pub(crate) fn new(kind: Kind, period: usize, simple: bool) -> Self {
        let stages = |n: usize| (0..n).map(|_| Ema::new(period, simple)).collect();
        match kind {
            Kind::Ema => Indicator::Emas {
                kind,
                stages: stages(1),
            },
            Kind::Dema => Indicator::Emas {
                kind,
                stages: stages(2),
            },
            Kind::Tema => Indicator::Emas {
                kind,
                stages: stages(3),
            },
            Kind::Trix => Indicator::Trix {
                stages: stages(3),
                last: 0.0,
            },
            Kind::Rsi => Indicator::Rsi(UpDown::new(period, simple)),
            Kind::CmoSmoothed => Indicator::CmoSmoothed(UpDown::new(period, simple)),
            Kind::Ker => Indicator::Ker(Ker::new(period)),
            Kind::Kama => Indicator::Kama {
                ker: Ker::new(period),
                last: 0.0,
            },
            Kind::Cmo => Indicator::Cmo(Cmo::new(period)),
        }
    }

    /// How many values 1.x holds back by default (gota's `WarmCount`).
    pub(crate) fn warm_count(&self) -> usize {
        match self {
            Indicator::Emas { stages, .. } => match stages.first() {
                Some(s) if s.simple => s.warm_count() * stages.len(),
                Some(s) => s.warm_count(),
                None => 0,
            },
            Indicator::Trix { stages, .. } => match stages.first() {
                Some(s) if s.simple => s.warm_count() * 3 + 1,
                Some(s) => s.warm_count() + 1,
                None => 0,
            },
            Indicator::Rsi(u) | Indicator::CmoSmoothed(u) => u.up.warm_count(),
            Indicator::Ker(k) | Indicator::Kama { ker: k, .. } => k.points.len(),
            Indicator::Cmo(c) => c.points.len(),
        }
    }

    pub(crate) fn add(&mut self, v: f64) -> f64 {
        match self {
            Indicator::Emas { kind, stages } => {
                let outs = chain(stages, v);
                match (kind, outs.as_slice()) {
                    (Kind::Dema, [a, b, ..]) => 2.0 * a - b,
                    (Kind::Tema, [a, b, c, ..]) => 3.0 * a - 3.0 * b + c,
                    (_, [a, ..]) => *a,
                    _ => v,
                }
            }
            Indicator::Trix { stages, last } => {
                let cur = *chain(stages, v).last().unwrap_or(&v);
                let rate = ((cur / *last) - 1.0) * 100.0;
                *last = cur;
                rate
            }
            Indicator::Rsi(u) => {
                let (up, down) = u.add(v);
                100.0 - (100.0 / (1.0 + up / down))
            }
            Indicator::CmoSmoothed(u) => {
                let (up, down) = u.add(v);
                100.0 * ((up - down) / (up + down))
            }
            Indicator::Ker(k) => k.add(v),
            Indicator::Kama { ker, last } => {
                if !ker.warmed() {
                    *last = ker.newest_price();
                }
                let er = ker.add(v);
                let sc = (er * (2.0 / 3.0 - 2.0 / 31.0) + 2.0 / 31.0).powi(2);
                *last += sc * (v - *last);
                *last
            }
            Indicator::Cmo(c) => c.add(v),
        }
    }
}

/// Feeds `v` through chained averages; a stage warmed by simple averages passes its input
/// on unchanged until the stage before it is warm. Gives each stage's output.
fn chain(stages: &mut [Ema], v: f64) -> Vec<f64> {
    let mut outs = Vec::with_capacity(stages.len());
    let mut input = v;
    let mut feed = true;
    for stage in stages.iter_mut() {
        let out = if feed { stage.add(input) } else { input };
        feed = feed && stage.feeds_next();
        outs.push(out);
        input = out;
    }
    outs
}
