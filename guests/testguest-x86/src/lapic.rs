//! The local APIC (xAPIC, memory-mapped at [`LAPIC_BASE`]): the registers
//! the contract emulates and no others: ID, TPR, EOI, SVR, the LVT
//! timer, the timer's initial and current count and divide configuration,
//! and the ICR for INIT and SIPI. Every access is one aligned 32-bit `mov`.

use crate::mmio::{self, Load, Width};
use crate::platform::{LAPIC_BASE, SPURIOUS_VECTOR};
use crate::tsc;

/// Local APIC ID register (the ID in bits 31:24).
const ID: usize = 0x020;
/// Task priority register.
const TPR: usize = 0x080;
/// End-of-interrupt register.
const EOI: usize = 0x0B0;
/// Spurious-interrupt vector register.
const SVR: usize = 0x0F0;
/// Interrupt command register, low half (writing it sends).
const ICR_LOW: usize = 0x300;
/// Interrupt command register, high half (the destination).
const ICR_HIGH: usize = 0x310;
/// LVT timer register.
const LVT_TIMER: usize = 0x320;
/// Timer initial count.
const TIMER_INITIAL: usize = 0x380;
/// Timer current count.
const TIMER_CURRENT: usize = 0x390;
/// Timer divide configuration.
const TIMER_DIVIDE: usize = 0x3E0;

/// `SVR` bit 8: the APIC is software-enabled.
const SVR_ENABLE: u32 = 1 << 8;
/// `LVT` bit 16: masked.
const LVT_MASKED: u32 = 1 << 16;
/// `LVT timer` bits 18:17 = 01: periodic (00 is one-shot).
const LVT_TIMER_PERIODIC: u32 = 1 << 17;
/// Divide configuration `0b0011`: divide by 16.
const DIVIDE_BY_16: u32 = 0b0011;
/// `ICR` delivery mode INIT (bits 10:8 = 101).
const ICR_INIT: u32 = 0b101 << 8;
/// `ICR` delivery mode start-up (bits 10:8 = 110).
const ICR_STARTUP: u32 = 0b110 << 8;
/// `ICR` bit 14: level assert.
const ICR_ASSERT: u32 = 1 << 14;
/// `ICR` bit 12: the IPI is still being sent.
const ICR_PENDING: u32 = 1 << 12;
/// `ICR_HIGH`: where the destination's APIC ID goes.
const ICR_DEST_SHIFT: u32 = 24;
/// `ID`: where the APIC ID is.
const ID_SHIFT: u32 = 24;

/// Reads the register at `offset`.
fn read(offset: usize) -> u32 {
    // SAFETY: a 32-bit aligned register of the local APIC page, mapped
    // uncached by the boot page tables; reading it has no side effect.
    let value = unsafe { mmio::load(LAPIC_BASE + offset, Load::U32) };
    // A 32-bit load zero-extends: the value fits.
    value as u32
}

/// Writes the register at `offset`.
fn write(offset: usize, value: u32) {
    // SAFETY: a 32-bit aligned register of the local APIC page, mapped
    // uncached; the callers below write values that mean what they say.
    unsafe { mmio::store(LAPIC_BASE + offset, Width::W32, u64::from(value)) };
}

/// This vCPU's local APIC ID.
pub fn id() -> u8 {
    // The shift leaves 8 bits.
    (read(ID) >> ID_SHIFT) as u8
}

/// Software-enables this vCPU's APIC with [`SPURIOUS_VECTOR`] and accepts
/// every priority (TPR 0).
pub fn enable() {
    write(TPR, 0);
    write(SVR, SVR_ENABLE | u32::from(SPURIOUS_VECTOR));
}

/// Signals the end of the interrupt being handled.
pub fn eoi() {
    write(EOI, 0);
}

/// Starts the timer: `count` ticks of the APIC clock divided by 16, then
/// `vector`; again every `count` ticks if `periodic`.
pub fn timer_start(vector: u8, count: u32, periodic: bool) {
    write(TIMER_DIVIDE, DIVIDE_BY_16);
    let mode = if periodic { LVT_TIMER_PERIODIC } else { 0 };
    write(LVT_TIMER, mode | u32::from(vector));
    write(TIMER_INITIAL, count);
}

/// Stops the timer (initial count 0) and masks its LVT entry.
pub fn timer_stop() {
    write(TIMER_INITIAL, 0);
    write(LVT_TIMER, LVT_MASKED);
}

/// The timer's current count.
pub fn timer_current() -> u32 {
    read(TIMER_CURRENT)
}

/// Why an IPI was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StillPending;

/// Sends the IPI `low` to APIC ID `dest` and waits (bounded) for the ICR's
/// delivery status to clear.
fn send_ipi(dest: u8, low: u32) -> Result<(), StillPending> {
    write(ICR_HIGH, u32::from(dest) << ICR_DEST_SHIFT);
    write(ICR_LOW, low);
    if tsc::wait_until(|| read(ICR_LOW) & ICR_PENDING == 0) { Ok(()) } else { Err(StillPending) }
}

/// Sends INIT (level assert) to APIC ID `dest`.
pub fn send_init(dest: u8) -> Result<(), StillPending> {
    send_ipi(dest, ICR_INIT | ICR_ASSERT)
}

/// Sends a start-up IPI with `vector` (start at `vector << 12`) to APIC ID
/// `dest`.
pub fn send_startup(dest: u8, vector: u8) -> Result<(), StillPending> {
    send_ipi(dest, ICR_STARTUP | ICR_ASSERT | u32::from(vector))
}
