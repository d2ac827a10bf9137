//! The local APIC in xAPIC mode (MMIO at its physical base, mapped uncached
//! in the device window): enable, end of interrupt, the timer, IPIs.
//!
//! Register offsets and the ICR encoding come from the `x86` crate
//! (`x86::apic`); the LVT and SVR fields used here are named below. Each
//! CPU reaches its own local APIC at the same address, so there is no
//! shared state and no lock: an access is one 32-bit MMIO read or write
//! (the ICR is two writes, made with IRQs masked so they are not split).

use x86::apic::xapic::{
    XAPIC_EOI, XAPIC_ESR, XAPIC_ICR0, XAPIC_ICR1, XAPIC_ID, XAPIC_LVT_ERROR, XAPIC_LVT_LINT0, XAPIC_LVT_LINT1,
    XAPIC_LVT_TIMER, XAPIC_SVR, XAPIC_TIMER_CURRENT_COUNT, XAPIC_TIMER_DIV_CONF, XAPIC_TIMER_INIT_COUNT, XAPIC_TPR,
};
use x86::apic::{ApicId, DeliveryMode, DeliveryStatus, DestinationMode, DestinationShorthand, Icr, Level, TriggerMode};

/// Vector of the LAPIC timer (the host tick).
pub const TIMER_VECTOR: u8 = axconfig::devices::TIMER_IRQ as u8;
/// Vector of the wake-up IPI.
pub const WAKEUP_VECTOR: u8 = 0xf1;
/// Vector of LAPIC internal errors.
pub const ERROR_VECTOR: u8 = 0xfe;
/// Spurious-interrupt vector (never acknowledged with an EOI).
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Physical (= virtual) base of the xAPIC registers.
const XAPIC_BASE: usize = 0xfee0_0000;

/// LVT: the entry is masked.
const LVT_MASKED: u32 = 1 << 16;
/// SVR: APIC software enable.
const SVR_ENABLE: u32 = 1 << 8;
/// Timer divide configuration value for "divide by 1".
const TIMER_DIVIDE_BY_1: u32 = 0b1011;
/// ICR low word: delivery status (send pending).
const ICR_SEND_PENDING: u32 = 1 << 12;

fn reg(offset: u32) -> *mut u32 {
    (XAPIC_BASE + offset as usize) as *mut u32
}

fn read(offset: u32) -> u32 {
    // SAFETY: the xAPIC page is mapped uncached in the device window
    // (`mmu.rs`); `offset` is one of the `x86::apic::xapic` registers.
    unsafe { reg(offset).read_volatile() }
}

fn write(offset: u32, value: u32) {
    // SAFETY: as in `read`; each register written here is this CPU's own.
    unsafe { reg(offset).write_volatile(value) }
}

/// Turns this CPU's local APIC on: spurious vector, errors to
/// [`ERROR_VECTOR`], the LINT pins (legacy PIC, NMI wiring) and the timer
/// masked, every priority accepted. The timer counts at the bus clock.
pub fn init_this_cpu() {
    write(XAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR as u32);
    write(XAPIC_LVT_LINT0, LVT_MASKED);
    write(XAPIC_LVT_LINT1, LVT_MASKED);
    write(XAPIC_LVT_ERROR, ERROR_VECTOR as u32);
    write(XAPIC_TIMER_DIV_CONF, TIMER_DIVIDE_BY_1);
    write(XAPIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR as u32);
    write(XAPIC_TPR, 0);
    // Writing the ESR latches and clears the errors seen so far.
    write(XAPIC_ESR, 0);
}

/// This CPU's local APIC ID.
pub fn id() -> u32 {
    read(XAPIC_ID) >> 24
}

/// Signals the end of the interrupt being handled.
pub fn end_of_interrupt() {
    write(XAPIC_EOI, 0);
}

/// Masks or unmasks the timer interrupt (one-shot mode).
pub fn set_timer_masked(masked: bool) {
    let mask = if masked { LVT_MASKED } else { 0 };
    write(XAPIC_LVT_TIMER, mask | TIMER_VECTOR as u32);
}

/// Starts the one-shot timer: it fires after `count` bus clocks (0 stops it).
pub fn set_timer_count(count: u32) {
    write(XAPIC_TIMER_INIT_COUNT, count);
}

/// Bus clocks left before the timer fires (0: not armed or fired).
pub fn timer_current() -> u32 {
    read(XAPIC_TIMER_CURRENT_COUNT)
}

/// Sends `icr` and waits until the local APIC accepted it.
fn send(icr: Icr) {
    let was_masked = super::cpu::irqs_disabled();
    super::cpu::disable_irqs();
    write(XAPIC_ICR1, icr.upper());
    write(XAPIC_ICR0, icr.lower());
    while read(XAPIC_ICR0) & ICR_SEND_PENDING != 0 {
        core::hint::spin_loop();
    }
    if !was_masked {
        super::cpu::enable_irqs();
    }
}

fn ipi(vector: u8, apic_id: u8, mode: DeliveryMode, level: Level, trigger: TriggerMode) -> Icr {
    Icr::for_xapic(
        vector,
        ApicId::XApic(apic_id),
        DestinationShorthand::NoShorthand,
        mode,
        DestinationMode::Physical,
        DeliveryStatus::Idle,
        level,
        trigger,
    )
}

/// Sends interrupt `vector` to the CPU with local APIC ID `apic_id`.
pub fn send_ipi(vector: u8, apic_id: u8) {
    send(ipi(
        vector,
        apic_id,
        DeliveryMode::Fixed,
        Level::Assert,
        TriggerMode::Edge,
    ));
}

/// Sends an INIT IPI (the CPU resets and waits for a SIPI).
pub fn send_init(apic_id: u8) {
    send(ipi(0, apic_id, DeliveryMode::Init, Level::Assert, TriggerMode::Level));
}

/// Sends a STARTUP IPI: the CPU starts in real mode at `vector << 12`.
pub fn send_startup(apic_id: u8, vector: u8) {
    send(ipi(
        vector,
        apic_id,
        DeliveryMode::StartUp,
        Level::Assert,
        TriggerMode::Edge,
    ));
}
