//! `passthrough rtc interrupt`: the host's PL031 RTC, given to the VM,
//! interrupts the VM through the virtual GIC, twice.
//!
//! The RTC's SPI ([`RTC_INTID`]) is made Group 1 with the default priority,
//! routed to vCPU 0 (`GICD_IROUTER` = 0) and enabled; the RTC's match
//! register is set one second past its current time and its interrupt
//! let out. The handler clears the interrupt at the RTC (`RTCICR`) before
//! the dispatch ends it (`ICC_EOIR1_EL1`). The interrupt must come within
//! [`WAIT_S`] seconds of counter time; then the match is set one second on
//! again and it must come a second time, which it can only if the
//! hypervisor let the physical line through again after the guest ended
//! the first one. No third interrupt may follow within [`SETTLE_MS`], and
//! the handler must find the RTC's line high each time. The check ends
//! with the RTC's interrupt masked and cleared, the SPI disabled, its
//! handler removed and IRQs masked.
//!
//! How the hypervisor forwards the line (a hardware-linked list register,
//! or masking it while the guest handles it) does not matter here.

use core::fmt;

use super::Report;
use super::gic::Unusable;
use crate::gic::SpiState;
use crate::irq::SPI_HANDLER_SLOTS;
use crate::platform::{RTC_BASE, RTC_INTID};
use crate::shared::SharedWord;
use crate::{gic, irq, rtc, timer};

/// How long each interrupt may take, in seconds of counter time (the
/// match is at most one RTC second away).
const WAIT_S: u64 = 3;
/// How many interrupts the check asks for.
const ROUNDS: u64 = 2;
/// How long to watch for an interrupt too many, in milliseconds.
const SETTLE_MS: u64 = 100;
/// The vCPU the SPI is routed to (its MPIDR affinity 0): this one.
const PRIMARY_VCPU: u64 = 0;

const _: () = assert!(
    RTC_INTID >= gic::FIRST_SPI && ((RTC_INTID - gic::FIRST_SPI) as usize) < SPI_HANDLER_SLOTS,
    "the RTC's SPI must be one that can have a handler"
);

/// Interrupts the handler took.
static TAKEN: SharedWord = SharedWord::new(0);
/// Interrupts the handler took while the RTC's line was low.
static LINE_LOW: SharedWord = SharedWord::new(0);

/// Clears the RTC's interrupt (before the dispatch's end of interrupt) and
/// counts.
fn on_rtc(_intid: u32) {
    if !rtc::line_high() {
        LINE_LOW.store(LINE_LOW.load() + 1);
    }
    rtc::clear_interrupt();
    TAKEN.store(TAKEN.load() + 1);
}

/// What was seen when an interrupt did not come.
struct Missed {
    /// Which interrupt (1 or 2).
    round: u64,
    /// `RTCDR` when the match was set.
    set_at: u32,
    /// `RTCDR` at the timeout.
    now: u32,
    /// `RTCMR`.
    match_value: u32,
    /// `RTCRIS`: the match happened.
    raw: bool,
    /// `RTCMIS`: the line is high.
    line: bool,
    /// The SPI at the distributor.
    spi: SpiState,
}

impl fmt::Display for Missed {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "no INTID {} within {} s for interrupt {} of {} (RTCDR {} when set, {} now, RTCMR {}, RTCRIS {}, RTCMIS {}; SPI {})",
            RTC_INTID,
            WAIT_S,
            self.round,
            ROUNDS,
            self.set_at,
            self.now,
            self.match_value,
            u8::from(self.raw),
            u8::from(self.line),
            self.spi
        )
    }
}

/// Sets the match one second on and waits for interrupt `round`; IRQs
/// are unmasked. Masks them again on a timeout, to look at the state.
fn one_round(round: u64) -> Result<(), Missed> {
    let set_at = rtc::now();
    rtc::set_match(set_at.wrapping_add(1));
    rtc::set_interrupt_enabled(true);
    if timer::wait_until(WAIT_S, || TAKEN.load() >= round) {
        return Ok(());
    }
    irq::mask();
    Err(Missed {
        round,
        set_at,
        now: rtc::now(),
        match_value: rtc::match_value(),
        raw: rtc::raw_status(),
        line: rtc::line_high(),
        spi: gic::spi_state(RTC_INTID),
    })
}

/// Runs `passthrough rtc interrupt`; fails as skipped when the GIC is
/// `Err`.
pub fn run(report: &mut Report, gic: Result<(), Unusable>) {
    let name = format_args!("passthrough rtc interrupt");
    if let Err(why) = gic {
        report.fail(name, format_args!("skipped: {}", why));
        return;
    }
    if rtc::probe().is_none() {
        report.fail(
            name,
            format_args!("reading RTCDR at {:#x} aborted: no RTC mapped", RTC_BASE),
        );
        return;
    }
    rtc::set_interrupt_enabled(false);
    rtc::clear_interrupt();
    TAKEN.store(0);
    LINE_LOW.store(0);
    irq::set_handler(RTC_INTID, Some(on_rtc));
    gic::route_spi(RTC_INTID, PRIMARY_VCPU);
    gic::enable(RTC_INTID);
    irq::unmask();
    let result = (1..=ROUNDS).try_for_each(one_round);
    if result.is_ok() {
        timer::spin_until(timer::counter().saturating_add(timer::ms_to_ticks(SETTLE_MS)));
    }
    irq::mask();
    rtc::set_interrupt_enabled(false);
    rtc::clear_interrupt();
    let disabled = gic::disable(RTC_INTID);
    irq::set_handler(RTC_INTID, None);
    let taken = TAKEN.load();
    let line_low = LINE_LOW.load();
    match (result, disabled) {
        (Err(missed), _) => report.fail(name, format_args!("{}", missed)),
        (Ok(()), _) if taken != ROUNDS => report.fail(
            name,
            format_args!(
                "{} interrupts, want {} (one more within {} ms of the last)",
                taken, ROUNDS, SETTLE_MS
            ),
        ),
        (Ok(()), _) if line_low != 0 => report.fail(
            name,
            format_args!(
                "{} of {} interrupts taken while the RTC's line was low (RTCMIS 0)",
                line_low, taken
            ),
        ),
        (Ok(()), Err(e)) => report.fail(name, format_args!("disabling SPI {}: {}", RTC_INTID, e)),
        (Ok(()), Ok(())) => report.pass(name),
    }
}
