//! The flood mode: VM [`FLOOD_VM_ID`] is the noisy neighbour. Right after
//! its first check it prints `testguest: VM 44 floods SGIs, the console
//! and exits`, starts vCPU 1, and from then on, forever: vCPU 0 sends SGIs
//! (INTIDs 0 to 15 in turn) to vCPU 1, writes console lines as fast as the
//! UART takes them (`flood: line N` and filler), and makes trapping exits
//! (hypercalls and test device reads); vCPU 1 takes the SGIs with IRQs
//! unmasked while it makes trapping exits of its own. Nothing ends it: a
//! test destroys it from the management shell.

use crate::platform::{FLOOD_VM_ID, SECONDARY_VCPU};
use crate::shared::SharedWord;
use crate::testdev::TestDevice;
use crate::{boot, gic, hvc, irq, psci};

/// The context id that sends vCPU 1 to [`secondary_main`].
pub const CONTEXT_ID: u64 = 0x4444;
/// How many SGI INTIDs the flood cycles through.
const SGIS: u32 = 16;
/// SGIs vCPU 0 sends per round.
const SGIS_PER_ROUND: u32 = 64;
/// Trapping exits per round, on each vCPU.
const EXITS_PER_ROUND: u32 = 64;

/// SGIs vCPU 1 took.
static TAKEN: SharedWord = SharedWord::new(0);

/// vCPU 1's handler: counts.
fn on_sgi(_intid: u32) {
    TAKEN.store(TAKEN.load().wrapping_add(1));
}

/// A round of trapping exits: hypercalls and test device reads.
fn exits() {
    let dev = TestDevice;
    for _ in 0..EXITS_PER_ROUND {
        hvc::version();
        dev.magic();
    }
}

/// vCPU 1's side (entered from `_secondary_start` with [`CONTEXT_ID`]):
/// takes SGIs while it makes exits, forever.
pub fn secondary_main() -> ! {
    if gic::init_this_cpu().is_ok() {
        for intid in 0..SGIS {
            irq::set_handler(intid, Some(on_sgi));
            gic::enable(intid);
        }
        irq::unmask();
    }
    loop {
        exits();
    }
}

/// vCPU 0's side: floods forever.
fn flood() -> ! {
    let ok = gic::init_distributor().and_then(|()| gic::init_this_cpu()).is_ok();
    println!("testguest: VM {} floods SGIs, the console and exits", FLOOD_VM_ID);
    // SAFETY: _secondary_start sets up its own stack and vectors and
    // expects only the context id in X0.
    let started = ok && unsafe { psci::cpu_on(SECONDARY_VCPU, boot::secondary_entry(), CONTEXT_ID) } == psci::SUCCESS;
    if !started {
        println!(
            "testguest: VM {} floods without vCPU 1 (GIC or CPU_ON failed)",
            FLOOD_VM_ID
        );
    }
    let mut round: u64 = 0;
    let mut intid = 0;
    loop {
        if started {
            for _ in 0..SGIS_PER_ROUND {
                gic::send_sgi(intid, SECONDARY_VCPU);
                intid = (intid + 1) % SGIS;
            }
        }
        println!(
            "flood: line {} sgis taken {} ..............................................",
            round,
            TAKEN.load()
        );
        exits();
        round = round.wrapping_add(1);
    }
}

/// In VM [`FLOOD_VM_ID`], floods forever; in any other VM, returns at
/// once.
pub fn run() {
    if hvc::vm_id() == FLOOD_VM_ID {
        flood()
    }
}
