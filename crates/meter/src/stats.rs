//! Signal statistics: sample peak, RMS, DC offset, clipped samples and the
//! stereo correlation, accumulated per block in a fixed order.
//!
//! Conventions:
//!
//! * **RMS** is the plain root mean square over all channels and samples,
//!   `sqrt(Σ x² / (frames · channels))`, in dBFS with 1.0 = 0 dBFS: a
//!   full-scale sine reads −3.01 dBFS (the AES17 "+3 dB" convention is *not*
//!   used).
//! * **Clipped samples** are samples with `|x| ≥ 32767/32768` (the largest
//!   positive 16-bit code), counted over all channels. A 16-bit file that
//!   reaches either extreme code is counted; so is any float sample at or
//!   beyond full scale.
//! * **DC offset** is the mean of each channel's samples.
//! * **Correlation** of the first two channels is `Σlr / sqrt(Σl² · Σr²)`
//!   (no mean removal): +1 for identical channels, −1 for inverted ones,
//!   `None` for mono input or when either channel is silent.

/// Threshold of a clipped sample: the largest positive 16-bit code,
/// 32767/32768 of full scale (documented convention of this crate).
pub const CLIP_THRESHOLD: f64 = 32767.0 / 32768.0;

/// Running sums of one channel.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ChannelStats {
    /// Largest `|x|`.
    pub peak: f64,
    /// `Σ x`.
    pub sum: f64,
    /// `Σ x²`.
    pub sum_sq: f64,
    /// Samples with `|x| ≥ CLIP_THRESHOLD`.
    pub clipped: u64,
}

impl ChannelStats {
    /// Adds the statistics of another stretch of the same channel.
    pub(crate) fn add(&mut self, other: &ChannelStats) {
        if other.peak > self.peak {
            self.peak = other.peak;
        }
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
        self.clipped += other.clipped;
    }
}

/// Two lanes of `f64` for the accumulators below (kept in one SSE2
/// register; the lanes never mix until the final reduction).
#[derive(Clone, Copy)]
struct F2([f64; 2]);

impl F2 {
    const ZERO: F2 = F2([0.0; 2]);

    #[inline(always)]
    fn load(x: &[f64]) -> F2 {
        F2([x[0], x[1]])
    }
    #[inline(always)]
    fn add(self, o: F2) -> F2 {
        F2([self.0[0] + o.0[0], self.0[1] + o.0[1]])
    }
    #[inline(always)]
    fn mul(self, o: F2) -> F2 {
        F2([self.0[0] * o.0[0], self.0[1] * o.0[1]])
    }
    #[inline(always)]
    fn max_abs(self, v: F2) -> F2 {
        let (a, b) = (v.0[0].abs(), v.0[1].abs());
        F2([
            if a > self.0[0] { a } else { self.0[0] },
            if b > self.0[1] { b } else { self.0[1] },
        ])
    }
    #[inline(always)]
    fn sum(self) -> f64 {
        self.0[0] + self.0[1]
    }
    #[inline(always)]
    fn max(self) -> f64 {
        if self.0[1] > self.0[0] {
            self.0[1]
        } else {
            self.0[0]
        }
    }
}

/// Statistics of one block of finite samples, in three single-purpose
/// passes over the (cache-resident) block with four partial results each
/// (two registers of two lanes), which the compiler vectorises cleanly.
/// The result depends only on the block's contents (never on how the caller
/// split the stream, since the meter always calls this on whole internal
/// blocks). Clipped samples are counted in a further pass, only when the
/// block's peak reaches the threshold.
pub(crate) fn block_stats(x: &[f64]) -> ChannelStats {
    let peak = {
        let mut acc = [F2::ZERO; 2];
        let mut chunks = x.chunks_exact(4);
        for c in &mut chunks {
            acc[0] = acc[0].max_abs(F2::load(&c[..2]));
            acc[1] = acc[1].max_abs(F2::load(&c[2..]));
        }
        let mut m = F2([acc[0].max(), acc[1].max()]).max();
        for &v in chunks.remainder() {
            if v.abs() > m {
                m = v.abs();
            }
        }
        m
    };
    let sum = block_sum(x);
    let sum_sq = block_cross(x, x);
    let clipped = if peak >= CLIP_THRESHOLD {
        count_clipped(x)
    } else {
        0
    };
    ChannelStats {
        peak,
        sum,
        sum_sq,
        clipped,
    }
}

