//! Distance metrics and the scores RediSearch reports for them.
//!
//! Scores are what FT.SEARCH returns and what every index orders by (smaller = closer):
//! - `L2`: squared Euclidean distance (RediSearch reports the squared distance);
//! - `IP`: `1 - <a, b>`;
//! - `COSINE`: `1 - cos(a, b)`; vectors and queries are L2-normalised on the way in, so the
//!   index computes it as `1 - <a, b>` on unit vectors.

use crate::kernels::Kernels;

/// A vector field's distance metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Squared Euclidean distance.
    L2,
    /// Inner product, score `1 - ip`.
    Ip,
    /// Cosine, score `1 - cos`.
    Cosine,
}

impl Metric {
    /// The name FT.CREATE / FT.INFO use.
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "L2",
            Metric::Ip => "IP",
            Metric::Cosine => "COSINE",
        }
    }

    /// Parses an FT.CREATE `DISTANCE_METRIC` value (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "L2" => Some(Metric::L2),
            "IP" => Some(Metric::Ip),
            "COSINE" => Some(Metric::Cosine),
            _ => None,
        }
    }

    pub(crate) fn code(self) -> u8 {
        match self {
            Metric::L2 => 0,
            Metric::Ip => 1,
            Metric::Cosine => 2,
        }
    }

    pub(crate) fn from_code(c: u8) -> Option<Self> {
        match c {
            0 => Some(Metric::L2),
            1 => Some(Metric::Ip),
            2 => Some(Metric::Cosine),
            _ => None,
        }
    }

    /// Score between two vectors already prepared for this metric (see [`Metric::prepare`]).
    #[inline(always)]
    pub fn score(self, k: &Kernels, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Metric::L2 => (k.l2sq)(a, b),
            Metric::Ip | Metric::Cosine => 1.0 - (k.dot)(a, b),
        }
    }

    /// Prepares a stored or query vector in place: normalises it for COSINE (a zero vector
    /// stays zero: its cosine score is 1 against everything).
    pub fn prepare(self, v: &mut [f32]) {
        if self == Metric::Cosine {
            normalize(v);
        }
    }
}

/// Scales `v` to unit L2 norm; leaves a zero (or non-finite-norm) vector unchanged.
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        let inv = 1.0 / norm;
        v.iter_mut().for_each(|x| *x *= inv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::scalar_kernels;

    #[test]
    fn scores_follow_redisearch() {
        let k = scalar_kernels();
        let a = [1.0, 2.0, 3.0];
        let b = [2.0, 2.0, 1.0];
        assert_eq!(Metric::L2.score(k, &a, &b), 1.0 + 0.0 + 4.0);
        assert_eq!(Metric::Ip.score(k, &a, &b), 1.0 - 9.0);
        let (mut an, mut bn) = (a, b);
        Metric::Cosine.prepare(&mut an);
        Metric::Cosine.prepare(&mut bn);
        let cos = 9.0 / (14f32.sqrt() * 3.0);
        assert!((Metric::Cosine.score(k, &an, &bn) - (1.0 - cos)).abs() < 1e-6);
        let mut z = [0.0f32; 3];
        normalize(&mut z);
        assert_eq!(z, [0.0; 3]);
        assert_eq!(Metric::parse("cosine"), Some(Metric::Cosine));
        assert_eq!(Metric::parse("L3"), None);
        for m in [Metric::L2, Metric::Ip, Metric::Cosine] {
            assert_eq!(Metric::from_code(m.code()), Some(m));
            assert_eq!(Metric::parse(m.name()), Some(m));
        }
    }
}
