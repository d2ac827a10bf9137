//! The fuzz mode: VM [`FUZZ_VM_ID`] runs a seeded stream of hostile
//! operations on both of its vCPUs and reports what happened.
//!
//! vCPU 0 prompts `fuzz: parameters? (SEED OPS [CLASSES])` and reads the
//! line (`params.rs`), sets up the GIC, starts vCPU 1 with PSCI `CPU_ON`,
//! and both run `OPS` operations each, every one a fuzzed instruction
//! (`stubs.rs`) of a class picked uniformly among the enabled ones
//! (`class.rs`), with arguments from a SplitMix64 stream of their own
//! (`rng.rs`, seeded from `SEED` and the vCPU index) and the target picker
//! (`target.rs`). Interrupts stay masked. The exception handler counts and
//! skips every exception a fuzzed instruction takes (`trap.rs`); counts are
//! kept per vCPU (`stats.rs`). A `WFI` (and PSCI `CPU_SUSPEND`) first arms
//! the virtual timer so that it ends (`wake.rs`).
//!
//! vCPU 0 prints `fuzz: vCPU 0 at op N, vCPU 1 at op M` ten times along
//! the way (at least every 5000 operations). A vCPU that has finished
//! watches the other: one that makes no progress for 10 s is reported as
//! `fuzz: vCPU N made no progress for 10000 ms: stuck in op K (STUB x0=..
//! x1=.. x2=.. x3=..)`.
//! Then vCPU 0 (or vCPU 1, if vCPU 0 is the one stuck) puts the UART's
//! registers back, prints per class the operations
//! run and the exceptions they took, the exceptions by `ESR_EL1.EC` and
//! the data aborts by fault status code, then
//! `fuzz: finished seed S: N ops on 2 vCPUs, E exceptions taken`, and
//! powers the VM off.
//!
//! Left out on purpose (they would end the VM or the fuzzer, not test the
//! hypervisor): PSCI `CPU_OFF`, `SYSTEM_OFF`, `SYSTEM_RESET`,
//! `SYSTEM_RESET2`, `SYSTEM_SUSPEND`, `CPU_FREEZE`,
//! `CPU_DEFAULT_SUSPEND`, `SYSTEM_OFF2` (and `CPU_SUSPEND` but in its own
//! class, with a timer armed); stores to guest RAM and to the few GIC registers that
//! keep the timer able to wake a `WFI`, and random bytes on the console
//! (`target.rs`); binary point writes with bits above \[2:0\] (QEMU 7.2
//! aborts on them, `target.rs`); negative timer values (`TVAL`: near virtual time zero the compare value
//! wraps) and timer compare values from 2^62 up (with the VM's counter
//! offset they could wrap past 2^64, on which QEMU 7.2 itself hangs);
//! writes of the system registers that hold this program together
//! (`SCTLR_EL1`, `TTBR*`, `TCR_EL1`, `MAIR_EL1`, `VBAR_EL1`, `CPACR_EL1`,
//! `DAIF`, `SPSel`, `ELR_EL1`, `SPSR_EL1`, `SP_EL0`).

mod class;
mod params;
mod rng;
mod stats;
mod stubs;
mod target;
mod trap;
mod wake;

pub use trap::absorb;

use crate::hvc::{self, Conduit};
use crate::platform::{FUZZ_VM_ID, NUM_VCPUS};
use crate::shared::SharedWord;
use crate::{boot, cpu, gic, mmio, psci, timer};

use class::{COUNT, Class};
use params::Params;
use rng::Rng;
use stubs::{Arg, STUBS};

/// The `CPU_ON` context id that sends a vCPU into [`secondary_main`].
pub const CONTEXT_ID: u64 = 0xF022_0001;
/// The vCPUs that fuzz: 0 and 1.
const FUZZ_VCPUS: u64 = 2;
/// The vCPU that vCPU 0 starts.
const SECOND_VCPU: u64 = 1;
/// How many progress lines vCPU 0 prints at least.
const PROGRESS_LINES: u64 = 10;
/// The most operations between two progress lines (a driver that watches
/// the console for a hang needs them now and then).
const PROGRESS_MAX_GAP: u64 = 5_000;
/// How long vCPU 0 waits for vCPU 1 to start.
const START_WAIT_MS: u64 = 5_000;
/// How long a vCPU that has finished waits for the other one to make
/// progress before it reports the other as stuck.
const STALL_MS: u64 = 10_000;
/// The most stubs the picker's index holds.
const MAX_STUBS: usize = 512;

