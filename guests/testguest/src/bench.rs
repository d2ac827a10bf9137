//! Exit round-trip benchmarks, in virtual counter ticks. Under QEMU
//! `-icount` the counter follows the instruction count, so the numbers
//! repeat from run to run.

use crate::testdev::TestDevice;
use crate::{hvc, timer};

/// Round trips per benchmark.
const ITERATIONS: u64 = 10_000;

/// Counter ticks `ITERATIONS` calls of `op` take.
fn measure(mut op: impl FnMut()) -> u64 {
    let start = timer::counter();
    for _ in 0..ITERATIONS {
        op();
    }
    timer::counter().wrapping_sub(start)
}

/// Prints one benchmark's lines.
fn print_result(what: &str, total: u64) {
    println!(
        "bench: {} round trip {} ticks (avg of {})",
        what,
        total / ITERATIONS,
        ITERATIONS
    );
    println!("bench: {} round trip total {} ticks", what, total);
}

/// Runs the benchmarks and prints their results.
pub fn run() {
    let total = measure(|| {
        hvc::version();
    });
    print_result("hvc", total);

    let dev = TestDevice;
    let total = measure(|| {
        dev.magic();
    });
    print_result("mmio read", total);

    println!("bench: counter frequency {} Hz", timer::frequency());
}
