//! PSCI: version through both conduits, features, and a `CPU_ON` /
//! `CPU_OFF` round of vCPU 1, which runs [`secondary_main`].
//!
//! Hand-off: vCPU 1 prints its line, publishes what it saw, then sets
//! [`SECONDARY_UP`]; vCPU 0 prints nothing until it sees the flag (or times
//! out), so the two never write the UART at once.

use super::Report;
use crate::hvc::Conduit;
use crate::platform::SECONDARY_VCPU;
use crate::psci::{self, AffinityState, CPU_ON_64, SUCCESS, VERSION_1_1};
use crate::shared::SharedWord;
use crate::{boot, cpu, timer};

/// The context id given to `CPU_ON`; vCPU 1 receives it in `X0`.
const CONTEXT_ID: u64 = 0x1234;
/// How long vCPU 0 waits for vCPU 1 to come up, and then to be off.
const TIMEOUT_SECS: u64 = 5;

/// The affinity fields of `MPIDR_EL1`: Aff3 \[39:32\] and Aff2..Aff0
/// \[23:0\] (without RES1 bit 31, U bit 30 and MT bit 24).
const MPIDR_AFFINITY_MASK: u64 = 0xff_00ff_ffff;

/// Set by vCPU 1 once it has printed and published its values.
static SECONDARY_UP: SharedWord = SharedWord::new(0);
/// `MPIDR_EL1` as vCPU 1 read it.
static SECONDARY_MPIDR: SharedWord = SharedWord::new(0);
/// The `X0` vCPU 1 was entered with.
static SECONDARY_CONTEXT: SharedWord = SharedWord::new(0);
/// The error `CPU_OFF` returned on vCPU 1, as `u64`; 0 while it has not
/// returned.
static SECONDARY_OFF_ERROR: SharedWord = SharedWord::new(0);

/// vCPU 1's side of the `CPU_ON` check (entered through
/// [`super::secondary_main`] with any context id but the SGI check's).
pub fn secondary_main(context: u64) -> ! {
    let mpidr = cpu::mpidr();
    println!(
        "testguest: vCPU {} up, MPIDR {:#x}, context {:#x}",
        cpu::index(),
        mpidr,
        context
    );
    SECONDARY_MPIDR.store(mpidr);
    SECONDARY_CONTEXT.store(context);
    SECONDARY_UP.store(1);
    let error = psci::cpu_off();
    // vCPU 0 may be printing now: record the error for it instead.
    SECONDARY_OFF_ERROR.store(error as i64 as u64);
    cpu::halt()
}

/// Runs the PSCI checks.
pub fn run(report: &mut Report) {
    let version = psci::version(Conduit::Hvc);
    report.check(
        version == VERSION_1_1,
        format_args!("psci version 1.1"),
        format_args!("got {:#x}", version),
    );
    let version = psci::version(Conduit::Smc);
    report.check(
        version == VERSION_1_1,
        format_args!("psci version via smc"),
        format_args!("got {:#x}", version),
    );
    let cpu_on = psci::features(CPU_ON_64);
    report.check(
        cpu_on == SUCCESS,
        format_args!("psci features"),
        format_args!("CPU_ON: got {}", cpu_on),
    );

    if cpu_on_secondary(report) {
        affinity_off(report);
    } else {
        report.fail(
            format_args!("psci affinity_info off"),
            format_args!("skipped: CPU_ON failed"),
        );
    }
}

/// Starts vCPU 1 and waits for its flag. Returns whether it came up.
fn cpu_on_secondary(report: &mut Report) -> bool {
    let name = format_args!("psci cpu_on");
    SECONDARY_UP.store(0);
    // SAFETY: _secondary_start sets up its own stack and vectors and
    // expects only the context id in X0.
    let ret = unsafe { psci::cpu_on(SECONDARY_VCPU, boot::secondary_entry(), CONTEXT_ID) };
    if ret != SUCCESS {
        report.fail(name, format_args!("returned {}", ret));
        return false;
    }
    if !timer::wait_until(TIMEOUT_SECS, || SECONDARY_UP.load() != 0) {
        report.fail(name, format_args!("timeout"));
        return false;
    }
    let mpidr = SECONDARY_MPIDR.load();
    let context = SECONDARY_CONTEXT.load();
    let affinity = mpidr & MPIDR_AFFINITY_MASK;
    report.check(
        affinity == SECONDARY_VCPU && context == CONTEXT_ID,
        name,
        format_args!("vCPU reported MPIDR {:#x}, context {:#x}", mpidr, context),
    );
    true
}

/// Waits for `AFFINITY_INFO` to report vCPU 1 off after its `CPU_OFF`.
fn affinity_off(report: &mut Report) {
    let mut last = AffinityState::On;
    let off = timer::wait_until(TIMEOUT_SECS, || {
        last = psci::affinity_info(SECONDARY_VCPU);
        last == AffinityState::Off
    });
    report.check(
        off,
        format_args!("psci affinity_info off"),
        format_args!(
            "still {:?} after {} s (CPU_OFF error {:#x})",
            last,
            TIMEOUT_SECS,
            SECONDARY_OFF_ERROR.load()
        ),
    );
}
