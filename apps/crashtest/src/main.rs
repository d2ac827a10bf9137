//! Crashes the host kernel on purpose so the tests can check what a crash
//! looks like: a panic prints its message and location, an unexpected
//! exception prints a decoded report, and either way QEMU exits non-zero.
//! The crash is chosen with a cargo feature (`make A=apps/crashtest
//! FEATURES=panic|data-abort|undefined`; on x86_64 the last two are also
//! called `page-fault` and `invalid-opcode`).

#![no_std]
#![no_main]

// Links the runtime (entry, panic handler) although no item of it is named.
extern crate axruntime;

use axlog::ax_println;

/// An address the host never maps: past the end of the 39-bit address
/// space the aarch64 host maps (a translation fault), and far above the
/// RAM and devices the x86_64 host maps (a page fault, page not present).
const UNMAPPED: usize = 0x80_0000_0000 - 0x1000;

#[unsafe(no_mangle)]
fn main() {
    ax_println!("crashtest: about to crash");
    if cfg!(feature = "panic") {
        panic!("crashtest: deliberate panic");
    }
    #[cfg(feature = "data-abort")]
    {
        // SAFETY: not sound on purpose: this read faults, which is what
        // the test checks. Nothing after it runs.
        let v = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
        ax_println!("read {v:#x}");
    }
    #[cfg(all(feature = "undefined", target_arch = "aarch64"))]
    {
        // SAFETY: not sound on purpose: UDF raises an undefined-instruction
        // exception, which is what the test checks.
        unsafe { core::arch::asm!("udf #0x42") };
    }
    #[cfg(all(feature = "undefined", target_arch = "x86_64"))]
    {
        // SAFETY: not sound on purpose: UD2 raises an invalid-opcode
        // exception (#UD), which is what the test checks.
        unsafe { core::arch::asm!("ud2") };
    }
    let _ = UNMAPPED;
    ax_println!("crashtest: no crash was selected");
}

#[unsafe(no_mangle)]
fn secondary_main(_cpu_id: usize) {}