/// `Σ x` of one block (four partial sums).
pub(crate) fn block_sum(x: &[f64]) -> f64 {
    let mut acc = [F2::ZERO; 2];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        acc[0] = acc[0].add(F2::load(&c[..2]));
        acc[1] = acc[1].add(F2::load(&c[2..]));
    }
    chunks
        .remainder()
        .iter()
        .fold(acc[0].sum() + acc[1].sum(), |s, &v| s + v)
}

/// Samples with `|x| ≥ CLIP_THRESHOLD`.
pub(crate) fn count_clipped(x: &[f64]) -> u64 {
    x.iter().filter(|v| v.abs() >= CLIP_THRESHOLD).count() as u64
}

/// `Σ l·r` of one block (four partial sums, as [`block_stats`]).
pub(crate) fn block_cross(l: &[f64], r: &[f64]) -> f64 {
    let n = l.len().min(r.len());
    let (l, r) = (&l[..n], &r[..n]);
    let mut acc = [F2::ZERO; 2];
    let mut lc = l.chunks_exact(4);
    let mut rc = r.chunks_exact(4);
    for (a, b) in (&mut lc).zip(&mut rc) {
        acc[0] = acc[0].add(F2::load(&a[..2]).mul(F2::load(&b[..2])));
        acc[1] = acc[1].add(F2::load(&a[2..]).mul(F2::load(&b[2..])));
    }
    let mut total = acc[0].sum() + acc[1].sum();
    for (a, b) in lc.remainder().iter().zip(rc.remainder()) {
        total += a * b;
    }
    total
}

/// Correlation `Σlr / sqrt(Σl²·Σr²)`, `None` when either channel is silent.
/// Clamped to [−1, 1] against rounding.
pub(crate) fn correlation(sum_lr: f64, sum_ll: f64, sum_rr: f64) -> Option<f64> {
    let denom = (sum_ll * sum_rr).sqrt();
    (denom > 0.0 && denom.is_finite()).then(|| (sum_lr / denom).clamp(-1.0, 1.0))
}

/// Sums of the correlation of the first two channels.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct CrossSums {
    pub lr: f64,
    pub ll: f64,
    pub rr: f64,
}

impl CrossSums {
    pub(crate) fn add(&mut self, other: &CrossSums) {
        self.lr += other.lr;
        self.ll += other.ll;
        self.rr += other.rr;
    }

    pub(crate) fn correlation(&self) -> Option<f64> {
        correlation(self.lr, self.ll, self.rr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_a_small_block() {
        let s = block_stats(&[0.5, -1.0, 0.25, 0.0, 1.0]);
        assert_eq!(s.peak, 1.0);
        assert_eq!(s.sum, 0.75);
        assert_eq!(s.sum_sq, 0.25 + 1.0 + 0.0625 + 1.0);
        assert_eq!(s.clipped, 2);
        assert_eq!(block_stats(&[]).peak, 0.0);
    }

    #[test]
    fn correlation_limits() {
        let l = [0.1, -0.2, 0.3, 0.5, -0.7];
        let r: Vec<f64> = l.iter().map(|v| -v).collect();
        let ll = block_stats(&l).sum_sq;
        assert_eq!(correlation(block_cross(&l, &l), ll, ll), Some(1.0));
        assert_eq!(correlation(block_cross(&l, &r), ll, ll), Some(-1.0));
        assert_eq!(correlation(0.0, 0.0, 1.0), None);
    }
}
