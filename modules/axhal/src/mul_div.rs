//! `value * mul / div` for the counter-tick and nanosecond conversions,
//! in 64-bit arithmetic.

/// `value * mul / div` rounded down, as `(value as u128 * mul as u128 /
/// div as u128) as u64` computes it (wrapping past `u64::MAX` like that
/// cast), but without a 128-bit division: that would link the
/// compiler-builtins routine (about 1 KiB) into the image.
///
/// Exact while `(div - 1) * mul` fits in a `u64`: with `mul` and `div` a
/// counter frequency and 10^9 (either way round), for frequencies below
/// 18 GHz. `div` must not be 0.
pub(crate) const fn mul_div(value: u64, mul: u64, div: u64) -> u64 {
    // value = q * div + r with r < div, so
    // value * mul / div = q * mul + r * mul / div, exactly.
    let (q, r) = (value / div, value % div);
    q.wrapping_mul(mul).wrapping_add(r.wrapping_mul(mul) / div)
}

#[cfg(test)]
mod tests {
    use super::mul_div;

    fn reference(value: u64, mul: u64, div: u64) -> u64 {
        (value as u128 * mul as u128 / div as u128) as u64
    }

    #[test]
    fn matches_the_128_bit_computation() {
        const NANOS: u64 = 1_000_000_000;
        let freqs = [
            1,
            3,
            24_000_000,
            62_500_000,
            NANOS,
            1_000_000_007,
            3_200_000_000,
            17_000_000_000,
        ];
        let values = [
            0,
            1,
            999,
            NANOS - 1,
            NANOS,
            123_456_789_012_345,
            u64::MAX / NANOS,
            u64::MAX / 3,
            u64::MAX - 1,
            u64::MAX,
        ];
        for f in freqs {
            for v in values {
                assert_eq!(mul_div(v, NANOS, f), reference(v, NANOS, f), "ticks {v} at {f} Hz");
                assert_eq!(mul_div(v, f, NANOS), reference(v, f, NANOS), "{v} ns at {f} Hz");
            }
        }
    }
}
