//! The PL031 real-time clock at [`RTC_BASE`], which the VMs of the
//! passthrough checks get from the host: its seconds counter, its match
//! register and its one interrupt (a level on [`RTC_INTID`](crate::platform::RTC_INTID)
//! while the masked interrupt status is set).
//!
//! Every register is 32 bits wide and reached with one 32-bit access
//! ([`mmio`]); the MMU is off, so they are Device-nGnRnE.

use crate::exception;
use crate::mmio::{self, Load, Width};
use crate::platform::RTC_BASE;

/// Data register: the current time in seconds (read-only).
const RTCDR: usize = 0x000;
/// Match register: the interrupt is raised when [`RTCDR`] reaches it.
const RTCMR: usize = 0x004;
/// Interrupt mask set/clear register: bit [`RTCINTR`] lets the interrupt
/// out.
const RTCIMSC: usize = 0x010;
/// Raw interrupt status: bit [`RTCINTR`] is set once the match happened.
const RTCRIS: usize = 0x014;
/// Masked interrupt status: [`RTCRIS`] and [`RTCIMSC`], the line's level.
const RTCMIS: usize = 0x018;
/// Interrupt clear register: writing bit [`RTCINTR`] clears it (write-only).
const RTCICR: usize = 0x01C;
/// The one interrupt bit of [`RTCIMSC`], [`RTCRIS`], [`RTCMIS`] and
/// [`RTCICR`].
const RTCINTR: u32 = 1 << 0;

/// Reads the RTC register at `offset`.
fn read(offset: usize) -> u32 {
    // SAFETY: `offset` is one of the 32-bit registers above of the PL031
    // at RTC_BASE, read with an aligned 32-bit load; reading has no side
    // effect.
    unsafe { mmio::load(RTC_BASE + offset, Load::U32) as u32 }
}

/// Writes the RTC register at `offset`.
fn write(offset: usize, value: u32) {
    // SAFETY: `offset` is one of the writable 32-bit registers above of
    // the PL031 at RTC_BASE; the callers change only its match and
    // interrupt state.
    unsafe { mmio::store(RTC_BASE + offset, Width::W32, u64::from(value)) }
}

/// The current time in seconds, or `None` when reading it aborts (no RTC
/// mapped at [`RTC_BASE`]).
pub fn probe() -> Option<u32> {
    let addr = RTC_BASE + RTCDR;
    exception::expect_abort(addr);
    // SAFETY: RTCDR of the PL031 at RTC_BASE, if it is mapped; an abort is
    // skipped by the handler, armed above.
    let value = unsafe { mmio::load(addr, Load::U32) } as u32;
    (exception::take_record().count == 0).then_some(value)
}

/// The current time in seconds (`RTCDR`).
pub fn now() -> u32 {
    read(RTCDR)
}

/// Sets the match register: the interrupt status is set once [`now`]
/// reaches `seconds`.
pub fn set_match(seconds: u32) {
    write(RTCMR, seconds);
}

/// The match register.
pub fn match_value() -> u32 {
    read(RTCMR)
}

/// Lets the interrupt out to the line (`true`) or keeps it in.
pub fn set_interrupt_enabled(enabled: bool) {
    write(RTCIMSC, if enabled { RTCINTR } else { 0 });
}

/// Clears the interrupt status, which drops the line (`RTCICR`).
pub fn clear_interrupt() {
    write(RTCICR, RTCINTR);
}

/// Whether the match happened and was not cleared (`RTCRIS`).
pub fn raw_status() -> bool {
    read(RTCRIS) & RTCINTR != 0
}

/// Whether the line is high (`RTCMIS`).
pub fn line_high() -> bool {
    read(RTCMIS) & RTCINTR != 0
}
