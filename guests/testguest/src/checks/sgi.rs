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

use core::fmt;

use aarch64_cpu::asm::wfi;

use super::Report;
use super::gic::Unusable;
use crate::gic::GicError;
use crate::platform::SECONDARY_VCPU;
use crate::psci::{self, AffinityState, SUCCESS};
use crate::shared::SharedWord;
use crate::{boot, cpu, gic, irq, timer};

/// The context id that sends vCPU 1 to [`secondary_main`].
pub const CONTEXT_ID: u64 = 0x5615;
/// The SGI vCPU 0 sends to vCPU 1.
const REQUEST_SGI: u32 = 5;
/// The SGI vCPU 1 sends back to vCPU 0.
const REPLY_SGI: u32 = 6;
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
/// Set by vCPU 1's handler when it takes the request.
static REQUEST_TAKEN: SharedWord = SharedWord::new(0);
/// Set by vCPU 0's handler when it takes the reply.
static REPLY_TAKEN: SharedWord = SharedWord::new(0);

/// Why the check failed, for its `FAIL` line.
enum Why {
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

/// vCPU 1's handler of the request: records it, replies.
fn on_request(_intid: u32) {
    REQUEST_TAKEN.store(1);
    gic::send_sgi(REPLY_SGI, PRIMARY_VCPU);
}

/// vCPU 0's handler of the reply.
fn on_reply(_intid: u32) {
    REPLY_TAKEN.store(1);
}

/// vCPU 1's side (entered from `_secondary_start` with [`CONTEXT_ID`]).
pub fn secondary_main() -> ! {
    if let Err(e) = gic::init_this_cpu() {
        let index = GicError::ALL
            .iter()
            .position(|&known| known == e)
            .unwrap_or(GicError::ALL.len());
        SECONDARY_ERROR.store(index as u64);
        SECONDARY_STATE.store(STATE_FAILED);
    } else {
        irq::set_handler(REQUEST_SGI, Some(on_request));
        gic::enable(REQUEST_SGI);
        SECONDARY_STATE.store(STATE_READY);
        // Masked while looking at the flag, so that the request cannot slip
        // in between the look and the WFI (which wakes on a pending
        // interrupt even while masked).
        while REQUEST_TAKEN.load() == 0 {
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

/// Starts vCPU 1 in [`secondary_main`] and waits until it is ready.
fn start_secondary() -> Result<(), Why> {
    SECONDARY_STATE.store(STATE_STARTING);
    REQUEST_TAKEN.store(0);
    // SAFETY: _secondary_start sets up its own stack and vectors and
    // expects only the context id in X0.
    let ret = unsafe { psci::cpu_on(SECONDARY_VCPU, boot::secondary_entry(), CONTEXT_ID) };
    if ret != SUCCESS {
        return Err(Why::CpuOn(ret));
    }
    if !timer::wait_until(READY_TIMEOUT_S, || SECONDARY_STATE.load() != STATE_STARTING) {
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
    irq::set_handler(REPLY_SGI, Some(on_reply));
    gic::enable(REPLY_SGI);
    let result = start_secondary().map(|()| {
        irq::unmask();
        gic::send_sgi(REQUEST_SGI, SECONDARY_VCPU);
        timer::wait_ms(REPLY_TIMEOUT_MS, || REPLY_TAKEN.load() != 0)
    });
    irq::mask();
    let _ = gic::disable(REPLY_SGI);
    gic::clear_pending(REPLY_SGI);
    irq::set_handler(REPLY_SGI, None);
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
