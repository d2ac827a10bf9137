//! The timer stress mode: in VMs [`TIMER_STRESS_VM_IDS`] both vCPUs arm
//! their EL1 virtual timer a short, random time ahead and sleep in `WFI`
//! until its interrupt, [`ITERATIONS`] times each, then vCPU 0 prints
//! `PASS timer stress <n> wake-ups on 2 vCPUs` and the VM powers off.
//!
//! What varies, from a seeded pseudo-random sequence (so a run can be
//! repeated): the deadline (0 to [`MAX_LEAD_US`] ahead; about one in
//! sixteen already due when armed); whether the vCPU makes an exit (a
//! hypercall) between arming the timer and its `WFI`, or none; the trigger
//! mode the guest asks for the timer's PPI (`GICR_ICFGR1`: level-sensitive
//! or edge-triggered, switched now and then; a GIC may keep PPIs fixed, and
//! this hypervisor's keeps them level-sensitive); and, while the PPI is
//! edge-triggered, whether the handler quiesces the timer before its end of
//! interrupt or the main loop does after it.
//!
//! A lost wake-up leaves a vCPU asleep for good: the test sees no `PASS`
//! line and times out. What the guest itself can see is reported as
//! `FAIL timer stress <detail>`: an interrupt that came before its
//! deadline, one that did not come within [`WAIT_MS`] while the vCPU ran,
//! vCPU 1 not finishing within [`SECONDARY_WAIT_S`] of vCPU 0, or the GIC
//! refusing its set-up.

use aarch64_cpu::asm::wfi;

use crate::platform::{NUM_VCPUS, SECONDARY_VCPU, TIMER_STRESS_VM_IDS, VTIMER_INTID};
use crate::shared::SharedWord;
use crate::{boot, cpu, gic, hvc, irq, psci, timer};

/// Wake-ups each vCPU goes through.
pub const ITERATIONS: u64 = 1500;
/// The latest deadline, in microseconds after the timer is armed.
const MAX_LEAD_US: u64 = 400;
/// How long one wait may take while the vCPU runs, in milliseconds of
/// virtual time, before it counts as a lost interrupt.
const WAIT_MS: u64 = 2000;
/// How long vCPU 0, done, waits for vCPU 1 to be done, in seconds.
const SECONDARY_WAIT_S: u64 = 60;
/// The context id that sends vCPU 1 to [`secondary_main`].
pub const CONTEXT_ID: u64 = 0x5555;

/// A vCPU's result in [`RESULT`]: still running.
const RUNNING: u64 = 0;
/// Done, every wake-up as it should be.
const DONE: u64 = 1;
/// Done early: a wait timed out.
const LOST: u64 = 2;
/// Done early: an interrupt came before its deadline.
const EARLY: u64 = 3;
/// Done early: the GIC could not be set up.
const GIC_FAILED: u64 = 4;

/// Per vCPU: the handler took the timer's interrupt.
static FIRED: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];
/// Per vCPU: interrupts that came before their deadline.
static EARLY_COUNT: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];
/// Per vCPU: the handler turns the timer off (else the main loop does,
/// after the end of interrupt).
static QUIESCE_IN_HANDLER: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(1) }; NUM_VCPUS];
/// Per vCPU: one of the result values above.
static RESULT: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(RUNNING) }; NUM_VCPUS];
/// Per vCPU: wake-ups done.
static COUNT: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];

