//! `vtimer compare near 2^64 does not fire`: the virtual timer armed
//! (enabled, not masked, its PPI enabled at the GIC and IRQs unmasked)
//! with a compare value of `u64::MAX`, then `2^64 - 1000`, then
//! `2^64 - 2^40`, never interrupts and never shows `ISTATUS` within
//! [`WAIT_MS`] each: the virtual count is nowhere near them.
//!
//! On an emulator that computes the timer's physical deadline as
//! `CVAL + CNTVOFF_EL2` in 64 bits (QEMU 7.2), these compare values wrap
//! that sum for any non-zero offset, and the emulator then spins re-arming
//! a timer that is always already due: the whole machine hangs, every VM
//! with it, and the QEMU test times out. The hypervisor's choice of
//! offset is what this check exercises (see the crate doc of `axvm`'s
//! aarch64 layer).

use aarch64_cpu::registers::{CNTV_CTL_EL0, Readable};

use super::Report;
use super::gic::Unusable;
use crate::platform::VTIMER_INTID;
use crate::shared::SharedWord;
use crate::{gic, irq, timer};

/// How long each compare value is left armed, in milliseconds.
const WAIT_MS: u64 = 20;
/// The compare values tried.
const COMPARE_VALUES: [u64; 3] = [u64::MAX, u64::MAX - 999, u64::MAX - (1 << 40) + 1];

/// Interrupts taken.
static TAKEN: SharedWord = SharedWord::new(0);

/// Counts, and turns the timer off (so a wrong interrupt is taken once).
fn vtimer_fired(_intid: u32) {
    TAKEN.store(TAKEN.load() + 1);
    timer::vtimer_stop();
}

/// Runs the check (it needs the GIC).
pub fn run(report: &mut Report, gic: Result<(), Unusable>) {
    let name = format_args!("vtimer compare near 2^64 does not fire");
    if let Err(why) = gic {
        report.fail(name, format_args!("skipped: {}", why));
        return;
    }
    TAKEN.store(0);
    irq::set_handler(VTIMER_INTID, Some(vtimer_fired));
    gic::enable(VTIMER_INTID);
    let mut failure = None;
    for cval in COMPARE_VALUES {
        timer::vtimer_arm(cval);
        irq::unmask();
        let _ = timer::wait_ms(WAIT_MS, || TAKEN.load() != 0);
        irq::mask();
        let istatus = CNTV_CTL_EL0.is_set(CNTV_CTL_EL0::ISTATUS);
        timer::vtimer_stop();
        if TAKEN.load() != 0 || istatus {
            failure = Some((cval, TAKEN.load(), istatus));
            break;
        }
    }
    let _ = gic::disable(VTIMER_INTID);
    gic::clear_pending(VTIMER_INTID);
    irq::set_handler(VTIMER_INTID, None);
    match failure {
        None => report.pass(name),
        Some((cval, taken, istatus)) => report.fail(
            name,
            format_args!(
                "CVAL {:#x} at count {:#x}: {} interrupts, ISTATUS {}",
                cval,
                timer::counter(),
                taken,
                istatus
            ),
        ),
    }
}
