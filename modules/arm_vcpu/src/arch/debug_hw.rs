//! The physical debug state while guests run: no breakpoint or watchpoint
//! armed, the OS lock open. The guest's own debug registers are emulated
//! (`crate::debug`); only `MDSCR_EL1` is live, so its software step works.

use super::regs::write_sysreg;
use crate::fields::HW_ID_AA64DFR0;

/// Writes zero to `DBG<kind>CR<n>_EL1` for every `n` below `count`.
macro_rules! clear_controls {
    ($kind:literal, $count:expr, $($n:literal)*) => {
        $(
            if $n < $count {
                // SAFETY: disables one breakpoint or watchpoint that exists
                // on this CPU (n is below its count); nothing at EL2 uses it.
                unsafe { core::arch::asm!(concat!("msr dbg", $kind, "cr", $n, "_el1, xzr"), options(nomem, nostack)) };
            }
        )*
    };
}

/// Disables every hardware breakpoint and watchpoint of this CPU (their
/// reset values are UNKNOWN) and opens the OS lock, given its
/// `ID_AA64DFR0_EL1`.
pub(super) fn reset_debug_hw(dfr0: u64) {
    let brps = HW_ID_AA64DFR0::BRPS.read(dfr0) + 1;
    let wrps = HW_ID_AA64DFR0::WRPS.read(dfr0) + 1;
    clear_controls!("b", brps, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    clear_controls!("w", wrps, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    write_sysreg!(oslar_el1, 0);
}
