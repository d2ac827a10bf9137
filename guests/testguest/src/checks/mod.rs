//! The checks, in the order the QEMU test expects their lines. Each prints
//! one `PASS <name>`, `FAIL <name> <detail>` or `SKIP <name> (<reason>)`
//! line through [`Report`].
//! The console input step at the end is not a check: it prints its own
//! lines and counts nothing (see `console_input.rs`).

mod console;
mod console_input;
mod cpu_features;
mod cpu_race;
mod crash;
mod dtb;
mod fault;
mod fetch_abort;
mod flood;
mod gic;
mod gic_bad_input;
mod hypercall;
mod isolation;
mod mmio;
mod mmio_forms;
mod psci;
mod rtc_irq;
pub mod sgi;
mod spin;
mod ticker;
mod timer_irq;
mod timer_stress;
mod timer_wrap;
mod undefined;

use core::fmt;

use crate::platform::{NUM_VCPUS, PASSTHROUGH_VM_IDS};
use crate::{hvc, irq};

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

    /// Prints `SKIP <name> (<reason>)`: the check does not apply to this
    /// VM. Neither a pass nor a failure.
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
            0 => println!("testguest: all checks passed"),
            n => println!("testguest: {} checks failed", n),
        }
    }
}

/// Runs every check on vCPU 0, then the console input step; `dtb` is the
/// `X0` the guest was entered with. In VM
/// [`CRASH_VM_ID`](crate::platform::CRASH_VM_ID) it stops after the first
/// check, on purpose (see `crash.rs`); in VM
/// [`SPIN_VM_ID`](crate::platform::SPIN_VM_ID) it spins there with
/// interrupts masked (`spin.rs`), in VM
/// [`TICKER_VM_ID`](crate::platform::TICKER_VM_ID) it ticks there forever
/// (`ticker.rs`), in the VMs of
/// [`TIMER_STRESS_VM_IDS`](crate::platform::TIMER_STRESS_VM_IDS) it runs
/// the timer stress and powers off (`timer_stress.rs`), in VM
/// [`FLOOD_VM_ID`](crate::platform::FLOOD_VM_ID) it floods forever
/// (`flood.rs`); in VM [`FUZZ_VM_ID`](crate::platform::FUZZ_VM_ID) it
/// fuzzes there and powers off (`crate::fuzz`); in the VMs of
/// [`PASSTHROUGH_VM_IDS`] the passthrough checks (`cpu_on race`,
/// `passthrough rtc interrupt`, `gic bad input`) follow the interrupt
/// checks.
pub fn run_all(report: &mut Report, dtb: u64) {
    console::run(report);
    crash::run();
    spin::run();
    ticker::run();
    timer_stress::run();
    flood::run();
    crate::fuzz::run();
    dtb::run(report, dtb);
    hypercall::run(report);
    mmio::run(report);
    mmio_forms::run(report);
    psci::run(report);
    fault::run(report);
    fetch_abort::run(report);
    undefined::run(report);
    cpu_features::run(report);
    isolation::run(report);
    let gic = gic::run(report);
    timer_irq::run(report, gic);
    timer_wrap::run(report, gic);
    sgi::run(report, gic);
    if PASSTHROUGH_VM_IDS.contains(&hvc::vm_id()) {
        cpu_race::run(report);
        rtc_irq::run(report, gic);
        gic_bad_input::run(report, gic);
    }
    report_unexpected_interrupts(report);
    console_input::run();
}

/// Prints `FAIL unexpected interrupts <detail>` for each vCPU that took an
/// interrupt no check had a handler for; nothing otherwise.
fn report_unexpected_interrupts(report: &mut Report) {
    for cpu in 0..NUM_VCPUS {
        let (count, last) = irq::unexpected(cpu);
        if count != 0 {
            report.fail(
                format_args!("unexpected interrupts"),
                format_args!("vCPU {} took {}, the last INTID {}", cpu, count, last),
            );
        }
    }
}

/// Rust entry of a vCPU started by `CPU_ON` (from `_secondary_start`):
/// the check that started it is told by `context`, the `X0` it was given.
pub extern "C" fn secondary_main(context: u64) -> ! {
    match context {
        sgi::CONTEXT_ID => sgi::secondary_main(),
        sgi::ONE_WAY_CONTEXT_ID => sgi::one_way_secondary_main(),
        timer_stress::CONTEXT_ID => timer_stress::secondary_main(),
        flood::CONTEXT_ID => flood::secondary_main(),
        crate::fuzz::CONTEXT_ID => crate::fuzz::secondary_main(),
        cpu_race::CALLER_CONTEXT => cpu_race::caller_main(),
        _ if cpu_race::is_target_context(context) => cpu_race::target_main(context),
        _ => psci::secondary_main(context),
    }
}
