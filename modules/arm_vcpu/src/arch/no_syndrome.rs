//! The hardware side of emulating a data access without syndrome: the
//! guest's registers (general-purpose from the trap frame, SP and the
//! SIMD&FP registers live in the CPU), its stage-1 translation (`AT`), and
//! the instruction fetch. The decoding and the accesses themselves are the
//! portable [`crate::a64`].
//!
//! Everything here runs while the vCPU is bound to this CPU: the guest's
//! EL1 system registers, SP_EL0/SP_EL1 and V0..V31 are live (the host is
//! soft-float and never touches them), and `VTTBR_EL2` is the guest's, so
//! `AT S1E1*` walks the guest's own stage-1 tables (through its stage 2).

use aarch64_cpu::registers::{PAR_EL1, Readable, SCTLR_EL1, SP_EL0, SP_EL1, Writeable};
use axvcpu::AccessWidth;
use core::cell::OnceCell;
use tock_registers::LocalRegisterCopy;

use super::context::FpState;
use super::entry::TrapFrame;
use super::regs::read_sysreg;
use crate::a64::{AccessFailed, GuestMemory, Registers, VmBus};
use crate::fields::SPSR;

/// The page offset bits of an address (4 KiB).
const PAGE_OFFSET: u64 = 0xfff;

/// The stack a guest instruction used and the exception level it ran at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GuestMode {
    /// It ran at EL0 (else EL1).
    pub el0: bool,
    /// Its SP is SP_EL1 (EL1h), else SP_EL0.
    pub sp_el1: bool,
    /// It ran in AArch32.
    pub aarch32: bool,
}

impl GuestMode {
    /// The mode of a guest PSTATE (`SPSR_EL2` at the exit).
    pub fn of(pstate: u64) -> Self {
        let spsr = LocalRegisterCopy::<u64, SPSR::Register>::new(pstate);
        let mode = spsr.read_as_enum(SPSR::M);
        Self {
            el0: matches!(mode, Some(SPSR::M::Value::EL0t)),
            sp_el1: matches!(mode, Some(SPSR::M::Value::EL1h)),
            aarch32: spsr.is_set(SPSR::NRW),
        }
    }
}

/// Whether the guest's data accesses at that level are big-endian.
pub(super) fn big_endian_data(mode: GuestMode) -> bool {
    if mode.el0 {
        SCTLR_EL1.is_set(SCTLR_EL1::E0E)
    } else {
        SCTLR_EL1.is_set(SCTLR_EL1::EE)
    }
}

/// The `DC ZVA` block size in bytes: 4 << `DCZID_EL0.BS`.
pub(super) fn zva_block() -> u64 {
    /// DCZID_EL0.BS, bits \[3:0\]: log2 of the block size in words.
    const BS_MASK: u64 = 0xf;
    const WORD: u64 = 4;
    WORD << (read_sysreg!(dczid_el0) & BS_MASK)
}

/// The IPA of guest virtual address `va` by the guest's stage 1 (`AT S1E1R`
/// / `S1E1W`, or `S1E0R` / `S1E0W` for an EL0 access), or `va` itself when
/// the guest's MMU is off. `None` when the walk faults.
pub(super) fn guest_ipa(va: u64, write: bool, el0: bool) -> Option<u64> {
    if !SCTLR_EL1.is_set(SCTLR_EL1::M) {
        return Some(va);
    }
    let saved = PAR_EL1.get();
    // SAFETY: an address translation instruction only writes PAR_EL1 (the
    // guest's, saved above and put back below); it walks the guest's
    // tables, loaded for this vCPU, and reports any fault in PAR_EL1
    // instead of taking it. The ISB makes the result visible to the MRS.
    unsafe {
        match (write, el0) {
            (false, false) => core::arch::asm!("at s1e1r, {}", "isb", in(reg) va, options(nostack)),
            (true, false) => core::arch::asm!("at s1e1w, {}", "isb", in(reg) va, options(nostack)),
            (false, true) => core::arch::asm!("at s1e0r, {}", "isb", in(reg) va, options(nostack)),
            (true, true) => core::arch::asm!("at s1e0w, {}", "isb", in(reg) va, options(nostack)),
        }
    }
    let par = PAR_EL1.extract();
    PAR_EL1.set(saved);
    if par.is_set(PAR_EL1::F) {
        return None;
    }
    Some((par.read(PAR_EL1::PA) << 12) | (va & PAGE_OFFSET))
}

/// The guest registers of the exit: X0..X30 from the trap frame, the SP
/// the instruction used, and V0..V31 read from the CPU on first use and
/// written back by [`GuestRegs::finish`] when changed.
pub(super) struct GuestRegs<'a> {
    frame: &'a mut TrapFrame,
    sp_el1: bool,
    fp: OnceCell<FpState>,
    fp_changed: bool,
}

impl<'a> GuestRegs<'a> {
    pub fn new(frame: &'a mut TrapFrame, mode: GuestMode) -> Self {
        Self {
            frame,
            sp_el1: mode.sp_el1,
            fp: OnceCell::new(),
            fp_changed: false,
        }
    }

    /// Puts changed SIMD&FP registers back into the CPU.
    pub fn finish(self) {
        if let (Some(fp), true) = (self.fp.get(), self.fp_changed) {
            fp.load();
        }
    }
}

impl Registers for GuestRegs<'_> {
    fn x(&self, n: u8) -> u64 {
        self.frame.x.get(usize::from(n)).copied().unwrap_or(0)
    }

    fn set_x(&mut self, n: u8, value: u64) {
        if let Some(r) = self.frame.x.get_mut(usize::from(n)) {
            *r = value;
        }
    }

    fn sp(&self) -> u64 {
        if self.sp_el1 { SP_EL1.get() } else { SP_EL0.get() }
    }

    fn set_sp(&mut self, value: u64) {
        if self.sp_el1 {
            SP_EL1.set(value);
        } else {
            SP_EL0.set(value);
        }
    }

    fn v(&self, n: u8) -> u128 {
        self.fp.get_or_init(FpState::capture).v(usize::from(n))
    }

    fn set_v(&mut self, n: u8, value: u128) {
        self.fp.get_or_init(FpState::capture);
        if let Some(fp) = self.fp.get_mut() {
            fp.set_v(usize::from(n), value);
        }
        self.fp_changed = true;
    }
}

/// The guest's memory for the executor: stage-1 translation here, device
/// accesses through the VM.
pub(super) struct GuestBus<'a> {
    pub bus: &'a mut dyn VmBus,
    pub el0: bool,
}

impl GuestMemory for GuestBus<'_> {
    fn translate(&mut self, va: u64, write: bool) -> Result<u64, AccessFailed> {
        guest_ipa(va, write, self.el0).ok_or(AccessFailed)
    }

    fn access(&mut self, ipa: u64, width: AccessWidth, write: bool, data: u64) -> Result<u64, AccessFailed> {
        self.bus.device_access(ipa, width, write, data)
    }
}
