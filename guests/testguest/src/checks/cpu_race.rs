//! `cpu_on race`: two vCPUs call PSCI `CPU_ON` for the same third one at
//! the same moment; exactly one call wins.
//!
//! vCPU 0 starts the callers, vCPUs [`CALLERS`], with `CPU_ON` and
//! [`CALLER_CONTEXT`]; each publishes that it is at the start line and
//! spins until vCPU 0 publishes a start time ([`GO_AT`], a virtual counter
//! value [`GO_MARGIN_MS`] ahead, the same on every vCPU of the VM), then
//! both spin until the counter reaches it and call `CPU_ON` of vCPU
//! [`TARGET`] with a context id that names the caller, publish the return
//! code and turn themselves off. The target counts its start, records its
//! context id, waits until both callers have called (so that the later
//! call finds it on, not off again: the callers may be far apart when
//! their physical CPUs are shared with other work) and turns itself off.
//!
//! The check passes when one caller got `SUCCESS` and the other
//! `ALREADY_ON` or `ON_PENDING`, the target came up exactly once, with the
//! context id of the caller that won, and `AFFINITY_INFO` then reports the
//! target (and both callers) off. vCPU 0 prints the two return codes on a
//! `testguest: cpu_on race:` line of its own. Every wait is bounded by
//! counter time; only vCPU 0 prints.

use super::Report;
use crate::psci::{self, ALREADY_ON, AffinityState, ON_PENDING, SUCCESS};
use crate::shared::SharedWord;
use crate::{boot, cpu, timer};

/// The vCPUs that race (their MPIDR affinity 0).
const CALLERS: [u64; 2] = [1, 2];
/// The vCPU both callers start.
const TARGET: u64 = 3;
/// The context id that sends a vCPU to [`caller_main`].
pub const CALLER_CONTEXT: u64 = 0xACE0_0000;
/// The context ids that send a vCPU to [`target_main`]: this tag, or'ed
/// with the affinity 0 of the caller that asked.
const TARGET_CONTEXT_TAG: u64 = 0xACE3_0000;
/// The bits of a target context id that name the caller.
const TARGET_CONTEXT_CALLER_MASK: u64 = 0xff;
/// How far ahead of its publication the start time is, in milliseconds:
/// time for both callers to see it before it comes.
const GO_MARGIN_MS: u64 = 10;
/// How long any side waits for another, in seconds.
const TIMEOUT_S: u64 = 5;
/// How long vCPU 0 waits after the target is off for a second start to
/// show, in milliseconds.
const SETTLE_MS: u64 = 20;

/// A caller's progress in [`CALLER_STATE`]: not at the start line yet.
const STATE_STARTING: u64 = 0;
/// At the start line, waiting for [`GO_AT`].
const STATE_READY: u64 = 1;
/// Called `CPU_ON`; the return code is in [`CALLER_RESULT`].
const STATE_CALLED: u64 = 2;
/// Gave up waiting for [`GO_AT`].
const STATE_GAVE_UP: u64 = 3;

/// Per caller, one of the `STATE_*` values.
static CALLER_STATE: [SharedWord; CALLERS.len()] = [const { SharedWord::new(STATE_STARTING) }; CALLERS.len()];
/// Per caller, its `CPU_ON` return code, sign-extended.
static CALLER_RESULT: [SharedWord; CALLERS.len()] = [const { SharedWord::new(0) }; CALLERS.len()];
/// The virtual counter value at which both callers call; 0 until set.
static GO_AT: SharedWord = SharedWord::new(0);
/// How many times the target came up (only the target writes it).
static TARGET_UPS: SharedWord = SharedWord::new(0);
/// The context id the target came up with, the last time.
static TARGET_CONTEXT: SharedWord = SharedWord::new(0);

/// Whether `context` sends a vCPU to [`target_main`].
pub fn is_target_context(context: u64) -> bool {
    context & !TARGET_CONTEXT_CALLER_MASK == TARGET_CONTEXT_TAG
}

/// The slot of the caller with affinity 0 `index` in the per-caller words.
fn caller_slot(index: u64) -> Option<usize> {
    CALLERS.iter().position(|&c| c == index)
}

/// A caller's side (entered from `_secondary_start` with
/// [`CALLER_CONTEXT`]).
pub fn caller_main() -> ! {
    let me = cpu::index();
    if let Some(slot) = caller_slot(me) {
        CALLER_STATE[slot].store(STATE_READY);
        if timer::wait_until(TIMEOUT_S, || GO_AT.load() != 0) {
            timer::spin_until(GO_AT.load());
            // SAFETY: _secondary_start sets up its own stack and vectors
            // and expects only the context id in X0.
            let ret = unsafe { psci::cpu_on(TARGET, boot::secondary_entry(), TARGET_CONTEXT_TAG | me) };
            CALLER_RESULT[slot].store(ret as i64 as u64);
            CALLER_STATE[slot].store(STATE_CALLED);
        } else {
            CALLER_STATE[slot].store(STATE_GAVE_UP);
        }
    }
    psci::cpu_off();
    cpu::halt()
}

/// The target's side (entered from `_secondary_start` with a target
/// context id): counts its start, waits (bounded) until both callers have
/// called, and turns itself off.
pub fn target_main(context: u64) -> ! {
    TARGET_CONTEXT.store(context);
    TARGET_UPS.store(TARGET_UPS.load() + 1);
    timer::wait_until(TIMEOUT_S, || CALLER_STATE.iter().all(|s| s.load() != STATE_READY));
    psci::cpu_off();
    cpu::halt()
}

