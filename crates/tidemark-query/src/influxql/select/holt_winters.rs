//! `holt_winters(agg, N, S)` and `holt_winters_with_fit`: 1.x's damped Holt-Winters forecast
//! of a series of windows, fitted by Nelder-Mead over a small grid of starting guesses. The
//! arithmetic, including how evaluating the error rewrites the parameters it is given (Go
//! slices are shared), follows 1.x so that forecasts match.

/// Grid of starting guesses for alpha, beta, gamma and phi: 0.3 and 0.7.
const GUESS_LOWER: f64 = 0.3;
const GUESS_UPPER: f64 = 1.0;
const GUESS_STEP: f64 = 0.4;
const WEIGHT: f64 = 0.5;
const EPSILON: f64 = 1.0e-4;
const MAX_ITERATIONS: usize = 1000;

/// The forecast points (time, value) of the windows `points` (time order, no nulls).
pub(crate) fn forecast_points(
    points: &[(i64, f64)],
    h: usize,
    m: usize,
    include_fit: bool,
    interval: i64,
) -> Vec<(i64, f64)> {
    let seasonal = m >= 2;
    let interval = interval.max(1);
    let half = interval / 2;
    let round = |t: i64| -> i64 {
        let rem = t % interval;
        if rem > half {
            (t / interval + 1).saturating_mul(interval)
        } else {
            (t / interval).saturating_mul(interval)
        }
    };
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    if points.len() < 2 || (seasonal && points.len() < m) || h == 0 {
        return Vec::new();
    }
    let (start, stop) = (round(first.0), round(last.0));
    if (stop - start) / interval <= 0 {
        return Vec::new();
    }
    // The windows' values, NaN where a window is missing.
    let mut y = vec![first.1];
    let mut t = start;
    for p in &points[1..] {
        let rounded = round(p.0);
        if rounded <= t {
            continue;
        }
        t += interval;
        while rounded != t {
            y.push(f64::NAN);
            t += interval;
        }
        y.push(p.1);
    }
    let hw = Model { y, seasonal };
    let mut l0 = 0.0;
    if seasonal {
        for i in 0..m {
            if let Some(v) = hw.y.get(i).filter(|v| !v.is_nan()) {
                l0 += (1.0 / m as f64) * v;
            }
        }
    } else {
        l0 += WEIGHT * hw.y[0];
    }
    let mut b0 = 0.0;
    if seasonal {
        for i in 0..m {
            if let (Some(a), Some(b)) = (hw.y.get(i), hw.y.get(m + i)) {
                if !a.is_nan() && !b.is_nan() {
                    b0 += 1.0 / (m * m) as f64 * (b - a);
                }
            }
        }
    } else if let Some(y1) = hw.y.get(1).filter(|v| !v.is_nan()) {
        b0 = WEIGHT * (y1 - hw.y[0]);
    }
    let mut parameters = vec![0.0; 6 + if seasonal { m } else { 0 }];
    parameters[4] = l0;
    parameters[5] = b0;
    if seasonal {
        for i in 0..m {
            parameters[6 + i] = match hw.y.get(i) {
                Some(v) if !v.is_nan() => v / l0,
                _ => 0.0,
            };
        }
    }
    let mut min_sse = f64::INFINITY;
    let mut best: Option<Vec<f64>> = None;
    let steps = |x: &mut f64| {
        let v = *x;
        *x += GUESS_STEP;
        v
    };
    let mut alpha = GUESS_LOWER;
    while alpha < GUESS_UPPER {
        let mut beta = GUESS_LOWER;
        while beta < GUESS_UPPER {
            let mut gamma = GUESS_LOWER;
            while gamma < GUESS_UPPER {
                let mut phi = GUESS_LOWER;
                while phi < GUESS_UPPER {
                    parameters[0] = alpha;
                    parameters[1] = beta;
                    parameters[2] = gamma;
                    parameters[3] = steps(&mut phi);
                    let (sse, params) = optimize(&hw, &parameters);
                    if sse < min_sse || best.is_none() {
                        min_sse = sse;
                        best = Some(params);
                    }
                }
                steps(&mut gamma);
            }
            steps(&mut beta);
        }
        steps(&mut alpha);
    }
    let Some(mut best) = best else {
        return Vec::new();
    };
    let forecasted = hw.forecast(h, &mut best);
    let mut out = Vec::new();
    if include_fit {
        for (i, v) in forecasted.iter().enumerate() {
            if !v.is_nan() {
                out.push((first.0 + interval * i as i64, *v));
            }
        }
    } else {
        for (i, v) in forecasted.iter().skip(hw.y.len()).enumerate() {
            if !v.is_nan() {
                out.push((last.0 + interval * (i as i64 + 1), *v));
            }
        }
    }
    out
}

struct Model {
    y: Vec<f64>,
    seasonal: bool,
}