/// This vCPU's word in `words`.
fn mine(words: &'static [SharedWord; NUM_VCPUS]) -> &'static SharedWord {
    let index = (cpu::index() as usize).min(NUM_VCPUS - 1);
    &words[index]
}

/// xorshift64*: a small, seeded pseudo-random sequence.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The timer's interrupt: notes one that came early, turns the timer off
/// if this vCPU's handler is to, says that it fired.
fn on_vtimer(_intid: u32) {
    if timer::counter() < timer::vtimer_cval() {
        let early = mine(&EARLY_COUNT);
        early.store(early.load() + 1);
    }
    if mine(&QUIESCE_IN_HANDLER).load() != 0 {
        timer::vtimer_stop();
    }
    mine(&FIRED).store(1);
}

/// What one vCPU's run went through.
#[derive(Default)]
struct Tally {
    edge: u64,
    exit_between: u64,
    already_due: u64,
}

/// Sleeps in `WFI` until the timer's interrupt; false if it did not come
/// within [`WAIT_MS`].
fn sleep_until_fired(cval: u64) -> bool {
    let limit = cval.saturating_add(timer::ms_to_ticks(WAIT_MS));
    let fired = mine(&FIRED);
    while fired.load() == 0 {
        // IRQs are masked here: an interrupt that arrives before the WFI
        // keeps it from sleeping, and is taken right after it.
        wfi();
        irq::unmask();
        irq::mask();
        if fired.load() == 0 && timer::counter() > limit {
            return false;
        }
    }
    true
}

/// This vCPU's part: [`ITERATIONS`] wake-ups. Publishes its result and
/// count; returns what it went through.
fn stress(seed: u64) -> Tally {
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    // Whether the guest asked for edge-triggered, and whether the GIC took
    // it (it may keep PPIs level-sensitive).
    let mut edge = false;
    let mut is_edge = false;
    let result = mine(&RESULT);
    let count = mine(&COUNT);
    timer::vtimer_stop();
    irq::set_handler(VTIMER_INTID, Some(on_vtimer));
    gic::enable(VTIMER_INTID);
    let max_lead = timer::ms_to_ticks(1).saturating_mul(MAX_LEAD_US) / 1000;
    for i in 0..ITERATIONS {
        let r = rng.next();
        if r % 8 == 0 {
            edge = !edge;
            if gic::set_ppi_edge(VTIMER_INTID, edge).is_err() {
                result.store(GIC_FAILED);
                return tally;
            }
            is_edge = gic::ppi_is_edge(VTIMER_INTID);
            gic::enable(VTIMER_INTID);
        }
        // Level-sensitive: the handler must quiesce the line before its
        // end of interrupt, or the interrupt comes again at once.
        let quiesce_in_handler = !is_edge || (r >> 8) & 1 == 0;
        mine(&QUIESCE_IN_HANDLER).store(u64::from(quiesce_in_handler));
        let exit_between = (r >> 9) & 1 != 0;
        let lead = if (r >> 10) % 16 == 0 {
            0
        } else {
            (r >> 16) % max_lead.max(1)
        };
        tally.edge += u64::from(edge);
        tally.exit_between += u64::from(exit_between);
        tally.already_due += u64::from(lead == 0);

        mine(&FIRED).store(0);
        let cval = timer::counter().wrapping_add(lead);
        timer::vtimer_arm(cval);
        if exit_between {
            hvc::version();
        }
        if !sleep_until_fired(cval) {
            result.store(LOST);
            return tally;
        }
        if !quiesce_in_handler {
            timer::vtimer_stop();
        }
        if mine(&EARLY_COUNT).load() != 0 {
            result.store(EARLY);
            return tally;
        }
        count.store(i + 1);
    }
    timer::vtimer_stop();
    let _ = gic::disable(VTIMER_INTID);
    result.store(DONE);
    tally
}

/// The seed of vCPU `index` of VM `vm`.
fn seed(vm: u64, index: u64) -> u64 {
    0x9E37_79B9_7F4A_7C15 ^ (vm << 32) ^ index
}

/// vCPU 1's side (entered from `_secondary_start` with [`CONTEXT_ID`]).
pub fn secondary_main() -> ! {
    if gic::init_this_cpu().is_err() {
        mine(&RESULT).store(GIC_FAILED);
    } else {
        stress(seed(hvc::vm_id(), cpu::index()));
    }
    psci::cpu_off();
    cpu::halt()
}

/// Why a vCPU stopped early, for the `FAIL` line.
fn describe(result: u64) -> &'static str {
    match result {
        RUNNING => "still running",
        LOST => "a timer interrupt did not come while the vCPU ran",
        EARLY => "a timer interrupt came before its deadline",
        GIC_FAILED => "GIC set-up failed",
        _ => "done",
    }
}

/// vCPU 0's side: sets up the GIC, starts vCPU 1, runs its own part, waits
/// for vCPU 1's and prints the result; powers the VM off.
fn run_stress(vm: u64) -> ! {
    let ok = gic::init_distributor().and_then(|()| gic::init_this_cpu()).is_ok();
    println!(
        "testguest: VM {} stresses timer wake-ups: {} per vCPU, deadlines up to {} us",
        vm, ITERATIONS, MAX_LEAD_US
    );
    // SAFETY: _secondary_start sets up its own stack and vectors and
    // expects only the context id in X0.
    let started = ok && unsafe { psci::cpu_on(SECONDARY_VCPU, boot::secondary_entry(), CONTEXT_ID) } == psci::SUCCESS;
    if !started {
        println!("FAIL timer stress set-up (GIC or CPU_ON of vCPU 1)");
    } else {
        let tally = stress(seed(vm, 0));
        let secondary = &RESULT[SECONDARY_VCPU as usize];
        timer::wait_until(SECONDARY_WAIT_S, || secondary.load() != RUNNING);
        println!(
            "timer stress: vCPU 0: {} wake-ups ({} asked edge-triggered, {} with an exit before WFI, {} already due)",
            COUNT[0].load(),
            tally.edge,
            tally.exit_between,
            tally.already_due
        );
        let results = [RESULT[0].load(), secondary.load()];
        let total = COUNT[0].load() + COUNT[SECONDARY_VCPU as usize].load();
        if results == [DONE, DONE] {
            println!("PASS timer stress {} wake-ups on 2 vCPUs", total);
        } else {
            for (index, &r) in results.iter().enumerate() {
                if r != DONE {
                    println!(
                        "FAIL timer stress vCPU {} after {} wake-ups: {}",
                        index,
                        COUNT[index].load(),
                        describe(r)
                    );
                }
            }
        }
    }
    println!("testguest: powering off");
    psci::system_off();
    cpu::halt()
}

/// In VMs [`TIMER_STRESS_VM_IDS`], runs the stress and powers off; in any
/// other VM, returns at once.
pub fn run() {
    let vm = hvc::vm_id();
    if TIMER_STRESS_VM_IDS.contains(&vm) {
        run_stress(vm)
    }
}
