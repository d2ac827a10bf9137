//! The second vCPU: started with INIT and SIPI through the local APIC (as
//! on a PC), up through the trampoline and `boot.rs` into
//! [`secondary_main`], which reports what it found and halts for good.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::lapic::{self, StillPending};
use crate::platform::{SECOND_APIC_ID, TRAMPOLINE_VECTOR};
use crate::{cpu, hypercall, idt, trampoline, tsc};

/// How long to wait between INIT and SIPI (10 ms at 1 GHz, as the MP
/// specification asks; the contract needs none).
const INIT_DELAY_TICKS: u64 = 10_000_000;
/// How long to wait for the vCPU before sending a second SIPI.
const FIRST_SIPI_WAIT_TICKS: u64 = 1 << 30;

/// What the second vCPU reports once it runs Rust code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// Its local APIC ID.
    pub apic_id: u8,
    /// What `HC_CPU_ID` returned there, if it was asked.
    pub cpu_id: Option<u64>,
}

/// Why the second vCPU did not come up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartError {
    /// The INIT IPI stayed pending in the ICR.
    Init,
    /// A start-up IPI stayed pending in the ICR.
    Startup,
    /// The vCPU did not report within the time allowed.
    Timeout,
}

/// Set by the second vCPU once it has reported.
static UP: AtomicBool = AtomicBool::new(false);
/// The second vCPU's APIC ID.
static APIC_ID: AtomicU64 = AtomicU64::new(0);
/// Whether the second vCPU should ask `HC_CPU_ID` (under the hypervisor).
static ASK_CPU_ID: AtomicBool = AtomicBool::new(false);
/// Its answer.
static CPU_ID: AtomicU64 = AtomicU64::new(0);

/// Rust entry of the second vCPU (from `boot.rs`).
pub extern "C" fn secondary_main() -> ! {
    idt::load();
    let apic_id = lapic::id();
    println!("testguest-x86: vCPU {} up", apic_id);
    APIC_ID.store(u64::from(apic_id), Ordering::Relaxed);
    if ASK_CPU_ID.load(Ordering::Acquire) {
        CPU_ID.store(hypercall::cpu_id(), Ordering::Relaxed);
    }
    UP.store(true, Ordering::Release);
    cpu::halt()
}

/// Waits (bounded by `ticks`) for the second vCPU to report.
fn wait_up(ticks: u64) -> bool {
    let start = tsc::now();
    while tsc::now().wrapping_sub(start) < ticks {
        if UP.load(Ordering::Acquire) {
            return true;
        }
        core::hint::spin_loop();
    }
    UP.load(Ordering::Acquire)
}

/// Starts the vCPU with APIC ID [`SECOND_APIC_ID`] and waits for it;
/// `ask_cpu_id`: it is to ask `HC_CPU_ID` too. A second SIPI follows the
/// first only if the vCPU has not come up by then.
pub fn start_second(ask_cpu_id: bool) -> Result<Arrival, StartError> {
    ASK_CPU_ID.store(ask_cpu_id, Ordering::Release);
    trampoline::install();
    lapic::send_init(SECOND_APIC_ID).map_err(|StillPending| StartError::Init)?;
    tsc::delay(INIT_DELAY_TICKS);
    lapic::send_startup(SECOND_APIC_ID, TRAMPOLINE_VECTOR).map_err(|StillPending| StartError::Startup)?;
    if !wait_up(FIRST_SIPI_WAIT_TICKS) {
        lapic::send_startup(SECOND_APIC_ID, TRAMPOLINE_VECTOR).map_err(|StillPending| StartError::Startup)?;
        if !wait_up(tsc::TIMEOUT_TICKS) {
            return Err(StartError::Timeout);
        }
    }
    // The APIC ID was stored from a u8.
    let apic_id = APIC_ID.load(Ordering::Relaxed) as u8;
    let cpu_id = ask_cpu_id.then(|| CPU_ID.load(Ordering::Relaxed));
    Ok(Arrival { apic_id, cpu_id })
}