impl Model {
    /// Forecasts `h` windows past the data; clamps and rewrites `params` as 1.x does.
    fn forecast(&self, h: usize, params: &mut [f64]) -> Vec<f64> {
        for p in params.iter_mut().take(4) {
            *p = p.clamp(0.0, 1.0);
        }
        let mut y_t = self.y[0];
        let phi = params[3];
        let mut phi_h = phi;
        let mut l_t = params[4];
        let mut b_t = params[5];
        let (alpha, beta, gamma) = (params[0], params[1], params[2]);
        let m = if self.seasonal { params.len() - 6 } else { 0 };
        let mut so = 0;
        if self.seasonal {
            if m == 1 {
                params[6] = 1.0;
            }
            so = m - 1;
        }
        let l = self.y.len();
        let mut forecasted = vec![0.0; l + h];
        forecasted[0] = y_t;
        let (mut stm, mut stmh) = (1.0, 1.0);
        for t in 1..l + h {
            if self.seasonal {
                let hm = t % m;
                stm = params[6 + (t + so - m) % m];
                stmh = params[6 + (t + so + hm - m) % m];
            }
            let l_tp = l_t;
            let b_tp = b_t;
            l_t = alpha * (y_t / stm) + (1.0 - alpha) * (l_tp + phi * b_tp);
            b_t = beta * (l_t - l_tp) + (1.0 - beta) * phi * b_tp;
            let s_t = gamma * (y_t / (l_tp + phi * b_tp)) + (1.0 - gamma) * stm;
            y_t = (l_t + phi_h * b_t) * stmh;
            phi_h += phi.powi(i32::try_from(t).unwrap_or(i32::MAX));
            if self.seasonal {
                params[6 + (t + so) % m] = s_t;
                so += 1;
            }
            forecasted[t] = y_t;
        }
        forecasted
    }

    /// The sum of squared errors of the fit; rewrites `params` like `forecast`.
    fn sse(&self, params: &mut [f64]) -> f64 {
        let forecasted = self.forecast(0, params);
        let mut sse = 0.0;
        for (f, y) in forecasted.iter().zip(&self.y) {
            if !y.is_nan() {
                if f.is_nan() {
                    return f64::INFINITY;
                }
                sse += (f - y) * (f - y);
            }
        }
        sse
    }
}

/// Nelder-Mead from `start` (simplex scale 1), as 1.x's optimizer.
fn optimize(model: &Model, start: &[f64]) -> (f64, Vec<f64>) {
    let n = start.len();
    let (alpha, beta, gamma) = (1.0, 0.5, 2.0);
    let scale = 1.0;
    let nf = n as f64;
    let pn = scale * ((nf + 1.0).sqrt() - 1.0 + nf) / (nf * 2f64.sqrt());
    let qn = scale * ((nf + 1.0).sqrt() - 1.0) / (nf * 2f64.sqrt());
    let mut v: Vec<Vec<f64>> = vec![start.to_vec(); n + 1];
    for (i, vertex) in v.iter_mut().enumerate().skip(1) {
        for (j, x) in vertex.iter_mut().enumerate() {
            *x = start[j] + if i - 1 == j { pn } else { qn };
        }
    }
    let mut f: Vec<f64> = v.iter_mut().map(|x| model.sse(x)).collect();
    let (mut vr, mut ve, mut vc, mut vm) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for _ in 0..MAX_ITERATIONS {
        let (mut vg, mut vs) = (0, 0);
        for i in 0..=n {
            if f[i] > f[vg] {
                vg = i;
            }
            if f[i] < f[vs] {
                vs = i;
            }
        }
        let mut vh = vs;
        for i in 0..=n {
            if f[i] > f[vh] && f[i] < f[vg] {
                vh = i;
            }
        }
        for i in 0..n {
            let cent: f64 = (0..=n).filter(|&k| k != vg).map(|k| v[k][i]).sum();
            vm[i] = cent / nf;
        }
        for i in 0..n {
            vr[i] = vm[i] + alpha * (vm[i] - v[vg][i]);
        }
        let fr = model.sse(&mut vr);
        if fr < f[vh] && fr >= f[vs] {
            v[vg].copy_from_slice(&vr);
            f[vg] = fr;
        }
        if fr < f[vs] {
            for i in 0..n {
                ve[i] = vm[i] + gamma * (vr[i] - vm[i]);
            }
            let fe = model.sse(&mut ve);
            if fe < fr {
                v[vg].copy_from_slice(&ve);
                f[vg] = fe;
            } else {
                v[vg].copy_from_slice(&vr);
                f[vg] = fr;
            }
        }
        if fr >= f[vh] {
            if fr < f[vg] && fr >= f[vh] {
                for i in 0..n {
                    vc[i] = vm[i] + beta * (vr[i] - vm[i]);
                }
            } else {
                for i in 0..n {
                    vc[i] = vm[i] - beta * (vm[i] - v[vg][i]);
                }
            }
            let fc = model.sse(&mut vc);
            if fc < f[vg] {
                v[vg].copy_from_slice(&vc);
                f[vg] = fc;
            } else {
                let best = v[vs].clone();
                for (row, vertex) in v.iter_mut().enumerate() {
                    if row != vs {
                        for (x, b) in vertex.iter_mut().zip(&best) {
                            *x = b + (*x - b) / 2.0;
                        }
                    }
                }
                f[vg] = model.sse(&mut v[vg]);
                f[vh] = model.sse(&mut v[vh]);
            }
        }
        let favg = f.iter().sum::<f64>() / (nf + 1.0);
        let s = (f.iter().map(|x| (x - favg).powi(2) / nf).sum::<f64>()).sqrt();
        if s < EPSILON {
            break;
        }
    }
    let mut vs = 0;
    for i in 0..=n {
        if f[i] < f[vs] {
            vs = i;
        }
    }
    let params = v[vs].clone();
    let min = model.sse(&mut v[vs]);
    (min, params)
}
