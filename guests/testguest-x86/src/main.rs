//! The x86 test guest: a bare-metal x86_64 program that runs as a VM of the
//! hypervisor and checks the guest-facing contract (`README.md`), then
//! times exits.
//!
//! # What it owns
//!
//! The guest side of the contract: entered at `0x10_0000` (its link
//! address and first byte) in 32-bit protected mode with flat segments,
//! paging and interrupts off and no stack (`boot.rs` builds identity page
//! tables and goes to long mode); a 16550 UART at port `0x3F8`; hypercalls
//! by `VMMCALL` (AMD) or `VMCALL` (Intel), chosen by the CPUID vendor; the
//! test device at `0xD000_0000`; the filtered CPUID; an xAPIC at
//! `0xFEE0_0000` whose timer interrupts and whose ICR starts the second
//! vCPU (INIT, SIPI, real mode at `0x8000`); nothing at 4 GiB; the power-off
//! port `0x604`. It prints one `PASS`/`FAIL` (or `SKIP`) line per check
//! (the QEMU test matches them), a summary, `bench:` lines, and powers the
//! VM off. An exception it did not expect prints `FAIL exception <vector>
//! at <rip> (error <code>)` and powers off.
//!
//! It also boots on bare QEMU (`run-bare.sh`: QEMU's multiboot loader
//! enters it the same way): with no hypervisor there (`host.rs`: the
//! CPUID hypervisor bit clear, or QEMU's own signature and no test device,
//! or the `bare` feature) the hypercall, test device and hypervisor CPUID
//! checks SKIP, the outside-memory check SKIPs (QEMU reads nothing as
//! zeros) and every other check passes.
//!
//! It does not allocate. The target is soft-float (no SSE anywhere).
//! Interrupts are off except while the timer checks wait for one.
//!
//! # Layout
//!
//! `boot` (entry, multiboot header, page tables, GDT, long mode),
//! `trampoline` (the second vCPU's real-mode start), `idt` (gates and
//! stubs), `trap` (what each vector does), `uart`, `port`, `mmio` and
//! `testdev` (width- and form-exact device access), `hypercall`, `cpuid`,
//! `host` (hypervisor or bare), `lapic`, `pic` (bare QEMU's legacy PICs,
//! masked), `smp` (starting the second vCPU), `tsc`, `power`, `cpu`,
//! `platform` (the addresses and vectors); `checks` (in order) and `bench`.
//!
//! Build with `build.sh`; it is its own Cargo workspace, not part of the
//! root one.

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, missing_docs)]

#[macro_use]
mod uart;

mod bench;
mod boot;
mod checks;
mod cpu;
mod cpuid;
mod host;
mod hypercall;
mod idt;
mod lapic;
mod mmio;
mod pic;
mod platform;
mod port;
mod power;
mod smp;
mod testdev;
mod trampoline;
mod trap;
mod tsc;

use core::panic::PanicInfo;

use host::Host;

/// Rust entry of the first vCPU (from `boot.rs`).
pub extern "C" fn primary_main() -> ! {
    idt::init();
    idt::load();
    let host = Host::detect();
    if host.bare_reason().is_some() {
        pic::disable();
        power::allow_debug_exit();
    }
    hypercall::init();

    let mut report = checks::Report::default();
    checks::run_all(&mut report, host);
    report.summary();
    bench::run(host);
    println!("testguest-x86: powering off");
    power::off_or_halt()
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    // The panicking code may hold the console lock: print without it.
    uart::print_fmt_unlocked(format_args!("FAIL panic on vCPU {}: {}\n", lapic::id(), info));
    power::off();
    cpu::halt()
}
