//! The generic timer as the VM sees it, and its interrupts through the
//! virtual GIC.
//!
//! - `virtual count equals the physical count`: the hypervisor gives every
//!   VM a `CNTVOFF_EL2` of zero (a non-zero offset lets a compare value
//!   near 2^64 hang QEMU 7.2, see `timer_wrap.rs`), so the virtual counter
//!   read right after the physical one is at least as far and less than
//!   [`READ_GAP_MS`] ahead.
//! - `vtimer interrupts at the expected rate`: the virtual timer (PPI 27),
//!   re-armed by its handler one period of 1 ms later each time, interrupts
//!   [`RATE_MIN`]..=[`RATE_MAX`] times in a window of [`RATE_PERIODS`]
//!   periods of counter time. Counted are the interrupts due in the window
//!   (compare value at most its end; those still being caught up when it
//!   ends are waited for, so that a vCPU kept from running near the end
//!   does not miscount) and those taken in the window while the timer was
//!   not due (spurious; they do not move the compare value). And this
//!   vCPU's own loop must see the window end at most [`RATE_MAX_LATE_MS`]
//!   late: a vCPU that runs only its interrupt handler fails. The figures
//!   are printed on a `testguest:` line of their own.
//! - `ptimer interrupt`: the EL1 physical timer (PPI 30) interrupts exactly
//!   once (its handler turns it off).
//! - `disabled interrupt not delivered`: the virtual timer fires while PPI
//!   27 is disabled at the redistributor: no interrupt in
//!   [`DISABLED_WAIT_MS`], `GICR_ISPENDR0` shows it pending, and once
//!   enabled it is taken within the same time.
//!
//! Every check ends with its timer off, its PPI disabled and not pending,
//! its handler removed and IRQs masked.

use super::Report;
use super::gic::Unusable;
use crate::platform::{PTIMER_INTID, VTIMER_INTID};
use crate::shared::SharedWord;
use crate::{gic, irq, timer};

/// How far the virtual count read right after the physical count may be
/// ahead of it, in milliseconds (the vCPU may lose its CPU in between).
const READ_GAP_MS: u64 = 100;
/// The virtual timer's period in the rate check, in milliseconds.
const RATE_PERIOD_MS: u64 = 1;
/// How many periods the rate check counts interrupts over.
const RATE_PERIODS: u64 = 50;
/// How late the rate check's loop may see the end of its window, in
/// milliseconds (a few time slices of a physical CPU shared with another
/// vCPU).
const RATE_MAX_LATE_MS: u64 = 100;
/// How long the rate check waits after its window for interrupts due in
/// it that are still being caught up, in milliseconds.
const RATE_CATCH_UP_MS: u64 = 20;
/// Fewest interrupts the rate check accepts.
const RATE_MIN: u64 = 45;
/// Most interrupts the rate check accepts.
const RATE_MAX: u64 = 51;
/// How long the physical timer check waits for its interrupt, in
/// milliseconds, and how long after it for a second one.
const PTIMER_WAIT_MS: u64 = 100;
/// How far ahead the physical timer is armed, in milliseconds.
const PTIMER_DELAY_MS: u64 = 1;
/// How long the disabled-interrupt check waits for no interrupt, then
/// for the interrupt once enabled, in milliseconds.
const DISABLED_WAIT_MS: u64 = 5;

/// Interrupts the current check's handler took.
static TAKEN: SharedWord = SharedWord::new(0);
/// The rate check's period in counter ticks.
static PERIOD_TICKS: SharedWord = SharedWord::new(0);

/// The end of the rate check's window, in counter ticks.
static WINDOW_END: SharedWord = SharedWord::new(0);
/// Rate check: interrupts taken that were due in the window.
static DUE_IN_WINDOW: SharedWord = SharedWord::new(0);
/// Rate check: interrupts taken in the window while the timer was not due.
static SPURIOUS_IN_WINDOW: SharedWord = SharedWord::new(0);

