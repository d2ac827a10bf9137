//! The checks, in the order the QEMU test expects their lines. Each prints
//! one `PASS <name>`, `FAIL <name> <detail>` or `SKIP <name> (<reason>)`
//! line through [`Report`]. Without the hypervisor (bare QEMU) the
//! hypercall, test device and hypervisor CPUID checks SKIP; the others run
//! on bare hardware as they do in a VM.

mod console;
mod cpuid;
mod hypercall;
mod lapic_timer;
mod mmio;
mod second_vcpu;
mod unmapped;

use core::fmt;

use crate::host::Host;
use crate::trap;

/// Counts and prints check results.
#[derive(Default)]
pub struct Report {
    failed: u32,
}

impl Report {
    /// Prints `PASS <name>`.
    pub fn pass(&mut self, name: fmt::Arguments) {
        println!("PASS {}", name);
    }

    /// Prints `FAIL <name> <detail>` and counts the failure.
    pub fn fail(&mut self, name: fmt::Arguments, detail: fmt::Arguments) {
        println!("FAIL {} {}", name, detail);
        self.failed += 1;
    }

    /// Prints `SKIP <name> (<reason>)`: the check does not apply here.
    /// Neither a pass nor a failure.
    pub fn skip(&mut self, name: fmt::Arguments, reason: fmt::Arguments) {
        println!("SKIP {} ({})", name, reason);
    }

    /// [`pass`](Self::pass) if `ok`, else [`fail`](Self::fail).
    pub fn check(&mut self, ok: bool, name: fmt::Arguments, detail: fmt::Arguments) {
        if ok { self.pass(name) } else { self.fail(name, detail) }
    }

    /// Prints the summary line.
    pub fn summary(&self) {
        match self.failed {
            0 => println!("testguest-x86: all checks passed"),
            n => println!("testguest-x86: {} checks failed", n),
        }
    }
}

/// Runs every check on vCPU 0 (the greeting first); `host` says whether
/// the hypervisor is there.
pub fn run_all(report: &mut Report, host: Host) {
    console::run(report, host);
    hypercall::run(report, host);
    mmio::run(report, host);
    cpuid::run(report, host);
    lapic_timer::run(report);
    second_vcpu::run(report, host);
    unmapped::run(report, host);
    report_unexpected_interrupts(report);
}

/// Prints `FAIL unexpected interrupts <detail>` if an interrupt came that
/// no check asked for; nothing otherwise.
fn report_unexpected_interrupts(report: &mut Report) {
    let (count, last) = trap::unexpected_interrupts();
    if count != 0 {
        report.fail(
            format_args!("unexpected interrupts"),
            format_args!("{} taken, the last vector {:#x}", count, last),
        );
    }
}
