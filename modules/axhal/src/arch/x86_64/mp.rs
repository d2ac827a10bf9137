//! Starting secondary CPUs: INIT, then STARTUP IPIs into the real-mode
//! trampoline, one CPU at a time.

use super::boot::{AP_START, stack_top};
use super::trampoline::{self, SIPI_VECTOR, TRAMPOLINE_ADDR};
use super::{cpu, lapic, timer};
use core::sync::atomic::Ordering;

/// Why a CPU did not start.
#[derive(Debug)]
pub enum StartError {
    /// The logical id is beyond what the kernel has stacks and per-CPU
    /// areas for.
    TooMany,
    /// The APIC ID does not fit xAPIC's 8 bits.
    ApicIdTooLarge,
    /// The CPU did not reach the kernel after the STARTUP IPIs.
    NoResponse,
}

/// Wait after INIT on old CPUs (Intel SDM, MP initialization; see
/// `cpu::needs_init_delay`), between the two STARTUP IPIs, and for the CPU
/// to reach the kernel, in nanoseconds.
const INIT_WAIT_NS: u64 = 10_000_000;
const SIPI_WAIT_NS: u64 = 200_000;
const RESPONSE_WAIT_NS: u64 = 1_000_000_000;

fn now_ns() -> u64 {
    crate::time::ticks_to_nanos(timer::ticks())
}

/// Spins until `done()` or `nanos` passed; returns `done()`.
fn wait_until(nanos: u64, done: impl Fn() -> bool) -> bool {
    let end = now_ns() + nanos;
    while !done() && now_ns() < end {
        core::hint::spin_loop();
    }
    done()
}

/// Starts the CPU with local APIC ID `apic_id` as logical CPU `cpu_id`; it
/// enters the runtime's `rust_main_secondary(cpu_id)` in long mode on the
/// kernel's page tables. Returns once it has left the trampoline.
pub fn start_secondary_cpu(cpu_id: usize, apic_id: u64) -> Result<(), StartError> {
    if cpu_id >= axconfig::cpu::MAX_NUM {
        return Err(StartError::TooMany);
    }
    let apic = u8::try_from(apic_id).map_err(|_| StartError::ApicIdTooLarge)?;
    let code = trampoline::code();
    // SAFETY: the trampoline page is mapped read-write, lies in the low
    // 1 MiB the allocator never hands out, and no CPU runs it now (starts
    // are one at a time); the code is far smaller than the page.
    unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), TRAMPOLINE_ADDR as *mut u8, code.len()) };
    AP_START.stack_top.store(stack_top(cpu_id) as u64, Ordering::Relaxed);
    AP_START.cpu_id.store(cpu_id as u64, Ordering::Relaxed);
    AP_START.taken.store(0, Ordering::Release);
    let taken = || AP_START.taken.load(Ordering::Acquire) != 0;

    lapic::send_init(apic);
    if cpu::needs_init_delay() {
        wait_until(INIT_WAIT_NS, || false);
    }
    lapic::send_startup(apic, SIPI_VECTOR);
    if !wait_until(SIPI_WAIT_NS, taken) {
        lapic::send_startup(apic, SIPI_VECTOR);
    }
    if wait_until(RESPONSE_WAIT_NS, taken) {
        Ok(())
    } else {
        Err(StartError::NoResponse)
    }
}