/// Rate check handler: counts, and moves the compare value one period on
/// (unless the timer is not due: then it only counts).
fn vtimer_rearm(_intid: u32) {
    TAKEN.store(TAKEN.load() + 1);
    let now = timer::counter();
    let cval = timer::vtimer_cval();
    let window_end = WINDOW_END.load();
    if now < cval {
        if now <= window_end {
            SPURIOUS_IN_WINDOW.store(SPURIOUS_IN_WINDOW.load() + 1);
        }
        return;
    }
    if cval <= window_end {
        DUE_IN_WINDOW.store(DUE_IN_WINDOW.load() + 1);
    }
    timer::vtimer_set_cval(cval.wrapping_add(PERIOD_TICKS.load()));
}

/// Counts, and turns the virtual timer off.
fn vtimer_once(_intid: u32) {
    TAKEN.store(TAKEN.load() + 1);
    timer::vtimer_stop();
}

/// Counts, and turns the physical timer off.
fn ptimer_once(_intid: u32) {
    TAKEN.store(TAKEN.load() + 1);
    timer::ptimer_stop();
}

/// Starts a check of `intid`: nothing taken yet, `handler` set.
fn begin(intid: u32, handler: irq::Handler) {
    TAKEN.store(0);
    irq::set_handler(intid, Some(handler));
}

/// Ends a check of `intid`: IRQs masked, `stop` turns its timer off, the
/// PPI is disabled and not pending, no handler. Returns the interrupts
/// taken.
fn end(intid: u32, stop: fn()) -> u64 {
    irq::mask();
    stop();
    // A timeout leaves the PPI enabled; the check reports what it saw.
    let _ = gic::disable(intid);
    gic::clear_pending(intid);
    irq::set_handler(intid, None);
    TAKEN.load()
}

/// `virtual count equals the physical count`.
fn virtual_time(report: &mut Report) {
    // Physical first: with no offset the virtual count is then the same or
    // a little further on, by the time between the two reads.
    let phys = timer::physical_counter();
    let virt = timer::counter();
    let ahead = virt.wrapping_sub(phys) as i64;
    let limit = timer::ms_to_ticks(READ_GAP_MS) as i64;
    println!("testguest: CNTVCT {} ticks, CNTVCT - CNTPCT {} ticks", virt, ahead);
    report.check(
        (0..limit).contains(&ahead),
        format_args!("virtual count equals the physical count"),
        format_args!("CNTVCT - CNTPCT {} (want 0 up to {})", ahead, limit),
    );
}

/// `vtimer interrupts at the expected rate`.
fn vtimer_rate(report: &mut Report) {
    let name = format_args!("vtimer interrupts at the expected rate");
    let period = timer::ms_to_ticks(RATE_PERIOD_MS);
    PERIOD_TICKS.store(period);
    DUE_IN_WINDOW.store(0);
    SPURIOUS_IN_WINDOW.store(0);
    begin(VTIMER_INTID, vtimer_rearm);
    gic::enable(VTIMER_INTID);
    let start = timer::counter();
    let window_end = start.saturating_add(RATE_PERIODS * period);
    WINDOW_END.store(window_end);
    timer::vtimer_arm(start.wrapping_add(period));
    irq::unmask();
    // Half a period more, so that the last one has time to arrive.
    let seen_end = window_end.saturating_add(period / 2);
    timer::spin_until(seen_end);
    let late_ms = timer::counter().saturating_sub(seen_end) / timer::ms_to_ticks(1);
    timer::wait_ms(RATE_CATCH_UP_MS, || timer::vtimer_cval() > window_end);
    let taken = end(VTIMER_INTID, timer::vtimer_stop);
    let due = DUE_IN_WINDOW.load();
    let spurious = SPURIOUS_IN_WINDOW.load();
    let counted = due + spurious;
    println!(
        "testguest: vtimer: {} interrupts in {} periods of {} ms ({} not due), {} in all, window end seen {} ms late",
        counted, RATE_PERIODS, RATE_PERIOD_MS, spurious, taken, late_ms
    );
    if late_ms > RATE_MAX_LATE_MS {
        report.fail(
            name,
            format_args!(
                "this vCPU's loop saw the window end {} ms late, want at most {} ({} interrupts taken in all)",
                late_ms, RATE_MAX_LATE_MS, taken
            ),
        );
    } else {
        report.check(
            (RATE_MIN..=RATE_MAX).contains(&counted),
            name,
            format_args!(
                "{} interrupts ({} not due) in {} periods of {} ticks, want {} to {}",
                counted, spurious, RATE_PERIODS, period, RATE_MIN, RATE_MAX
            ),
        );
    }
}