/// Waits until `AFFINITY_INFO` reports vCPU `index` off; returns the last
/// state seen.
fn wait_off(index: u64) -> AffinityState {
    let mut last = AffinityState::On;
    timer::wait_until(TIMEOUT_S, || {
        last = psci::affinity_info(index);
        last == AffinityState::Off
    });
    last
}

/// Whether `ret` is what the losing `CPU_ON` must return.
fn is_loss(ret: i32) -> bool {
    ret == ALREADY_ON || ret == ON_PENDING
}

/// Starts the callers and lets them race; `Err` says why it went wrong.
fn race() -> Result<(), RaceError> {
    // The earlier checks turned vCPU 1 off; its CPU_OFF may still be on
    // its way.
    for &index in &CALLERS {
        let state = wait_off(index);
        if state != AffinityState::Off {
            return Err(RaceError::NotOff { index, state });
        }
    }
    for &index in &CALLERS {
        // SAFETY: as in `caller_main`.
        let ret = unsafe { psci::cpu_on(index, boot::secondary_entry(), CALLER_CONTEXT) };
        if ret != SUCCESS {
            return Err(RaceError::CallerCpuOn { index, ret });
        }
    }
    let ready = timer::wait_until(TIMEOUT_S, || CALLER_STATE.iter().all(|s| s.load() == STATE_READY));
    if !ready {
        return Err(RaceError::CallersNotReady);
    }
    GO_AT.store(timer::counter().saturating_add(timer::ms_to_ticks(GO_MARGIN_MS)));
    let called = timer::wait_until(TIMEOUT_S, || CALLER_STATE.iter().all(|s| s.load() != STATE_READY));
    if !called || CALLER_STATE.iter().any(|s| s.load() != STATE_CALLED) {
        return Err(RaceError::CallersDidNotCall);
    }
    Ok(())
}

/// Why the race did not happen.
enum RaceError {
    /// A caller was not off before the race.
    NotOff { index: u64, state: AffinityState },
    /// `CPU_ON` of a caller failed.
    CallerCpuOn { index: u64, ret: i32 },
    /// The callers did not reach the start line in time.
    CallersNotReady,
    /// A caller did not call `CPU_ON` in time.
    CallersDidNotCall,
}

/// Runs `cpu_on race`.
pub fn run(report: &mut Report) {
    let name = format_args!("cpu_on race");
    if let Err(e) = race() {
        let states = [CALLER_STATE[0].load(), CALLER_STATE[1].load()];
        match e {
            RaceError::NotOff { index, state } => report.fail(
                name,
                format_args!(
                    "vCPU {} still {:?} after {} s, before the race",
                    index, state, TIMEOUT_S
                ),
            ),
            RaceError::CallerCpuOn { index, ret } => {
                report.fail(name, format_args!("CPU_ON of caller vCPU {} returned {}", index, ret))
            }
            RaceError::CallersNotReady => report.fail(
                name,
                format_args!(
                    "callers not at the start line after {} s (states {:?}, 1 = ready)",
                    TIMEOUT_S, states
                ),
            ),
            RaceError::CallersDidNotCall => report.fail(
                name,
                format_args!(
                    "callers did not call CPU_ON within {} s of the start (states {:?}, 2 = called)",
                    TIMEOUT_S, states
                ),
            ),
        }
        return;
    }
    let rets = [
        CALLER_RESULT[0].load() as i64 as i32,
        CALLER_RESULT[1].load() as i64 as i32,
    ];
    println!(
        "testguest: cpu_on race: vCPU {} got {}, vCPU {} got {}",
        CALLERS[0], rets[0], CALLERS[1], rets[1]
    );
    let winner = match rets {
        [SUCCESS, other] if is_loss(other) => Some(CALLERS[0]),
        [other, SUCCESS] if is_loss(other) => Some(CALLERS[1]),
        _ => None,
    };
    // The target is ON_PENDING, then on, until its CPU_OFF: wait for it to
    // come up and go off again, and for the callers to be off too.
    if winner.is_some() {
        timer::wait_until(TIMEOUT_S, || TARGET_UPS.load() != 0);
    }
    let target_state = wait_off(TARGET);
    let caller_states = [wait_off(CALLERS[0]), wait_off(CALLERS[1])];
    timer::spin_until(timer::counter().saturating_add(timer::ms_to_ticks(SETTLE_MS)));
    let ups = TARGET_UPS.load();
    let context = TARGET_CONTEXT.load();
    let Some(winner) = winner else {
        report.fail(
            name,
            format_args!(
                "want one SUCCESS ({}) and one ALREADY_ON ({}) or ON_PENDING ({}); vCPU {} came up {} time(s)",
                SUCCESS, ALREADY_ON, ON_PENDING, TARGET, ups
            ),
        );
        return;
    };
    let want_context = TARGET_CONTEXT_TAG | winner;
    if ups != 1 {
        report.fail(name, format_args!("vCPU {} came up {} time(s), want once", TARGET, ups));
    } else if context != want_context {
        report.fail(
            name,
            format_args!(
                "vCPU {} came up with context {:#x}, want {:#x} (that of vCPU {}'s winning call)",
                TARGET, context, want_context, winner
            ),
        );
    } else if target_state != AffinityState::Off {
        report.fail(
            name,
            format_args!(
                "AFFINITY_INFO of vCPU {} still {:?} {} s after its CPU_OFF",
                TARGET, target_state, TIMEOUT_S
            ),
        );
    } else if caller_states.iter().any(|&s| s != AffinityState::Off) {
        report.fail(
            name,
            format_args!(
                "AFFINITY_INFO of the callers: {:?}, want both Off after their CPU_OFF",
                caller_states
            ),
        );
    } else {
        report.pass(name);
    }
}
