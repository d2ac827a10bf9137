//! The guest's debug registers (`op0` 2), trapped by `MDCR_EL2.TDA`,
//! `TDOSA` and `TDRA` and emulated per vCPU ([`DebugRegs`]).
//!
//! What the guest sees matches `ID_AA64DFR0_EL1` as filtered in
//! [`crate::idregs::fields`]: two breakpoints and two watchpoints, no trace
//! unit, no PMU.
//!
//! | registers | behaviour |
//! |---|---|
//! | `DBGBVR<n>_EL1`, `DBGBCR<n>_EL1`, `DBGWVR<n>_EL1`, `DBGWCR<n>_EL1`, n < 2 | kept per vCPU, read back as written; never loaded into the hardware, so they never match |
//! | the same, n ≥ 2 | UNDEFINED (not implemented) |
//! | `MDSCR_EL1` | the live register, which the vCPU switches with its other EL1 state, limited to [`MDSCR_GUEST_BITS`]: software step (`SS`) works in the hardware |
//! | `OSLAR_EL1` (write) / `OSLSR_EL1` (read) | the OS lock, kept per vCPU, locked at reset; `OSLSR_EL1.OSLM` says it is implemented |
//! | `OSDLR_EL1` | the OS double lock bit, kept per vCPU |
//! | `MDRAR_EL1`, `DBGAUTHSTATUS_EL1` | read as zero (no memory-mapped debug, no external debug) |
//! | `DBGPRCR_EL1`, `DBGCLAIMSET_EL1`, `DBGCLAIMCLR_EL1`, the debug communication channel (`MDCCSR_EL0`, `DBGDTR*_EL0`, `OSDTRRX/TX_EL1`, `MDCCINT_EL1`, `OSECCR_EL1`) | RAZ/WI |
//! | a write of a read-only register, a read of `OSLAR_EL1`, trace unit registers (`op1` 1), any other `op0` 2 encoding | UNDEFINED |
//!
//! The physical breakpoint and watchpoint registers stay disabled
//! (the vCPU clears them when it enables a CPU), so a guest can neither
//! break into another VM nor into the host.

use crate::emulate::{SysRegAccess, SysRegAction};
use crate::sysreg::SysRegEncoding;

/// Breakpoints the guest has (`ID_AA64DFR0_EL1.BRPs` + 1).
pub const BREAKPOINTS: usize = 2;
/// Watchpoints the guest has (`ID_AA64DFR0_EL1.WRPs` + 1).
pub const WATCHPOINTS: usize = 2;

/// The `MDSCR_EL1` bits a guest controls: `SS` (0), `TDCC` (12), `KDE`
/// (13), `MDE` (15). The others (halting debug, the external debug
/// buffer, trace and profiling controls) read as zero and ignore writes.
pub const MDSCR_GUEST_BITS: u64 = 1 | 1 << 12 | 1 << 13 | 1 << 15;

/// `OSLSR_EL1.OSLM`: bit 3 set, bit 0 clear = the OS lock is implemented.
const OSLSR_OSLM_IMPLEMENTED: u64 = 1 << 3;
/// `OSLSR_EL1.OSLK` (bit 1) / `OSLAR_EL1.OSLK` (bit 0).
const OSLSR_OSLK_SHIFT: u32 = 1;
/// `OSLAR_EL1.OSLK` and `OSDLR_EL1.DLK`: bit 0.
const LOCK_BIT: u64 = 1;

/// The emulated debug state of one vCPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugRegs {
    bvr: [u64; BREAKPOINTS],
    bcr: [u64; BREAKPOINTS],
    wvr: [u64; WATCHPOINTS],
    wcr: [u64; WATCHPOINTS],
    os_lock: bool,
    double_lock: bool,
}

impl Default for DebugRegs {
    /// The reset state: every break/watchpoint zero (disabled), the OS lock
    /// locked (as a cold reset leaves it), the double lock clear.
    fn default() -> Self {
        Self {
            bvr: [0; BREAKPOINTS],
            bcr: [0; BREAKPOINTS],
            wvr: [0; WATCHPOINTS],
            wcr: [0; WATCHPOINTS],
            os_lock: true,
            double_lock: false,
        }
    }
}

