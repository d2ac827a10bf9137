//! `sgi between vcpus`: vCPU 0 sends SGI [`REQUEST_SGI`] to vCPU 1 through
//! `ICC_SGI1R_EL1`; vCPU 1's handler records it and sends SGI
//! [`REPLY_SGI`] back; vCPU 0 must take the reply within
//! [`REPLY_TIMEOUT_MS`].
//!
//! vCPU 1 is started again with PSCI `CPU_ON` (the PSCI check left it off)
//! with [`CONTEXT_ID`], which sends it to [`secondary_main`]: it sets up its
//! own redistributor and CPU interface, enables the request SGI, publishes
//! that it is ready (or why it is not) and waits in `WFI` with IRQs
//! unmasked; after the request it turns itself off with `CPU_OFF`. It
//! prints nothing: vCPU 0 owns the UART meanwhile.
//!
//! In a VM with one vCPU (PSCI refuses `AFFINITY_INFO` of vCPU 1) the check
//! prints `SKIP sgi between vcpus (1 vCPU)`.
//!
//! [`round_trips`] (the `sgi round trip` benchmark) does the same many times
//! over: vCPU 1 answers every request until it has answered as many as it
//! was told.
//!
//! vCPU 0 waits in `WFI`, never spinning: for vCPU 1 to be ready (it sends
//! SGI [`READY_SGI`] once it has published its state) and for each reply,
//! each wait bounded by its virtual timer. Under QEMU `-icount` the emulated
//! CPUs take turns in one thread, and a vCPU spinning on one of them can
//! hold the other back for a long time.
//!
//! [`one_way`] (the `ipi one way` benchmark) is kvm-unit-tests' arm
//! `micro-bench` `ipi` instead, where both spin: vCPU 1, started with
//! [`ONE_WAY_CONTEXT_ID`] ([`one_way_secondary_main`]), spins with IRQs
//! unmasked, and its handler only sets a flag; vCPU 0 sends and spins
//! until it sees the flag. Both pause with `YIELD` between looks
//! (kvm-unit-tests' `cpu_relax`), which under `-icount` hands QEMU's thread
//! to the next CPU, so neither holds the other back. Nothing waits in
//! `WFI` there: the SGI reaches a vCPU that is running in the guest.

use core::fmt;

use aarch64_cpu::asm::wfi;

use super::Report;
use super::gic::Unusable;
use crate::gic::GicError;
use crate::platform::{SECONDARY_VCPU, VTIMER_INTID};
use crate::psci::{self, AffinityState, SUCCESS};
use crate::shared::SharedWord;
use crate::{boot, cpu, gic, irq, timer};

/// The context id that sends vCPU 1 to [`secondary_main`].
pub const CONTEXT_ID: u64 = 0x5615;
/// The context id that sends vCPU 1 to [`one_way_secondary_main`].
pub const ONE_WAY_CONTEXT_ID: u64 = 0x5616;
/// The SGI vCPU 0 sends to vCPU 1.
const REQUEST_SGI: u32 = 5;
/// The SGI vCPU 1 sends back to vCPU 0.
const REPLY_SGI: u32 = 6;
/// The SGI vCPU 1 sends to vCPU 0 once it is ready (or has failed).
const READY_SGI: u32 = 7;
/// The vCPU the reply goes to (its MPIDR affinity 0).
const PRIMARY_VCPU: u64 = 0;
/// How long vCPU 0 waits for vCPU 1 to be ready, in seconds.
const READY_TIMEOUT_S: u64 = 5;
/// How long vCPU 0 waits for the reply after sending the request, in
/// milliseconds.
const REPLY_TIMEOUT_MS: u64 = 100;

/// What vCPU 1 published in [`SECONDARY_STATE`]: nothing yet.
const STATE_STARTING: u64 = 0;
/// vCPU 1 is waiting for the request.
const STATE_READY: u64 = 1;
/// vCPU 1's GIC set-up failed; the [`GicError`] is in
/// [`SECONDARY_ERROR`].
const STATE_FAILED: u64 = 2;

