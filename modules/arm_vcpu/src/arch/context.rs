//! The EL1/EL0 state of a vCPU that lives in CPU registers while it is
//! bound to a physical CPU: system registers and FP/SIMD registers.
//!
//! The host kernel never touches EL1 registers and is built without FP/SIMD
//! (soft-float target), so this state stays in the CPU across exits and is
//! only saved in `unbind` and restored in `bind`, when a physical CPU
//! switches to another vCPU.

use super::regs::{read_sysreg, write_sysreg};
use core::arch::global_asm;

/// FP/SIMD registers: q0..q31, then FPCR and FPSR.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Default)]
pub struct FpState {
    q: [u128; 32],
    fpcr: u64,
    fpsr: u64,
}

global_asm!(
    r#"
.arch_extension fp
.arch_extension simd
.global __arm_vcpu_fp_save
__arm_vcpu_fp_save:
    stp q0, q1, [x0, #0 * 32]
    stp q2, q3, [x0, #1 * 32]
    stp q4, q5, [x0, #2 * 32]
    stp q6, q7, [x0, #3 * 32]
    stp q8, q9, [x0, #4 * 32]
    stp q10, q11, [x0, #5 * 32]
    stp q12, q13, [x0, #6 * 32]
    stp q14, q15, [x0, #7 * 32]
    stp q16, q17, [x0, #8 * 32]
    stp q18, q19, [x0, #9 * 32]
    stp q20, q21, [x0, #10 * 32]
    stp q22, q23, [x0, #11 * 32]
    stp q24, q25, [x0, #12 * 32]
    stp q26, q27, [x0, #13 * 32]
    stp q28, q29, [x0, #14 * 32]
    stp q30, q31, [x0, #15 * 32]
    mrs x1, fpcr
    mrs x2, fpsr
    add x0, x0, #16 * 32
    stp x1, x2, [x0]
    ret

.global __arm_vcpu_fp_restore
__arm_vcpu_fp_restore:
    ldp q0, q1, [x0, #0 * 32]
    ldp q2, q3, [x0, #1 * 32]
    ldp q4, q5, [x0, #2 * 32]
    ldp q6, q7, [x0, #3 * 32]
    ldp q8, q9, [x0, #4 * 32]
    ldp q10, q11, [x0, #5 * 32]
    ldp q12, q13, [x0, #6 * 32]
    ldp q14, q15, [x0, #7 * 32]
    ldp q16, q17, [x0, #8 * 32]
    ldp q18, q19, [x0, #9 * 32]
    ldp q20, q21, [x0, #10 * 32]
    ldp q22, q23, [x0, #11 * 32]
    ldp q24, q25, [x0, #12 * 32]
    ldp q26, q27, [x0, #13 * 32]
    ldp q28, q29, [x0, #14 * 32]
    ldp q30, q31, [x0, #15 * 32]
    add x3, x0, #16 * 32
    ldp x1, x2, [x3]
    msr fpcr, x1
    msr fpsr, x2
    ret
"#
);

unsafe extern "C" {
    fn __arm_vcpu_fp_save(state: *mut FpState);
    fn __arm_vcpu_fp_restore(state: *const FpState);
}

impl FpState {
    /// The FP/SIMD registers live in this CPU now (the bound guest's: the
    /// host never uses them).
    pub(super) fn capture() -> Self {
        let mut state = Self::default();
        // SAFETY: `state` is a properly aligned `FpState` on this stack; the
        // routine stores q0..q31, FPCR and FPSR into it and nothing else.
        unsafe { __arm_vcpu_fp_save(&mut state) };
        state
    }

    /// Loads these registers into this CPU (for the bound guest).
    pub(super) fn load(&self) {
        // SAFETY: reads `self` only; writes the FP/SIMD registers, which
        // only the guest uses (the host is soft-float).
        unsafe { __arm_vcpu_fp_restore(self) };
    }

    /// Vn (n < 32; larger reads 0).
    pub(super) fn v(&self, n: usize) -> u128 {
        self.q.get(n).copied().unwrap_or(0)
    }

    /// Sets Vn (n < 32; larger is ignored).
    pub(super) fn set_v(&mut self, n: usize, value: u128) {
        if let Some(q) = self.q.get_mut(n) {
            *q = value;
        }
    }
}

/// SCTLR_EL1 at reset for a guest: MMU, caches and alignment checks off,
/// RES1 bits (29, 28, 23, 22, 20, 11) set.
pub(super) const SCTLR_EL1_RESET: u64 = (1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11);

/// The guest's EL1/EL0 system registers, saved while it is not bound.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct GuestSystemRegisters {
    pub sp_el0: u64,
    pub sp_el1: u64,
    pub elr_el1: u64,
    pub spsr_el1: u64,
    pub sctlr_el1: u64,
    pub cpacr_el1: u64,
    pub ttbr0_el1: u64,
    pub ttbr1_el1: u64,
    pub tcr_el1: u64,
    pub esr_el1: u64,
    pub far_el1: u64,
    pub par_el1: u64,
    pub afsr0_el1: u64,
    pub afsr1_el1: u64,
    pub mair_el1: u64,
    pub amair_el1: u64,
    pub vbar_el1: u64,
    pub contextidr_el1: u64,
    pub tpidr_el0: u64,
    pub tpidrro_el0: u64,
    pub tpidr_el1: u64,
    pub cntkctl_el1: u64,
    pub csselr_el1: u64,
    pub mdscr_el1: u64,
    pub cntv_ctl_el0: u64,
    pub cntv_cval_el0: u64,
    pub cntp_ctl_el0: u64,
    pub cntp_cval_el0: u64,
    /// FP/SIMD registers.
    pub fp: FpState,
}

impl Default for GuestSystemRegisters {
    fn default() -> Self {
        Self {
            sp_el0: 0,
            sp_el1: 0,
            elr_el1: 0,
            spsr_el1: 0,
            sctlr_el1: SCTLR_EL1_RESET,
            cpacr_el1: 0,
            ttbr0_el1: 0,
            ttbr1_el1: 0,
            tcr_el1: 0,
            esr_el1: 0,
            far_el1: 0,
            par_el1: 0,
            afsr0_el1: 0,
            afsr1_el1: 0,
            mair_el1: 0,
            amair_el1: 0,
            vbar_el1: 0,
            contextidr_el1: 0,
            tpidr_el0: 0,
            tpidrro_el0: 0,
            tpidr_el1: 0,
            cntkctl_el1: 0,
            csselr_el1: 0,
            mdscr_el1: 0,
            cntv_ctl_el0: 0,
            cntv_cval_el0: 0,
            cntp_ctl_el0: 0,
            cntp_cval_el0: 0,
            fp: FpState::default(),
        }
    }
}

/// Applies `$m!(field, register)` to every saved system register.
macro_rules! for_each_el1_reg {
    ($m:ident) => {
        $m!(sp_el0, sp_el0);
        $m!(sp_el1, sp_el1);
        $m!(elr_el1, elr_el1);
        $m!(spsr_el1, spsr_el1);
        $m!(sctlr_el1, sctlr_el1);
        $m!(cpacr_el1, cpacr_el1);
        $m!(ttbr0_el1, ttbr0_el1);
        $m!(ttbr1_el1, ttbr1_el1);
        $m!(tcr_el1, tcr_el1);
        $m!(esr_el1, esr_el1);
        $m!(far_el1, far_el1);
        $m!(par_el1, par_el1);
        $m!(afsr0_el1, afsr0_el1);
        $m!(afsr1_el1, afsr1_el1);
        $m!(mair_el1, mair_el1);
        $m!(amair_el1, amair_el1);
        $m!(vbar_el1, vbar_el1);
        $m!(contextidr_el1, contextidr_el1);
        $m!(tpidr_el0, tpidr_el0);
        $m!(tpidrro_el0, tpidrro_el0);
        $m!(tpidr_el1, tpidr_el1);
        $m!(cntkctl_el1, cntkctl_el1);
        $m!(csselr_el1, csselr_el1);
        $m!(mdscr_el1, mdscr_el1);
        $m!(cntv_ctl_el0, cntv_ctl_el0);
        $m!(cntv_cval_el0, cntv_cval_el0);
        $m!(cntp_ctl_el0, cntp_ctl_el0);
        $m!(cntp_cval_el0, cntp_cval_el0);
    };
}

impl GuestSystemRegisters {
    /// Saves the live EL1/EL0 state of the guest bound to this CPU.
    pub fn save(&mut self) {
        macro_rules! save {
            ($f:ident, $r:ident) => {
                self.$f = read_sysreg!($r);
            };
        }
        for_each_el1_reg!(save);
        // SAFETY: `fp` is a properly aligned `FpState` owned by `self`; the
        // routine stores q0..q31, FPCR and FPSR into it and nothing else.
        unsafe { __arm_vcpu_fp_save(&mut self.fp) };
    }

    /// Loads this guest's EL1/EL0 state into the CPU before it runs here.
    pub fn restore(&self) {
        macro_rules! restore {
            ($f:ident, $r:ident) => {
                write_sysreg!($r, self.$f);
            };
        }
        for_each_el1_reg!(restore);
        // SAFETY: reads `fp` only; writes the FP/SIMD registers, which only
        // the guest uses (the host is soft-float).
        unsafe { __arm_vcpu_fp_restore(&self.fp) };
    }
}
