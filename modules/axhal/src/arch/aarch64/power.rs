//! Powering the machine off: PSCI SYSTEM_OFF for a clean end (QEMU exits 0)
//! and a failure exit for panics and fatal exceptions.
//!
//! QEMU has no PSCI call that exits with a failure status, so the failure
//! exit uses Arm semihosting `SYS_EXIT` (QEMU runs with `-semihosting`):
//! QEMU exits with status 1. Without semihosting (real hardware) the HLT
//! traps as an undefined instruction and the CPU falls back to PSCI
//! SYSTEM_OFF, then parks. Semihosting is a QEMU-only debugging aid; note
//! that a guest can also issue it while QEMU offers it.

use crate::dtb::PsciMethod;
use core::arch::{asm, naked_asm};
use core::sync::atomic::{AtomicU8, Ordering};

/// Semihosting operation SYS_EXIT.
const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: exit with the status in the second word.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;

static CONDUIT: AtomicU8 = AtomicU8::new(0);

/// Sets the PSCI conduit read from the device tree.
pub fn set_psci_method(m: PsciMethod) {
    CONDUIT.store(m as u8, Ordering::Relaxed);
}

/// The PSCI conduit in use.
pub fn psci_method() -> PsciMethod {
    if CONDUIT.load(Ordering::Relaxed) == PsciMethod::Hvc as u8 {
        PsciMethod::Hvc
    } else {
        PsciMethod::Smc
    }
}

/// Starts the CPU `mpidr` at `entry` (physical) with `context` in x0.
pub fn cpu_on(mpidr: u64, entry: usize, context: u64) -> Result<(), smccc::psci::Error> {
    match psci_method() {
        PsciMethod::Smc => smccc::psci::cpu_on::<smccc::Smc>(mpidr, entry as u64, context),
        PsciMethod::Hvc => smccc::psci::cpu_on::<smccc::Hvc>(mpidr, entry as u64, context),
    }
}

/// Powers the machine off (QEMU exits 0). Never returns.
pub fn system_off() -> ! {
    crate::cpu::disable_irqs();
    let _ = match psci_method() {
        PsciMethod::Smc => smccc::psci::system_off::<smccc::Smc>(),
        PsciMethod::Hvc => smccc::psci::system_off::<smccc::Hvc>(),
    };
    park()
}

/// Ends the run with a failure status (QEMU exits 1). Never returns.
pub fn fail_exit() -> ! {
    crate::cpu::disable_irqs();
    let block: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, 1];
    // SAFETY: a semihosting call: QEMU reads the two words at x1 and exits.
    // Where semihosting is absent this is an undefined instruction, which
    // the exception report handles (and ends in system_off below).
    unsafe { asm!("hlt #0xf000", in("x0") SYS_EXIT, in("x1") block.as_ptr(), options(nostack)) };
    system_off()
}

fn park() -> ! {
    loop {
        aarch64_cpu::asm::wfi();
    }
}

/// The same failure exit for code that runs before the MMU and the stack
/// are set up (the EL check in the boot path). Touches no memory but the
/// exit block it builds in registers.
#[unsafe(naked)]
pub(super) unsafe extern "C" fn fatal_stop_asm() -> ! {
    naked_asm!(
        "adrp    x1, {block}",
        "add     x1, x1, :lo12:{block}",
        "mov     x0, {sys_exit}",
        "hlt     #0xf000",
        "1: wfi",
        "b       1b",
        block = sym FATAL_EXIT_BLOCK,
        sys_exit = const SYS_EXIT,
    )
}

static FATAL_EXIT_BLOCK: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, 1];

/// Failure exit from early Rust code (no console yet).
pub(super) fn fatal_stop() -> ! {
    // SAFETY: `fatal_stop_asm` never returns and needs nothing from us.
    unsafe { fatal_stop_asm() }
}