/// vCPU 1's progress, one of the `STATE_*` values.
static SECONDARY_STATE: SharedWord = SharedWord::new(STATE_STARTING);
/// Index into [`GicError::ALL`] of vCPU 1's set-up failure.
static SECONDARY_ERROR: SharedWord = SharedWord::new(0);
/// How many requests vCPU 1's handler took.
static REQUEST_TAKEN: SharedWord = SharedWord::new(0);
/// How many requests vCPU 1 answers before it turns itself off.
static REQUESTS_WANTED: SharedWord = SharedWord::new(1);
/// Set by vCPU 0's handler when it takes the reply.
static REPLY_TAKEN: SharedWord = SharedWord::new(0);
/// Set by vCPU 1's handler of a one-way SGI; vCPU 0 clears it before each
/// send.
static ONE_WAY_TAKEN: SharedWord = SharedWord::new(0);
/// Set by vCPU 0 after its last one-way SGI: vCPU 1 stops spinning and
/// turns itself off.
static ONE_WAY_DONE: SharedWord = SharedWord::new(0);
/// How many times vCPU 0 looks for [`ONE_WAY_TAKEN`] after a send before it
/// gives the SGI up (kvm-unit-tests' bound, `1 << 28`).
const ONE_WAY_TRIES: u64 = 1 << 28;

/// Why the check failed, for its `FAIL` line.
pub enum Why {
    /// `CPU_ON` returned this error.
    CpuOn(i32),
    /// vCPU 1 published nothing in time.
    NotReady,
    /// vCPU 1's GIC set-up failed (`None`: with an error it did not name).
    SetUp(Option<GicError>),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Why::CpuOn(ret) => write!(f, "CPU_ON of vCPU 1 returned {}", ret),
            Why::NotReady => write!(f, "vCPU 1 not ready after {} s", READY_TIMEOUT_S),
            Why::SetUp(Some(e)) => write!(f, "vCPU 1: {}", e),
            Why::SetUp(None) => write!(f, "vCPU 1: GIC set-up failed"),
        }
    }
}

/// vCPU 1's handler of the request: counts it, replies.
fn on_request(_intid: u32) {
    // Only vCPU 1 writes it.
    REQUEST_TAKEN.store(REQUEST_TAKEN.load().wrapping_add(1));
    gic::send_sgi(REPLY_SGI, PRIMARY_VCPU);
}

/// vCPU 0's handler of the reply.
fn on_reply(_intid: u32) {
    REPLY_TAKEN.store(1);
}

/// vCPU 1's handler of a one-way SGI: sets the flag vCPU 0 spins on (the
/// dispatch ends the interrupt after it).
fn on_one_way(_intid: u32) {
    ONE_WAY_TAKEN.store(1);
}

/// Sets up vCPU 1's GIC interface; on failure records why for vCPU 0
/// ([`SECONDARY_ERROR`], [`STATE_FAILED`]) and returns false. Out of line,
/// so that it moves none of the measured code of either secondary.
#[inline(never)]
fn init_secondary_gic() -> bool {
    let Err(e) = gic::init_this_cpu() else { return true };
    let index = GicError::ALL
        .iter()
        .position(|&known| known == e)
        .unwrap_or(GicError::ALL.len());
    SECONDARY_ERROR.store(index as u64);
    SECONDARY_STATE.store(STATE_FAILED);
    false
}

/// vCPU 1's side (entered from `_secondary_start` with [`CONTEXT_ID`]).
pub fn secondary_main() -> ! {
    if init_secondary_gic() {
        irq::set_handler(REQUEST_SGI, Some(on_request));
        gic::enable(REQUEST_SGI);
        SECONDARY_STATE.store(STATE_READY);
        gic::send_sgi(READY_SGI, PRIMARY_VCPU);
        // Masked while looking at the flag, so that the request cannot slip
        // in between the look and the WFI (which wakes on a pending
        // interrupt even while masked).
        while REQUEST_TAKEN.load() < REQUESTS_WANTED.load() {
            wfi();
            irq::unmask();
            irq::mask();
        }
        let _ = gic::disable(REQUEST_SGI);
        irq::set_handler(REQUEST_SGI, None);
    }
    psci::cpu_off();
    cpu::halt()
}

/// vCPU 1's side of [`one_way`] (entered from `_secondary_start` with
/// [`ONE_WAY_CONTEXT_ID`]): as [`secondary_main`], but with micro-bench's
/// idle loop, which spins with IRQs unmasked, pausing with `YIELD`, never
/// in `WFI`, until vCPU 0 is done. The rest of the set-up is written out
/// again rather than shared: [`secondary_main`]'s loop is part of what the
/// round trip measures, and sharing it moved that figure (by 63
/// instructions).
pub fn one_way_secondary_main() -> ! {
    if init_secondary_gic() {
        irq::set_handler(REQUEST_SGI, Some(on_one_way));
        gic::enable(REQUEST_SGI);
        SECONDARY_STATE.store(STATE_READY);
        gic::send_sgi(READY_SGI, PRIMARY_VCPU);
        irq::unmask();
        while ONE_WAY_DONE.load() == 0 {
            cpu::relax();
        }
        irq::mask();
        let _ = gic::disable(REQUEST_SGI);
        irq::set_handler(REQUEST_SGI, None);
    }
    psci::cpu_off();
    cpu::halt()
}

