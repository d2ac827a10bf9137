//! The ticker mode: VM [`TICKER_VM_ID`] prints `ticker: tick N` every
//! [`PERIOD_MS`] of virtual time, forever, so that a QEMU test can see a
//! VM's output stop while it is paused and go on where it was when it is
//! resumed.
//!
//! Between ticks the vCPU sleeps: the EL1 virtual timer (PPI 27, through
//! the virtual GIC) is armed [`PERIOD_MS`] after the last tick, and the
//! vCPU waits in `WFI` with IRQs masked at `PSTATE` (a pending interrupt
//! still ends a `WFI`), then lets the interrupt in; its handler turns the
//! timer off. So an idle ticker costs its CPU nothing.
//!
//! Virtual time runs on while a VM is paused: the first tick after a
//! resume comes at once (its timer expired meanwhile), and a tick more than
//! [`GAP_MS`] after the one before it says so: `ticker: tick N after a gap
//! of G ms`. `N` counts from 1 and goes on across a pause.

use aarch64_cpu::asm::wfi;

use crate::platform::{TICKER_VM_ID, VTIMER_INTID};
use crate::shared::SharedWord;
use crate::{cpu, gic, hvc, irq, psci, timer};

/// Virtual time from one tick to the next, in milliseconds.
pub const PERIOD_MS: u64 = 100;
/// A tick later than this after the one before it reports the gap, in
/// milliseconds.
pub const GAP_MS: u64 = 500;

/// Set by the handler when the timer has fired.
static FIRED: SharedWord = SharedWord::new(0);

/// Turns the virtual timer off and says that it fired.
fn on_vtimer(_intid: u32) {
    timer::vtimer_stop();
    FIRED.store(1);
}

/// Sleeps until the virtual counter reaches `deadline` (the virtual timer's
/// interrupt, taken by [`on_vtimer`], ends the sleep).
fn sleep_until(deadline: u64) {
    FIRED.store(0);
    timer::vtimer_arm(deadline);
    while FIRED.load() == 0 {
        // IRQs are masked here: an interrupt that arrives before the WFI
        // keeps it from sleeping, and is taken right after it.
        wfi();
        irq::unmask();
        irq::mask();
    }
}

/// Sets up the GIC for the virtual timer's interrupt; on failure prints
/// `FAIL ticker gic init <reason>` and powers the VM off.
fn init_gic() {
    let init = gic::init_distributor().and_then(|()| gic::init_this_cpu());
    if let Err(e) = init {
        println!("FAIL ticker gic init {}", e);
        let ret = psci::system_off();
        println!("FAIL system_off returned {}", ret);
        cpu::halt()
    }
    irq::set_handler(VTIMER_INTID, Some(on_vtimer));
    gic::enable(VTIMER_INTID);
}

/// Ticks forever.
fn tick_forever() -> ! {
    init_gic();
    println!(
        "testguest: VM {} ticks every {} ms of virtual time",
        TICKER_VM_ID, PERIOD_MS
    );
    let period = timer::ms_to_ticks(PERIOD_MS);
    let ms = timer::ms_to_ticks(1);
    let mut last = timer::counter();
    let mut n: u64 = 0;
    loop {
        sleep_until(last.wrapping_add(period));
        let now = timer::counter();
        let gap_ms = now.saturating_sub(last) / ms;
        n += 1;
        if gap_ms > GAP_MS {
            println!("ticker: tick {} after a gap of {} ms", n, gap_ms);
        } else {
            println!("ticker: tick {}", n);
        }
        last = now;
    }
}

/// In VM [`TICKER_VM_ID`], ticks forever; in any other VM, returns at once.
pub fn run() {
    if hvc::vm_id() != TICKER_VM_ID {
        return;
    }
    tick_forever()
}