/// The parameters, for vCPU 1: seed, ops, classes.
static SEED: SharedWord = SharedWord::new(0);
/// See [`SEED`].
static OPS: SharedWord = SharedWord::new(0);
/// See [`SEED`].
static CLASSES: SharedWord = SharedWord::new(0);
/// Per vCPU: it has started fuzzing.
static STARTED: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];
/// Per vCPU: it has finished.
static FINISHED: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];

/// The stubs grouped by class: `order[first[c]..first[c] + len[c]]` are
/// the indices in [`STUBS`] of class `c`.
struct Picker {
    order: [u16; MAX_STUBS],
    first: [usize; COUNT],
    len: [usize; COUNT],
    /// The enabled classes that have stubs.
    enabled: [Class; COUNT],
    enabled_len: usize,
}

impl Picker {
    fn new(mask: u64) -> Self {
        let mut p = Picker {
            order: [0; MAX_STUBS],
            first: [0; COUNT],
            len: [0; COUNT],
            enabled: [Class::Hvc; COUNT],
            enabled_len: 0,
        };
        let mut n = 0;
        for class in class::ALL {
            p.first[class.index()] = n;
            for (i, stub) in STUBS.iter().enumerate() {
                if stub.class == class
                    && let Some(slot) = p.order.get_mut(n)
                {
                    *slot = i as u16;
                    n += 1;
                }
            }
            p.len[class.index()] = n - p.first[class.index()];
            if mask & class.bit() != 0 && p.len[class.index()] != 0 {
                p.enabled[p.enabled_len] = class;
                p.enabled_len += 1;
            }
        }
        p
    }

    /// A random stub of a random enabled class, and its index in
    /// [`STUBS`].
    fn pick(&self, rng: &mut Rng) -> Option<(usize, &'static stubs::Stub)> {
        let class = *self.enabled.get(rng.below(self.enabled_len as u64) as usize)?;
        let k = rng.below(self.len[class.index()] as u64) as usize;
        let index = usize::from(*self.order.get(self.first[class.index()] + k)?);
        Some((index, STUBS.get(index)?))
    }
}

/// In VM [`FUZZ_VM_ID`], fuzzes and powers the VM off; in any other VM,
/// returns at once.
pub fn run() {
    if hvc::vm_id() != FUZZ_VM_ID {
        return;
    }
    fuzz_main()
}

/// Prints the class names of `mask`, comma-separated.
fn print_classes(mask: u64) {
    let mut first = true;
    for class in class::ALL.iter().filter(|c| mask & c.bit() != 0) {
        crate::uart::print_fmt(format_args!("{}{}", if first { "" } else { "," }, class.name()));
        first = false;
    }
}

/// vCPU 0's whole run.
fn fuzz_main() -> ! {
    let params = params::read();
    crate::uart::print_fmt(format_args!(
        "fuzz: seed {}, {} ops per vCPU on {} vCPUs, classes ",
        params.seed, params.ops, FUZZ_VCPUS
    ));
    print_classes(params.classes);
    println!();
    SEED.store(params.seed);
    OPS.store(params.ops);
    CLASSES.store(params.classes);
    if let Err(e) = gic::init_distributor().and_then(|()| gic::init_this_cpu()) {
        println!("fuzz: GIC set-up: {} (going on)", e);
    }
    // SAFETY: vCPU 1 enters `_secondary_start`, which expects a fresh vCPU
    // and sends this context id to `secondary_main`.
    let ret = unsafe {
        hvc::call(
            Conduit::Hvc,
            psci::CPU_ON_64,
            [SECOND_VCPU, boot::secondary_entry(), CONTEXT_ID],
        )
    };
    let started = timer::wait_ms(START_WAIT_MS, || {
        STARTED.get(SECOND_VCPU as usize).is_some_and(|w| w.load() != 0)
    });
    if !started {
        println!("fuzz: vCPU {} did not start (CPU_ON returned {:#x})", SECOND_VCPU, ret);
    }
    run_ops(0, &params);
    if let Some(w) = FINISHED.first() {
        w.store(1);
    }
    let finished = watch(SECOND_VCPU);
    restore_uart();
    println!();
    if !finished {
        report_stuck(SECOND_VCPU);
    }
    finish(&params)
}

