//! Making sure a `WFI` (or PSCI `CPU_SUSPEND`) of the fuzzer ends: before
//! it, this vCPU undoes what random writes may have done to the path of its
//! virtual timer's interrupt (PPI 27) and arms the timer a moment ahead;
//! after it, the timer is turned off again.
//!
//! The path: the CPU interface (`ICC_SRE_EL1`, the active priorities, the
//! priority mask, Group 1 enabled, PPI 27 deactivated), the distributor
//! (`GICD_CTLR.EnableGrp1` and `ARE`) and this vCPU's redistributor (awake,
//! PPI 27 Group 1, not active, enabled, with the default priority). The
//! other vCPU's fuzzed stores never reach the redistributor and
//! distributor registers involved (see `target.rs`), so the path stays
//! open until the `WFI`.

use core::arch::asm;

use crate::mmio::{self, Load, Width};
use crate::platform::{GICD_BASE, GICR_BASE, GICR_STRIDE, VTIMER_INTID};
use crate::{cpu, timer};

/// `GICD_CTLR`.
const GICD_CTLR: usize = 0x0000;
/// `GICD_CTLR.EnableGrp1` (single security state).
const GICD_CTLR_ENABLE_GRP1: u64 = 1 << 1;
/// `GICD_CTLR.ARE`.
const GICD_CTLR_ARE: u64 = 1 << 4;
/// `GICR_WAKER` (`RD_base`).
const GICR_WAKER: usize = 0x0_0014;
/// `GICR_WAKER.ProcessorSleep`.
const GICR_WAKER_PROCESSOR_SLEEP: u64 = 1 << 1;
/// `GICR_IGROUPR0` (`SGI_base`).
const GICR_IGROUPR0: usize = 0x1_0080;
/// `GICR_ISENABLER0`.
const GICR_ISENABLER0: usize = 0x1_0100;
/// `GICR_ICACTIVER0`.
const GICR_ICACTIVER0: usize = 0x1_0380;
/// `GICR_IPRIORITYR0`, one byte per INTID.
const GICR_IPRIORITYR: usize = 0x1_0400;
/// `GICR_IGRPMODR0`.
const GICR_IGRPMODR0: usize = 0x1_0d00;
/// The priority the timer's PPI gets (the test guest's default).
const TIMER_PRIORITY: u64 = 0xa0;
/// `ICC_SRE_EL1`: SRE, DFB, DIB.
const ICC_SRE_ALL: u64 = 0b111;
/// `ICC_CTLR_EL1.EOImode`: `ICC_EOIR1_EL1` only drops the priority.
const ICC_CTLR_EOIMODE: u64 = 1 << 1;
/// `ICC_PMR_EL1` letting every priority through.
const ICC_PMR_ALL: u64 = 0xff;
/// The EL1 physical timer's PPI (deactivated too).
const PTIMER_INTID: u64 = crate::platform::PTIMER_INTID as u64;
/// How far ahead the timer is armed, in microseconds.
const WAKE_AFTER_US: u64 = 50;

/// Reads the 32-bit register at `addr`.
fn read32(addr: usize) -> u64 {
    // SAFETY: `addr` is an aligned 32-bit register of the virtual GIC
    // (callers pass the named offsets above).
    unsafe { mmio::load(addr, Load::U32) }
}

/// Writes the 32-bit register at `addr`.
fn write32(addr: usize, value: u64) {
    // SAFETY: as in `read32`; the values written are the ones this module
    // documents.
    unsafe { mmio::store(addr, Width::W32, value) }
}

/// Opens the timer interrupt's path again and arms the virtual timer
/// [`WAKE_AFTER_US`] ahead.
pub fn prepare() {
    let vtimer = u64::from(VTIMER_INTID);
    // SAFETY: writes of the GIC CPU interface registers of this vCPU; the
    // fuzzer keeps IRQs masked at PSTATE, so nothing is taken meanwhile.
    unsafe {
        asm!(
            "msr icc_sre_el1, {sre}",
            "isb",
            "msr icc_ctlr_el1, {eoimode}",
            "isb",
            "msr icc_dir_el1, {vtimer}",
            "msr icc_dir_el1, {ptimer}",
            "msr icc_ctlr_el1, xzr",
            "msr icc_ap1r0_el1, xzr",
            "msr icc_ap0r0_el1, xzr",
            "msr icc_pmr_el1, {pmr}",
            "msr icc_igrpen1_el1, {one}",
            "isb",
            sre = in(reg) ICC_SRE_ALL,
            eoimode = in(reg) ICC_CTLR_EOIMODE,
            vtimer = in(reg) vtimer,
            ptimer = in(reg) PTIMER_INTID,
            pmr = in(reg) ICC_PMR_ALL,
            one = in(reg) 1u64,
            options(nostack, preserves_flags),
        );
    }
    let ctlr = read32(GICD_BASE + GICD_CTLR);
    write32(GICD_BASE + GICD_CTLR, ctlr | GICD_CTLR_ENABLE_GRP1 | GICD_CTLR_ARE);
    let rd = GICR_BASE + cpu::index() as usize * GICR_STRIDE;
    let bit = 1 << vtimer;
    let waker = read32(rd + GICR_WAKER);
    write32(rd + GICR_WAKER, waker & !GICR_WAKER_PROCESSOR_SLEEP);
    write32(rd + GICR_IGROUPR0, read32(rd + GICR_IGROUPR0) | bit);
    write32(rd + GICR_IGRPMODR0, read32(rd + GICR_IGRPMODR0) & !bit);
    write32(rd + GICR_ICACTIVER0, bit);
    let word = GICR_IPRIORITYR + (VTIMER_INTID as usize & !3);
    let shift = 8 * (vtimer & 3);
    let priorities = read32(rd + word) & !(0xff << shift) | TIMER_PRIORITY << shift;
    write32(rd + word, priorities);
    write32(rd + GICR_ISENABLER0, bit);
    let ticks = (timer::ticks_per_second() / 1_000_000).max(1) * WAKE_AFTER_US;
    timer::vtimer_arm(timer::counter().wrapping_add(ticks));
}

/// Turns the virtual timer off after the wait.
pub fn finish() {
    timer::vtimer_stop();
}
