//! Exit round-trip benchmarks, the virtual timer's interrupt latency and
//! the SGI round trip between the two vCPUs, in virtual counter ticks. Under QEMU `-icount` the counter follows the
//! instruction count, so the numbers repeat from run to run.

use crate::platform::VTIMER_INTID;
use crate::shared::SharedWord;
use crate::testdev::TestDevice;
use crate::{gic, hvc, irq, timer};

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

/// Virtual timer interrupts the latency benchmark takes.
const LATENCY_ITERATIONS: u64 = 1000;
/// How far ahead of the counter the latency benchmark arms the timer, in
/// ticks, so that it is armed before it is due.
const LATENCY_LEAD_TICKS: u64 = 1000;
/// How long the latency benchmark waits for one interrupt, in
/// milliseconds.
const LATENCY_TIMEOUT_MS: u64 = 100;

/// The latency of the last virtual timer interrupt, in ticks; 0 until
/// one is taken.
static LATENCY: SharedWord = SharedWord::new(0);
/// Set by the handler when it has taken an interrupt.
static LATENCY_TAKEN: SharedWord = SharedWord::new(0);

/// Records how late the interrupt is (the counter now minus the compare
/// value) and turns the timer off.
fn on_vtimer(_intid: u32) {
    let now = timer::counter();
    LATENCY.store(now.wrapping_sub(timer::vtimer_cval()));
    timer::vtimer_stop();
    LATENCY_TAKEN.store(1);
}

/// Arms the virtual timer [`LATENCY_ITERATIONS`] times, spinning until its
/// interrupt; returns the total of the latencies, or the iteration whose
/// interrupt did not come.
fn measure_vtimer_latency() -> Result<u64, u64> {
    irq::set_handler(VTIMER_INTID, Some(on_vtimer));
    gic::enable(VTIMER_INTID);
    irq::unmask();
    let mut total = Ok(0u64);
    for iteration in 0..LATENCY_ITERATIONS {
        LATENCY_TAKEN.store(0);
        timer::vtimer_arm(timer::counter().wrapping_add(LATENCY_LEAD_TICKS));
        if !timer::wait_ms(LATENCY_TIMEOUT_MS, || LATENCY_TAKEN.load() != 0) {
            total = Err(iteration);
            break;
        }
        total = total.map(|t| t.wrapping_add(LATENCY.load()));
    }
    irq::mask();
    timer::vtimer_stop();
    let _ = gic::disable(VTIMER_INTID);
    gic::clear_pending(VTIMER_INTID);
    irq::set_handler(VTIMER_INTID, None);
    total
}

/// Runs the virtual timer latency benchmark and prints its lines.
fn vtimer_latency() {
    if !gic::ready() {
        println!("bench: vtimer irq latency not measured (the GIC is not set up)");
        return;
    }
    match measure_vtimer_latency() {
        Ok(total) => {
            println!(
                "bench: vtimer irq latency {} ticks (avg of {})",
                total / LATENCY_ITERATIONS,
                LATENCY_ITERATIONS
            );
            println!("bench: vtimer irq latency total {} ticks", total);
        }
        Err(iteration) => println!(
            "FAIL vtimer irq latency: no interrupt within {} ms (iteration {})",
            LATENCY_TIMEOUT_MS, iteration
        ),
    }
}

/// SGI round trips the latency benchmark takes.
const SGI_ITERATIONS: u64 = 1000;

/// Runs the SGI round-trip benchmark (vCPU 0 to vCPU 1 and back) and
/// prints its lines.
fn sgi_round_trips() {
    if !gic::ready() {
        println!("bench: sgi round trip not measured (the GIC is not set up)");
        return;
    }
    irq::mask();
    match crate::checks::sgi::round_trips(SGI_ITERATIONS) {
        Ok(total) => {
            println!(
                "bench: sgi round trip {} ticks (avg of {})",
                total / SGI_ITERATIONS,
                SGI_ITERATIONS
            );
            println!("bench: sgi round trip total {} ticks", total);
        }
        Err(crate::checks::sgi::NotMeasured::OneVcpu) => {
            println!("bench: sgi round trip not measured (1 vCPU)")
        }
        Err(why) => println!("FAIL sgi round trip: {}", why),
    }
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

    vtimer_latency();

    sgi_round_trips();

    println!("bench: counter frequency {} Hz", timer::frequency());
}