/// The four kinds of break/watchpoint registers, by `op2`.
const OP2_BVR: u8 = 4;
const OP2_BCR: u8 = 5;
const OP2_WVR: u8 = 6;
const OP2_WCR: u8 = 7;

/// Read-write register kept in storage.
fn read_write(slot: &mut u64, access: SysRegAccess) -> SysRegAction {
    match access {
        SysRegAccess::Read => SysRegAction::Read(*slot),
        SysRegAccess::Write(v) => {
            *slot = v;
            SysRegAction::Written
        }
    }
}

/// A register that reads as zero and ignores writes.
fn raz_wi(access: SysRegAccess) -> SysRegAction {
    match access {
        SysRegAccess::Read => SysRegAction::Read(0),
        SysRegAccess::Write(_) => SysRegAction::Written,
    }
}

/// A read-only register reading `value`; a write is UNDEFINED.
fn read_only(value: u64, access: SysRegAccess) -> SysRegAction {
    match access {
        SysRegAccess::Read => SysRegAction::Read(value),
        SysRegAccess::Write(_) => SysRegAction::Undef,
    }
}

impl DebugRegs {
    /// The guest's access to debug register `enc` (`op0` = 2).
    pub fn access(&mut self, enc: SysRegEncoding, access: SysRegAccess) -> SysRegAction {
        let SysRegEncoding {
            op0,
            op1,
            crn,
            crm,
            op2,
        } = enc;
        if op0 != 2 {
            return SysRegAction::Undef;
        }
        let n = usize::from(crm);
        match (op1, crn, crm, op2) {
            (0, 0, _, OP2_BVR) => self
                .bvr
                .get_mut(n)
                .map_or(SysRegAction::Undef, |r| read_write(r, access)),
            (0, 0, _, OP2_BCR) => self
                .bcr
                .get_mut(n)
                .map_or(SysRegAction::Undef, |r| read_write(r, access)),
            (0, 0, _, OP2_WVR) => self
                .wvr
                .get_mut(n)
                .map_or(SysRegAction::Undef, |r| read_write(r, access)),
            (0, 0, _, OP2_WCR) => self
                .wcr
                .get_mut(n)
                .map_or(SysRegAction::Undef, |r| read_write(r, access)),
            // MDSCR_EL1.
            (0, 0, 2, 2) => SysRegAction::LiveMdscr,
            // OSDTRRX_EL1, MDCCINT_EL1, OSDTRTX_EL1, OSECCR_EL1.
            (0, 0, 0, 2) | (0, 0, 2, 0) | (0, 0, 3, 2) | (0, 0, 6, 2) => raz_wi(access),
            // MDRAR_EL1.
            (0, 1, 0, 0) => read_only(0, access),
            // OSLAR_EL1: write-only.
            (0, 1, 0, 4) => match access {
                SysRegAccess::Read => SysRegAction::Undef,
                SysRegAccess::Write(v) => {
                    self.os_lock = v & LOCK_BIT != 0;
                    SysRegAction::Written
                }
            },
            // OSLSR_EL1.
            (0, 1, 1, 4) => read_only(
                OSLSR_OSLM_IMPLEMENTED | (u64::from(self.os_lock) << OSLSR_OSLK_SHIFT),
                access,
            ),
            // OSDLR_EL1.
            (0, 1, 3, 4) => match access {
                SysRegAccess::Read => SysRegAction::Read(u64::from(self.double_lock)),
                SysRegAccess::Write(v) => {
                    self.double_lock = v & LOCK_BIT != 0;
                    SysRegAction::Written
                }
            },
            // DBGPRCR_EL1.
            (0, 1, 4, 4) => raz_wi(access),
            // DBGCLAIMSET_EL1, DBGCLAIMCLR_EL1.
            (0, 7, 8, 6) | (0, 7, 9, 6) => raz_wi(access),
            // DBGAUTHSTATUS_EL1.
            (0, 7, 14, 6) => read_only(0, access),
            // MDCCSR_EL0.
            (3, 0, 1, 0) => read_only(0, access),
            // DBGDTR_EL0, DBGDTRRX_EL0 / DBGDTRTX_EL0.
            (3, 0, 4, 0) | (3, 0, 5, 0) => raz_wi(access),
            _ => SysRegAction::Undef,
        }
    }

    /// Whether the guest holds its OS lock.
    pub fn os_locked(&self) -> bool {
        self.os_lock
    }
}
