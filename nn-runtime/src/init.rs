//! [`InitRng`]: the seeded random numbers behind `random(seed)`.

use rand_core::Rng;
use rand_pcg::Pcg64;

/// The stream constant PCG's authors give as the default.
const STREAM: u128 = 0x0a02_bdbf_7bb3_c0a7_ac28_fa16_a64a_bf96;

/// A seeded source of random numbers for initialising parameters.
///
/// The same seed gives the same numbers on every platform and in every version of this
/// crate: the generator is PCG64 (`rand_pcg::Pcg64`, a fixed algorithm) and normal
/// variates come from the Box–Muller transform written out here, not from a library
/// whose algorithm could change.
///
/// ```
/// use nn_runtime::InitRng;
///
/// let mut a = InitRng::new(7);
/// let mut b = InitRng::new(7);
/// assert_eq!(a.normal(), b.normal());
/// let u = a.uniform();
/// assert!((0.0..1.0).contains(&u));
/// ```
#[derive(Clone, Debug)]
pub struct InitRng {
    pcg: Pcg64,
}

impl InitRng {
    /// A generator whose numbers are determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            pcg: Pcg64::new(u128::from(seed), STREAM),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.pcg.next_u64()
    }

    /// A uniform number in `[0, 1)`, a multiple of 2⁻⁵³.
    pub fn uniform(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }

    /// A standard normal number (mean 0, standard deviation 1), from two uniforms by
    /// the Box–Muller transform (its cosine half).
    pub fn normal(&mut self) -> f64 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform();
        radius * angle.cos()
    }
}

#[cfg(test)]
mod tests {
    use super::InitRng;

    /// The stream is part of the crate's promise: `random(seed)` gives the same network
    /// in every version. If this test fails, the promise is broken. The golden values
    /// were also computed by a few lines of Python following PCG64's definition.
    #[test]
    fn the_stream_of_a_seed_never_changes() {
        let mut rng = InitRng::new(42);
        let bits: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(bits, GOLDEN_BITS);
        let mut rng = InitRng::new(42);
        let normals: Vec<f64> = (0..3).map(|_| rng.normal()).collect();
        for (x, golden) in normals.iter().zip(GOLDEN_NORMALS) {
            assert!((x - golden).abs() < 1e-12, "{normals:?}");
        }
    }

    const GOLDEN_BITS: [u64; 3] = [
        9175663511918380246,
        10242628652808598733,
        9788821050650074150,
    ];
    const GOLDEN_NORMALS: [f64; 3] = [-1.1030363747654548, -0.2653175570802253, 1.476267579682069];

    #[test]
    fn normals_have_mean_0_and_variance_1() {
        let mut rng = InitRng::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
    }

    #[test]
    fn seeds_differ() {
        assert_ne!(InitRng::new(0).next_u64(), InitRng::new(1).next_u64());
    }
}
