//! The FP/SIMD register that the isolation check keeps a pattern in.
//!
//! The target is soft-float and does not enable the `fp` feature, so the
//! compiler never uses FP/SIMD registers: `V31` holds only what this module
//! writes, and survives only if the hypervisor saves and restores it. The
//! boot code lets EL1 use FP/SIMD (`CPACR_EL1.FPEN`), on every vCPU.

use core::arch::asm;

/// Sets all 128 bits of `V31` to `value`.
pub fn write_v31(value: u128) {
    let low = value as u64;
    let high = (value >> 64) as u64;
    // SAFETY: FP/SIMD is enabled at EL1 (boot), and nothing else in this
    // program uses V31 (see the module doc); no memory is touched.
    unsafe {
        asm!(
            ".arch_extension fp",
            ".arch_extension simd",
            "fmov d31, {low}",
            "mov v31.d[1], {high}",
            low = in(reg) low,
            high = in(reg) high,
            options(nomem, nostack, preserves_flags),
        );
    }
}

/// Reads all 128 bits of `V31`.
pub fn read_v31() -> u128 {
    let low: u64;
    let high: u64;
    // SAFETY: as in `write_v31`; this only reads the register.
    unsafe {
        asm!(
            ".arch_extension fp",
            ".arch_extension simd",
            "fmov {low}, d31",
            "mov {high}, v31.d[1]",
            low = out(reg) low,
            high = out(reg) high,
            options(nomem, nostack, preserves_flags),
        );
    }
    u128::from(high) << 64 | u128::from(low)
}
