//! Distinct counting: exact while the column's top-k table still holds
//! every distinct value (at most `topk::CAPACITY` = 1024 per thread), then a
//! HyperLogLog with 2^14 registers and Ertl's improved raw estimator (no
//! empirical bias tables needed). Standard error 1.04/sqrt(16384) ≈ 0.81%.
//!
//! Sharing the top-k table avoids a second hash-set lookup per value, and the
//! 16 KiB of registers are only allocated for columns that need them.

use super::topk::{self, TopK};

const P: u32 = 14;
const M: usize = 1 << P;
const Q: u32 = 64 - P;
/// Relative standard error of the HLL estimate (1.04 / sqrt(2^14)).
pub const RELATIVE_ERROR: f64 = 0.0081;

#[derive(Default)]
pub struct Distinct {
    hll: Option<Box<[u8]>>,
}

fn hll_insert(regs: &mut [u8], h: u64) {
    let idx = (h >> Q) as usize;
    let w = h << P;
    let rank = if w == 0 { Q + 1 } else { w.leading_zeros() + 1 };
    let r = rank as u8;
    if regs[idx] < r {
        regs[idx] = r;
    }
}

fn from_keys(topk: &TopK) -> Box<[u8]> {
    let mut regs = vec![0u8; M].into_boxed_slice();
    for k in topk.keys() {
        hll_insert(&mut regs, k);
    }
    regs
}

impl Distinct {
    /// Call before `topk.insert(h, ..)`: once the table is full, its next
    /// miss would purge values, so the exact phase ends here.
    #[inline]
    pub fn insert(&mut self, h: u64, topk: &TopK) {
        match &mut self.hll {
            Some(regs) => hll_insert(regs, h),
            None if topk.len() >= topk::CAPACITY => {
                let mut regs = from_keys(topk);
                hll_insert(&mut regs, h);
                self.hll = Some(regs);
            }
            None => {}
        }
    }

    /// Call before merging the top-k tables (the merge may purge keys).
    pub fn merge(&mut self, mine: &TopK, other: Distinct, theirs: &TopK) {
        let exact_fits = self.hll.is_none()
            && other.hll.is_none()
            && mine.len() + theirs.keys().filter(|&k| !mine.contains(k)).count() <= topk::CAPACITY;
        if self.hll.is_none() && other.hll.is_none() && exact_fits {
            return;
        }
        let mut a = self.hll.take().unwrap_or_else(|| from_keys(mine));
        let b = other.hll.unwrap_or_else(|| from_keys(theirs));
        for (x, y) in a.iter_mut().zip(b.iter()) {
            *x = (*x).max(*y);
        }
        self.hll = Some(a);
    }

    /// (estimate, exact?)
    pub fn estimate(&self, topk: &TopK) -> (u64, bool) {
        match &self.hll {
            None => (topk.len() as u64, true),
            Some(regs) => (ertl_estimate(regs).round() as u64, false),
        }
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_old = z;
        z += x * y;
        y += y;
        if z == z_old {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_old = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == z_old {
            return z / 3.0;
        }
    }
}

/// Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
/// (2017), Algorithm 6.
fn ertl_estimate(regs: &[u8]) -> f64 {
    let mut c = [0u32; Q as usize + 2];
    for &r in regs {
        c[r as usize] += 1;
    }
    let m = M as f64;
    let mut z = m * tau(1.0 - f64::from(c[Q as usize + 1]) / m);
    for k in (1..=Q as usize).rev() {
        z = 0.5 * (z + f64::from(c[k]));
    }
    z += m * sigma(f64::from(c[0]) / m);
    let alpha_inf = 1.0 / (2.0 * std::f64::consts::LN_2);
    alpha_inf * m * m / z
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::sketch::hash;

    #[derive(Default)]
    struct Col {
        d: Distinct,
        t: TopK,
    }

    impl Col {
        fn fill(&mut self, range: std::ops::Range<u64>) {
            for i in range {
                let v = i.to_le_bytes();
                let h = hash(&v);
                self.d.insert(h, &self.t);
                self.t.insert(h, &v);
            }
        }
        fn merge(&mut self, o: Col) {
            self.d.merge(&self.t, o.d, &o.t);
            self.t.merge(o.t);
        }
        fn estimate(&self) -> (u64, bool) {
            self.d.estimate(&self.t)
        }
    }

    #[test]
    fn exact_when_small() {
        let mut c = Col::default();
        c.fill(0..600);
        c.fill(300..1000);
        assert_eq!(c.estimate(), (1000, true));
        let mut o = Col::default();
        o.fill(900..1024);
        c.merge(o);
        assert_eq!(c.estimate(), (1024, true));
    }

    #[test]
    fn within_error_bound() {
        // 3 standard errors (2.4%) covers 99.7% of runs; the seeds here are fixed.
        for n in [1025u64, 5_000, 50_000, 1_000_000] {
            let mut c = Col::default();
            c.fill(0..n);
            let (est, exact) = c.estimate();
            assert!(!exact);
            let rel = (est as f64 - n as f64).abs() / n as f64;
            assert!(rel < 0.024, "n={n} est={est} rel={rel}");
        }
    }

    #[test]
    fn merge_matches_union() {
        let mut a = Col::default();
        let mut b = Col::default();
        let mut c = Col::default();
        a.fill(0..3000);
        b.fill(2000..200_000);
        c.fill(100..200);
        a.merge(b);
        a.merge(c);
        let rel = (a.estimate().0 as f64 - 200_000.0).abs() / 200_000.0;
        assert!(rel < 0.024, "{rel}");
        let mut e = Col::default();
        e.fill(0..700);
        let mut f = Col::default();
        f.fill(650..1400);
        e.merge(f);
        let (est, exact) = e.estimate();
        assert!(!exact);
        assert!((est as f64 - 1400.0).abs() < 1400.0 * 0.024);
    }
}
