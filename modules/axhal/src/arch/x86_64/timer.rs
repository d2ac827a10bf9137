//! Time and the host's timer interrupt: the TSC is the clock (counted from
//! boot), the local APIC timer in one-shot mode gives the deadlines.
//!
//! Both rates are measured once, on the boot CPU, against the PIT (about
//! 10 ms of its 1.193182 MHz count): QEMU's CPU models fill in neither
//! CPUID leaf 0x15 (TSC/crystal ratio) nor 0x16 (frequencies), and the PIT
//! is on every PC. Every CPU's TSC and APIC timer run at the same rates.

use super::{lapic, pit};
use core::sync::atomic::{AtomicU64, Ordering};

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static LAPIC_HZ: AtomicU64 = AtomicU64::new(0);
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);

/// PIT counts to measure over: 10 ms.
const WINDOW: u16 = (pit::HZ / 100) as u16;
/// Reads of the PIT before giving up on it.
const MAX_POLLS: usize = 10_000_000;

/// Why the clocks could not be measured.
#[derive(Debug)]
pub struct NoPit;

fn rdtsc() -> u64 {
    // SAFETY: RDTSC only reads the time-stamp counter (CR4.TSD is clear, and
    // we run in ring 0 anyway).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Measures the TSC and local APIC timer rates against the PIT and starts
/// the clock at 0. Boot CPU, once, with its local APIC on and IRQs masked.
pub fn calibrate() -> Result<(), NoPit> {
    BOOT_TSC.store(rdtsc(), Ordering::Relaxed);
    lapic::set_timer_masked(true);
    lapic::set_timer_count(u32::MAX);
    pit::start();
    let p0 = pit::count();
    let (t0, l0) = (rdtsc(), lapic::timer_current());
    let mut polls = 0;
    let p1 = loop {
        let p = pit::count();
        if p0.wrapping_sub(p) >= WINDOW {
            break p;
        }
        polls += 1;
        if polls == MAX_POLLS {
            lapic::set_timer_count(0);
            return Err(NoPit);
        }
    };
    let (t1, l1) = (rdtsc(), lapic::timer_current());
    lapic::set_timer_count(0);
    let pit_counts = p0.wrapping_sub(p1) as u128;
    let per_sec = |delta: u64| (delta as u128 * pit::HZ as u128 / pit_counts) as u64;
    TSC_HZ.store(per_sec(t1.wrapping_sub(t0)).max(1), Ordering::Relaxed);
    LAPIC_HZ.store(per_sec(l0.wrapping_sub(l1) as u64).max(1), Ordering::Relaxed);
    Ok(())
}

/// Clock ticks (TSC counts) per second.
pub fn frequency() -> u64 {
    TSC_HZ.load(Ordering::Relaxed).max(1)
}

/// Local APIC timer counts per second.
pub fn lapic_frequency() -> u64 {
    LAPIC_HZ.load(Ordering::Relaxed).max(1)
}

/// Clock ticks since boot.
pub fn ticks() -> u64 {
    rdtsc().wrapping_sub(BOOT_TSC.load(Ordering::Relaxed))
}

/// Converts between the two rates, rounding down.
fn convert(value: u64, from_hz: u64, to_hz: u64) -> u64 {
    (value as u128 * to_hz as u128 / from_hz.max(1) as u128).min(u64::MAX as u128) as u64
}

/// Arms this CPU's timer to fire `delta` clock ticks from now.
pub fn set_oneshot_in(delta: u64) {
    let counts = convert(delta, frequency(), lapic_frequency()).clamp(1, u32::MAX as u64);
    lapic::set_timer_count(counts as u32);
}

/// Moves this CPU's next timer interrupt earlier, to clock tick
/// `deadline`, if it is armed for later (or not armed); never later.
pub fn fire_no_later_than(deadline: u64) {
    let now = ticks();
    let left = lapic::timer_current();
    if left != 0 && now + convert(left as u64, lapic_frequency(), frequency()) <= deadline {
        return;
    }
    set_oneshot_in(deadline.saturating_sub(now));
}

/// Vector of the host timer interrupt.
pub fn irq() -> u32 {
    lapic::TIMER_VECTOR as u32
}