/// Prints the report and powers the VM off.
fn finish(params: &Params) -> ! {
    report(params);
    let ret = psci::system_off();
    println!("fuzz: system_off returned {}", ret);
    cpu::halt()
}

/// Waits until vCPU `other` has finished (`true`) or has made no progress
/// for [`STALL_MS`] (`false`).
fn watch(other: u64) -> bool {
    let Some(counters) = stats::of(other) else { return true };
    let is_finished = || FINISHED.get(other as usize).is_some_and(|w| w.load() != 0);
    loop {
        let before = counters.done.load();
        if timer::wait_ms(STALL_MS, || is_finished() || counters.done.load() != before) {
            if is_finished() {
                return true;
            }
        } else {
            return false;
        }
    }
}

/// Says that vCPU `cpu` made no progress for [`STALL_MS`], and in which
/// operation.
fn report_stuck(cpu: u64) {
    let Some(c) = stats::of(cpu) else { return };
    let [x0, x1, x2, x3] = c.args.each_ref().map(SharedWord::load);
    println!(
        "fuzz: vCPU {} made no progress for {} ms: stuck in op {} ({} x0={:#x} x1={:#x} x2={:#x} x3={:#x})",
        cpu,
        STALL_MS,
        c.done.load() + 1,
        stats::current_name(cpu),
        x0,
        x1,
        x2,
        x3
    );
}

/// Rust entry of vCPU 1 (from `CPU_ON` with [`CONTEXT_ID`]).
pub fn secondary_main() -> ! {
    let me = cpu::index();
    if let Some(w) = STARTED.get(me as usize) {
        w.store(1);
    }
    let _ = gic::init_this_cpu();
    let params = Params {
        seed: SEED.load(),
        ops: OPS.load(),
        classes: CLASSES.load(),
    };
    run_ops(me, &params);
    if let Some(w) = FINISHED.get(me as usize) {
        w.store(1);
    }
    // vCPU 0 reports; should it get stuck, this vCPU does.
    if !watch(0) {
        restore_uart();
        println!();
        report_stuck(0);
        finish(&params)
    }
    park()
}

/// Where vCPU 1 waits once done, until vCPU 0 powers the VM off. It stays
/// on: vCPU 0 goes on calling `CPU_ON` with random entry points, which
/// must keep answering `ALREADY_ON` (were it off, one of them would start
/// it at a random address). Its timers are stopped and its Group 1
/// interrupts disabled, so that its `WFI` sleeps.
fn park() -> ! {
    timer::vtimer_stop();
    timer::ptimer_stop();
    // SAFETY: disables this vCPU's Group 1 interrupts at its CPU interface;
    // nothing runs here any more that needs them.
    unsafe { core::arch::asm!("msr icc_igrpen1_el1, xzr", "isb", options(nostack, preserves_flags)) };
    cpu::halt()
}

/// Runs this vCPU's operations.
fn run_ops(me: u64, params: &Params) {
    let picker = Picker::new(params.classes);
    let mut rng = Rng::new(params.seed, me);
    let progress_every = (params.ops / PROGRESS_LINES).clamp(1, PROGRESS_MAX_GAP);
    trap::set_active(true);
    for i in 0..params.ops {
        let Some((index, stub)) = picker.pick(&mut rng) else {
            break;
        };
        let args = target::args(&mut rng, stub);
        let wake = matches!(stub.arg, Arg::Wfi | Arg::Suspend);
        stats::start_op(me, index, &args);
        if wake {
            wake::prepare();
        }
        // SAFETY: a stub runs one fuzzed instruction on the registers given;
        // the picker never lets a store or a cache operation reach guest
        // RAM (target.rs), the calls left out are the ones that could end
        // this vCPU or the VM, and every exception it takes is counted and
        // skipped by the handler (trap.rs).
        unsafe { (stub.f)(args[0], args[1], args[2], args[3]) };
        if wake {
            wake::finish();
        }
        stats::end_op(me);
        if me == 0 && (i + 1) % progress_every == 0 {
            let other = stats::of(SECOND_VCPU).map_or(0, |c| c.done.load());
            println!("\nfuzz: vCPU 0 at op {}, vCPU 1 at op {}", i + 1, other);
        }
    }
    trap::set_active(false);
}

