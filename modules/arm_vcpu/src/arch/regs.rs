//! `mrs`/`msr` for the registers `aarch64-cpu` has no type for, by name.

/// Reads a system register by its assembler name.
macro_rules! read_sysreg {
    ($name:ident) => {{
        let v: u64;
        // SAFETY: reading a system register of the EL1/EL0 guest context or
        // an EL2 control register has no side effect at EL2.
        unsafe { core::arch::asm!(concat!("mrs {}, ", stringify!($name)), out(reg) v, options(nomem, nostack)) };
        v
    }};
}

/// Writes a system register by its assembler name.
macro_rules! write_sysreg {
    ($name:ident, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: the callers write guest EL1/EL0 context registers (which
        // only affect the guest) or EL2 controls with values built for the
        // guest that is about to run on this CPU.
        unsafe { core::arch::asm!(concat!("msr ", stringify!($name), ", {}"), in(reg) v, options(nomem, nostack)) };
    }};
}

pub(crate) use {read_sysreg, write_sysreg};
