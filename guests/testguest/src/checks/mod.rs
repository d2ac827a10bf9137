//! The checks, in the order the QEMU test expects their lines. Each prints
//! one `PASS <name>` or `FAIL <name> <detail>` line through [`Report`].
//! The console input step at the end is not a check: it prints its own
//! lines and counts nothing (see `console_input.rs`).

mod console;
mod console_input;
mod crash;
mod dtb;
mod fault;
mod hypercall;
mod isolation;
mod mmio;
pub mod psci;
mod undefined;

use core::fmt;

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

    /// [`pass`](Self::pass) if `ok`, else [`fail`](Self::fail).
    pub fn check(&mut self, ok: bool, name: fmt::Arguments, detail: fmt::Arguments) {
        if ok { self.pass(name) } else { self.fail(name, detail) }
    }

    /// Prints the summary line.
    pub fn summary(&self) {
        match self.failed {
            0 => println!("testguest: all checks passed"),
            n => println!("testguest: {} checks failed", n),
        }
    }
}

/// Runs every check on vCPU 0, then the console input step; `dtb` is the
/// `X0` the guest was entered with. In VM
/// [`CRASH_VM_ID`](crate::platform::CRASH_VM_ID) it stops after the first
/// check, on purpose (see `crash.rs`).
pub fn run_all(report: &mut Report, dtb: u64) {
    console::run(report);
    crash::run();
    dtb::run(report, dtb);
    hypercall::run(report);
    mmio::run(report);
    psci::run(report);
    fault::run(report);
    undefined::run(report);
    isolation::run(report);
    console_input::run();
}
