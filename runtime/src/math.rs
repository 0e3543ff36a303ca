//! Float operations compiled code does not inline.

/// `a % b` on `f64`: C's `fmod` (the result takes the sign of `a`), which is
/// what Rust's `%` on floats computes.
pub extern "C" fn spl_fmod(a: f64, b: f64) -> f64 {
    a % b
}

/// `a ** b` on `f64`.
pub extern "C" fn spl_fpow(a: f64, b: f64) -> f64 {
    a.powf(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmod_follows_c() {
        assert_eq!(spl_fmod(7.5, 2.0), 1.5);
        assert_eq!(spl_fmod(-7.5, 2.0), -1.5);
        assert_eq!(spl_fmod(7.5, -2.0), 1.5);
        assert!(spl_fmod(1.0, 0.0).is_nan());
        assert_eq!(spl_fmod(1.0, f64::INFINITY), 1.0);
    }

    #[test]
    fn pow() {
        assert_eq!(spl_fpow(2.0, 10.0), 1024.0);
        assert_eq!(spl_fpow(2.0, -1.0), 0.5);
        assert_eq!(spl_fpow(0.0, 0.0), 1.0);
        assert!(spl_fpow(-8.0, 1.0 / 3.0).is_nan());
    }
}