/// Nothing to do: the SGI only wakes vCPU 0 from `WFI`.
fn on_ready(_intid: u32) {}

/// Stops the virtual timer that bounds a wait.
fn on_timeout(_intid: u32) {
    timer::vtimer_stop();
}

/// Takes the SGIs and the timer interrupt vCPU 0's waits need (`on`), or
/// gives them back; IRQs stay masked except inside [`wait`].
fn setup_primary(on: bool) {
    for (intid, handler) in [
        (REPLY_SGI, on_reply as fn(u32)),
        (READY_SGI, on_ready as fn(u32)),
        (VTIMER_INTID, on_timeout as fn(u32)),
    ] {
        if on {
            irq::set_handler(intid, Some(handler));
            gic::enable(intid);
        } else {
            let _ = gic::disable(intid);
            gic::clear_pending(intid);
            irq::set_handler(intid, None);
        }
    }
    if !on {
        timer::vtimer_stop();
    }
}

/// Waits in `WFI` until `done` or `ticks` have passed (the virtual timer
/// wakes it then); whether `done`. IRQs are masked while it looks at
/// `done`, so that the interrupt that makes it true cannot slip in between
/// the look and the `WFI` (which wakes on a pending interrupt even while
/// masked), and taken between.
fn wait(ticks: u64, mut done: impl FnMut() -> bool) -> bool {
    irq::mask();
    let deadline = timer::counter().wrapping_add(ticks);
    timer::vtimer_arm(deadline);
    while !done() && timer::counter() < deadline {
        wfi();
        irq::unmask();
        irq::mask();
    }
    done()
}

/// Starts vCPU 1 with `context` ([`secondary_main`] to answer `requests`
/// requests, or [`one_way_secondary_main`]), and waits until it is ready.
fn start_secondary(context: u64, requests: u64) -> Result<(), Why> {
    SECONDARY_STATE.store(STATE_STARTING);
    REQUEST_TAKEN.store(0);
    REQUESTS_WANTED.store(requests);
    // SAFETY: _secondary_start sets up its own stack and vectors and
    // expects only the context id in X0.
    let ret = unsafe { psci::cpu_on(SECONDARY_VCPU, boot::secondary_entry(), context) };
    if ret != SUCCESS {
        return Err(Why::CpuOn(ret));
    }
    let ready = timer::ticks_per_second().saturating_mul(READY_TIMEOUT_S);
    if !wait(ready, || SECONDARY_STATE.load() != STATE_STARTING) {
        return Err(Why::NotReady);
    }
    match SECONDARY_STATE.load() {
        STATE_READY => Ok(()),
        _ => Err(Why::SetUp(
            usize::try_from(SECONDARY_ERROR.load())
                .ok()
                .and_then(|i| GicError::ALL.get(i).copied()),
        )),
    }
}

/// Runs the check on vCPU 0; fails as skipped when the GIC is `Err`.
pub fn run(report: &mut Report, gic: Result<(), Unusable>) {
    let name = format_args!("sgi between vcpus");
    if let AffinityState::Error(_) = psci::affinity_info(SECONDARY_VCPU) {
        report.skip(name, format_args!("1 vCPU"));
        return;
    }
    if let Err(why) = gic {
        report.fail(name, format_args!("skipped: {}", why));
        return;
    }
    REPLY_TAKEN.store(0);
    setup_primary(true);
    let result = start_secondary(CONTEXT_ID, 1).map(|()| {
        gic::send_sgi(REQUEST_SGI, SECONDARY_VCPU);
        wait(timer::ms_to_ticks(REPLY_TIMEOUT_MS), || REPLY_TAKEN.load() != 0)
    });
    setup_primary(false);
    match result {
        Ok(true) => report.pass(name),
        Ok(false) => report.fail(
            name,
            format_args!(
                "no SGI {} back within {} ms (vCPU 1 {} SGI {})",
                REPLY_SGI,
                REPLY_TIMEOUT_MS,
                if REQUEST_TAKEN.load() != 0 {
                    "took"
                } else {
                    "did not take"
                },
                REQUEST_SGI
            ),
        ),
        Err(why) => report.fail(name, format_args!("{}", why)),
    }
}

/// Why [`round_trips`] measured nothing.
pub enum NotMeasured {
    /// The VM has one vCPU.
    OneVcpu,
    /// vCPU 1 could not be started.
    Start(Why),
    /// The reply to request `n` did not come within [`REPLY_TIMEOUT_MS`].
    Lost(u64),
    /// vCPU 1 did not take one-way SGI `n` within [`ONE_WAY_TRIES`] looks.
    NotTaken(u64),
}