/// `ptimer interrupt`.
fn ptimer(report: &mut Report) {
    begin(PTIMER_INTID, ptimer_once);
    gic::enable(PTIMER_INTID);
    timer::ptimer_arm(timer::physical_counter().wrapping_add(timer::ms_to_ticks(PTIMER_DELAY_MS)));
    irq::unmask();
    let fired = timer::wait_ms(PTIMER_WAIT_MS, || TAKEN.load() != 0);
    if fired {
        // Long enough for a second interrupt to show, were there one.
        timer::spin_until(timer::counter().saturating_add(timer::ms_to_ticks(PTIMER_DELAY_MS * 5)));
    }
    let taken = end(PTIMER_INTID, timer::ptimer_stop);
    report.check(
        taken == 1,
        format_args!("ptimer interrupt"),
        format_args!(
            "{} interrupts from PPI {} in {} ms, want 1",
            taken, PTIMER_INTID, PTIMER_WAIT_MS
        ),
    );
}

/// `disabled interrupt not delivered`.
fn disabled(report: &mut Report) {
    let name = format_args!("disabled interrupt not delivered");
    begin(VTIMER_INTID, vtimer_once);
    if let Err(e) = gic::disable(VTIMER_INTID) {
        end(VTIMER_INTID, timer::vtimer_stop);
        report.fail(name, format_args!("disabling PPI {}: {}", VTIMER_INTID, e));
        return;
    }
    // Due at once.
    timer::vtimer_arm(timer::counter());
    irq::unmask();
    timer::spin_until(timer::counter().saturating_add(timer::ms_to_ticks(DISABLED_WAIT_MS)));
    let early = TAKEN.load();
    let pending = gic::is_pending(VTIMER_INTID);
    gic::enable(VTIMER_INTID);
    let delivered = timer::wait_ms(DISABLED_WAIT_MS, || TAKEN.load() != 0);
    let taken = end(VTIMER_INTID, timer::vtimer_stop);
    if early != 0 {
        report.fail(
            name,
            format_args!("{} interrupts taken while PPI {} was disabled", early, VTIMER_INTID),
        );
    } else if !pending {
        report.fail(
            name,
            format_args!("GICR_ISPENDR0 bit {} reads 0 while the timer fired", VTIMER_INTID),
        );
    } else if !delivered || taken != 1 {
        report.fail(
            name,
            format_args!(
                "{} interrupts within {} ms of enabling, want 1",
                taken, DISABLED_WAIT_MS
            ),
        );
    } else {
        report.pass(name);
    }
}

/// Runs the timer checks; those that need interrupts fail as skipped when
/// the GIC is `Err`.
pub fn run(report: &mut Report, gic: Result<(), Unusable>) {
    virtual_time(report);
    if let Err(why) = gic {
        for name in [
            "vtimer interrupts at the expected rate",
            "ptimer interrupt",
            "disabled interrupt not delivered",
        ] {
            report.fail(format_args!("{}", name), format_args!("skipped: {}", why));
        }
        return;
    }
    vtimer_rate(report);
    ptimer(report);
    disabled(report);
}