/// `UARTCR`: enable, transmit, receive.
const UARTCR: usize = 0x30;
/// `UARTCR` as after reset with the UART on: UARTEN, TXE, RXE.
const UARTCR_ON: u64 = 0x301;
/// `UARTIMSC`: interrupt masks.
const UARTIMSC: usize = 0x38;

/// Puts back the UART registers the fuzzer may have scrambled.
fn restore_uart() {
    // SAFETY: 32-bit stores to UARTCR and UARTIMSC of the PL011.
    unsafe {
        mmio::store(crate::platform::UART_BASE + UARTCR, mmio::Width::W32, UARTCR_ON);
        mmio::store(crate::platform::UART_BASE + UARTIMSC, mmio::Width::W32, 0);
    }
}

/// A name for the exception classes the fuzzer meets.
fn ec_name(ec: usize) -> &'static str {
    match ec {
        0x00 => "unknown reason (undefined)",
        0x01 => "WFI/WFE",
        0x07 => "FP/SIMD access",
        0x0e => "illegal execution state",
        0x15 => "SVC",
        0x16 => "HVC",
        0x17 => "SMC",
        0x18 => "system register",
        0x21 => "instruction abort",
        0x22 => "PC alignment",
        0x25 => "data abort",
        0x26 => "SP alignment",
        0x2f => "SError",
        0x31 => "breakpoint",
        0x33 => "software step",
        0x35 => "watchpoint",
        0x3c => "BRK",
        stats::EC_ASYNC_ROW => "SError/FIQ taken",
        _ => "other",
    }
}

/// A name for the data abort fault status codes the fuzzer meets.
fn dfsc_name(dfsc: usize) -> &'static str {
    match dfsc {
        0x00..=0x03 => "address size fault",
        0x04..=0x07 => "translation fault",
        0x09..=0x0b => "access flag fault",
        0x0d..=0x0f => "permission fault",
        0x10 => "synchronous external abort",
        0x21 => "alignment fault",
        0x30 => "TLB conflict",
        0x35 => "implementation defined (lockdown)",
        0x34 => "implementation defined (exclusive)",
        _ => "other",
    }
}

/// Prints the report (see the module doc).
fn report(params: &Params) {
    println!("fuzz: report for seed {}", params.seed);
    for class in class::ALL.iter().filter(|c| params.classes & c.bit() != 0) {
        let i = class.index();
        let ops = stats::total(|c| stats::at(&c.ops, i));
        let exc = stats::total(|c| stats::at(&c.by_class, i));
        println!("fuzz: class {}: {} ops, {} exceptions", class.name(), ops, exc);
    }
    for ec in 0..stats::EC_COUNT {
        let n = stats::total(|c| stats::at(&c.by_ec, ec));
        if n != 0 {
            println!("fuzz: exception class {:#04x} ({}): {}", ec, ec_name(ec), n);
        }
    }
    for dfsc in 0..64 {
        let n = stats::total(|c| stats::at(&c.by_dfsc, dfsc));
        if n != 0 {
            println!("fuzz: data abort status {:#04x} ({}): {}", dfsc, dfsc_name(dfsc), n);
        }
    }
    let ops = stats::total(|c| c.done.load());
    let exceptions: u64 = (0..stats::EC_COUNT)
        .map(|ec| stats::total(|c| stats::at(&c.by_ec, ec)))
        .fold(0, u64::wrapping_add);
    println!(
        "fuzz: finished seed {}: {} ops on {} vCPUs, {} exceptions taken",
        params.seed, ops, FUZZ_VCPUS, exceptions
    );
}