impl fmt::Display for NotMeasured {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            NotMeasured::OneVcpu => f.write_str("1 vCPU"),
            NotMeasured::Start(why) => write!(f, "{}", why),
            NotMeasured::Lost(n) => write!(f, "no reply to request {} within {} ms", n, REPLY_TIMEOUT_MS),
            NotMeasured::NotTaken(n) => write!(f, "vCPU 1 did not take SGI {} within {} looks", n, ONE_WAY_TRIES),
        }
    }
}

/// `count` request/reply round trips between vCPU 0 and vCPU 1 (on another
/// physical CPU); returns the counter ticks they took in all, from each
/// send to the reply's handler having run (the timer arming of [`wait`]
/// included). Needs the GIC set up and vCPU 1 off.
pub fn round_trips(count: u64) -> Result<u64, NotMeasured> {
    if let AffinityState::Error(_) = psci::affinity_info(SECONDARY_VCPU) {
        return Err(NotMeasured::OneVcpu);
    }
    setup_primary(true);
    let result = start_secondary(CONTEXT_ID, count)
        .map_err(NotMeasured::Start)
        .and_then(|()| {
            let mut total = 0u64;
            for n in 0..count {
                REPLY_TAKEN.store(0);
                let start = timer::counter();
                gic::send_sgi(REQUEST_SGI, SECONDARY_VCPU);
                if !wait(timer::ms_to_ticks(REPLY_TIMEOUT_MS), || REPLY_TAKEN.load() != 0) {
                    return Err(NotMeasured::Lost(n));
                }
                total = total.wrapping_add(timer::counter().wrapping_sub(start));
            }
            Ok(total)
        });
    setup_primary(false);
    result
}

/// `warm_up` and then `count` one-way SGIs from vCPU 0 to vCPU 1 (on
/// another physical CPU), in the form of kvm-unit-tests' arm `micro-bench`
/// `ipi`: each is timed from before vCPU 0 clears the flag and sends the
/// SGI (`ICC_SGI1R_EL1`) to vCPU 0 seeing the flag that vCPU 1's handler
/// set, vCPU 0 spinning on the flag with `YIELD` between looks. vCPU 1
/// spins too, with IRQs unmasked ([`one_way_secondary_main`]), so the SGI
/// reaches a vCPU that is running in the guest; it ends the interrupt after
/// setting the flag, which may overlap vCPU 0's next iteration, as in
/// micro-bench. vCPU 0 takes no interrupt meanwhile. Like micro-bench,
/// which stops a test once its measured time passes 5 s, it stops once
/// the measured SGIs took `cap` ticks (the test guest's functional runs
/// share their CPUs, where an SGI can wait for a whole time slice).
/// Returns the counter ticks the measured SGIs took in all, and how many
/// it measured (`count` unless capped). Needs the GIC set up and vCPU 1 off
/// or turning itself off (as [`round_trips`] leaves it).
pub fn one_way(warm_up: u64, count: u64, cap: u64) -> Result<(u64, u64), NotMeasured> {
    if let AffinityState::Error(_) = psci::affinity_info(SECONDARY_VCPU) {
        return Err(NotMeasured::OneVcpu);
    }
    // vCPU 1 of the round trips turns itself off after its last reply,
    // perhaps not yet: CPU_ON would fail while it is on.
    timer::wait_ms(REPLY_TIMEOUT_MS, || {
        psci::affinity_info(SECONDARY_VCPU) == AffinityState::Off
    });
    ONE_WAY_TAKEN.store(0);
    ONE_WAY_DONE.store(0);
    setup_primary(true);
    let started = start_secondary(ONE_WAY_CONTEXT_ID, 0);
    setup_primary(false);
    let result = started.map_err(NotMeasured::Start).and_then(|()| {
        let mut total = 0u64;
        for n in 0..warm_up + count {
            let start = timer::counter();
            ONE_WAY_TAKEN.store(0);
            gic::send_sgi(REQUEST_SGI, SECONDARY_VCPU);
            let mut tries = ONE_WAY_TRIES;
            while ONE_WAY_TAKEN.load() == 0 && tries != 0 {
                tries -= 1;
                cpu::relax();
            }
            let end = timer::counter();
            if ONE_WAY_TAKEN.load() == 0 {
                return Err(NotMeasured::NotTaken(n));
            }
            if n >= warm_up {
                total = total.wrapping_add(end.wrapping_sub(start));
                if total >= cap {
                    return Ok((total, n + 1 - warm_up));
                }
            }
        }
        Ok((total, count))
    });
    ONE_WAY_DONE.store(1);
    result
}
