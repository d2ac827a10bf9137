//! Exit round-trip benchmarks, in TSC ticks: a hypercall, a port read the
//! hypervisor emulates (the UART's scratch register) and an MMIO read of
//! the test device. The first and last need the hypervisor.

use crate::host::Host;
use crate::hypercall;
use crate::testdev::TestDevice;
use crate::tsc;
use crate::uart::Uart;

/// Round trips per benchmark.
const ITERATIONS: u64 = 10_000;

/// TSC ticks `ITERATIONS` calls of `op` take.
fn measure(mut op: impl FnMut()) -> u64 {
    let start = tsc::now();
    for _ in 0..ITERATIONS {
        op();
    }
    tsc::now().wrapping_sub(start)
}

/// Prints one benchmark's lines.
fn print_result(what: &str, total: u64) {
    println!(
        "bench: {} round trip {} tsc ticks (avg of {})",
        what,
        total / ITERATIONS,
        ITERATIONS
    );
    println!("bench: {} round trip total {} tsc ticks", what, total);
}

/// Prints why a benchmark that needs the hypervisor was not run.
fn print_skipped(what: &str, why: &str) {
    println!("bench: {} round trip not measured (no hypervisor: {})", what, why);
}

/// Runs the benchmarks and prints their results.
pub fn run(host: Host) {
    match host.bare_reason() {
        None => {
            let total = measure(|| {
                hypercall::version();
            });
            print_result("hypercall", total);
        }
        Some(why) => print_skipped("hypercall", why),
    }

    let uart = Uart;
    let total = measure(|| {
        uart.scratch();
    });
    print_result("port io", total);

    let dev = TestDevice;
    match host.bare_reason() {
        None => {
            let total = measure(|| {
                dev.magic();
            });
            print_result("mmio read", total);
        }
        Some(why) => print_skipped("mmio read", why),
    }
}
