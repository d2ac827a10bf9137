//! The test guest: a bare-metal aarch64 program that runs at EL1 under the
//! hypervisor and checks the guest-facing contract, then times exits.
//!
//! # What it owns
//!
//! The guest side of the contract in `platform.rs`: entered at
//! `0x4008_0000` (its link address) at EL1h with the MMU off and `X0` = the
//! DTB address; a PL011 at `0x0900_0000`; the vendor hypercalls and PSCI
//! 1.1 over `HVC #0` / `SMC #0`; the test device at `0x0A00_0000`; nothing
//! mapped at `0x2000_0000` (a load there takes a data abort) nor just past
//! its RAM (a branch there, from EL1 or EL0, takes an instruction abort);
//! a write of `ICC_SGI0R_EL1` answered with an
//! injected Undefined Instruction exception; a GICv3 (distributor at
//! `0x0800_0000`, redistributors from `0x080A_0000`, the CPU interface
//! through the `ICC_*` registers) delivering the EL1 virtual timer (PPI
//! 27), the EL1 physical timer (PPI 30) and SGIs between vCPUs; a virtual
//! count equal to the physical count (`CNTVOFF_EL2` zero) and a virtual
//! timer that a compare value near 2^64 never fires nor hangs; ID
//! registers that show only what the hypervisor supports (no SVE, SME,
//! PMU, trace, ...), those features' registers undefined and the debug
//! registers emulated; two vCPUs (four in the
//! passthrough VMs below, at most [`platform::NUM_VCPUS`]); its 64 MiB of RAM
//! and its FP/SIMD registers its own (the isolation check keeps markers at
//! `0x4300_0000` and `0x4300_1000`, and a pattern in `V31`, for about
//! 200 ms, to catch a hypervisor that backs two VMs running this guest with
//! the same memory or does not switch FP/SIMD state between vCPUs that
//! share a CPU). It prints one `PASS`/`FAIL` (or `SKIP`) line per check
//! (the QEMU test matches them); then prompts `testguest: type a line` and
//! prints `testguest: console input: <text>` (or `none`) for what the UART
//! received within 2 s, which counts as neither pass nor fail; then a
//! summary, `bench:` lines, and powers the VM off with PSCI `SYSTEM_OFF`.
//!
//! It does not parse the DTB (only its header is checked) or allocate.
//! Interrupts are masked except while an interrupt check, the timer and
//! SGI benchmarks or the ticker mode wait for one. The target is soft-float: FP/SIMD is enabled at EL1 only so
//! that the isolation check can keep its pattern in `V31`, which nothing
//! else uses.
//!
//! # Crash mode
//!
//! **VM id 66 crashes on purpose.** Right after `PASS uart` the guest asks
//! `HC_VM_ID`; in VM 66 it prints `testguest: VM 66 crashes on purpose`,
//! clears `VBAR_EL1` (no vector table) and loads from the unmapped
//! `0x2000_0000`. The hypervisor cannot deliver that abort and must stop
//! the VM; the QEMU test that gives a VM id 66 checks that the faulting VM
//! is stopped while the other VMs run on. Should execution go on, the guest
//! prints `FAIL crash mode survived` and powers off. Any other VM id runs
//! the checks as usual.
//!
//! # Spin mode
//!
//! **VM id 77 spins forever.** Right after `PASS uart` (where the crash
//! mode hooks in) it prints `testguest: VM 77 spins with interrupts
//! masked`, masks every interrupt (`DAIF` all set) and loops with no `WFI`
//! and no exit of its own. Only the host's timer takes it off its CPU: the
//! QEMU test that puts it on a CPU with another VM's vCPU checks that the
//! other VM still gets its share (its timer checks pass).
//!
//! # Ticker mode
//!
//! **VM id 88 ticks forever.** Right after `PASS uart` it sets up the GIC
//! and prints `testguest: VM 88 ticks every 100 ms of virtual time`; then,
//! every 100 ms of virtual time, `ticker: tick N` (`N` from 1), sleeping in
//! `WFI` until its virtual timer interrupts in between (an idle ticker
//! costs no CPU time). A tick more than 500 ms after the one before it
//! prints `ticker: tick N after a gap of G ms` instead (`G` the measured
//! gap): virtual time runs on while a VM is paused, so after a pause and a
//! resume the next tick shows the pause, and `N` shows that the guest went
//! on where it was rather than booting again.
//!
//! # Timer stress mode
//!
//! **VM ids 55 and 56 stress timer wake-ups.** Right after `PASS uart`
//! both vCPUs arm their virtual timer a short, random time ahead (up to
//! 400 us, from a seeded sequence) and sleep in `WFI` until its interrupt,
//! 1500 times each: with and without an exit between arming and `WFI`,
//! with the timer's PPI asked level-sensitive and edge-triggered. Then vCPU 0
//! prints `timer stress: vCPU 0: ...` (what it went through) and `PASS
//! timer stress N wake-ups on 2 vCPUs`, and the VM powers off. A wake-up
//! the hypervisor loses leaves the vCPU asleep: no `PASS` line.
//!
//! # Flood mode
//!
//! **VM id 44 is a noisy neighbour.** Right after `PASS uart` it prints
//! `testguest: VM 44 floods SGIs, the console and exits`, starts vCPU 1,
//! and from then on, forever, vCPU 0 sends SGIs to vCPU 1 (INTIDs 0 to 15
//! in turn), prints `flood: line N ...` lines as fast as it can and makes
//! trapping exits (hypercalls, test device reads), while vCPU 1 takes the
//! SGIs and makes trapping exits of its own. A test destroys it from the
//! management shell.
//!
//! # Fuzz mode
//!
//! **VM id 99 fuzzes the hypervisor.** Right after `PASS uart` it prompts
//! `fuzz: parameters? (SEED OPS [CLASSES])`, reads that line from the
//! console, and runs a seeded stream of `OPS` hostile operations on each
//! of its two vCPUs: hypercalls and PSCI calls with random ids and
//! arguments, loads and stores of every form to the emulated devices and
//! to unmapped and out-of-range addresses, system registers (GIC CPU
//! interface, timers, ID, PMU, debug, implementation defined), cache and
//! TLB maintenance, `WFI`/`WFE`, undefined encodings and SGIs. Its
//! exception handler counts and skips every exception those instructions
//! take. At the end it prints the operations and exceptions per class and
//! `fuzz: finished seed S: N ops on 2 vCPUs, E exceptions taken`, and
//! powers the VM off. What it leaves out, and why, is in `fuzz/mod.rs`;
//! `make fuzz` runs it (see the README). It shares the vectors, UART, GIC,
//! PSCI and timer code of the checks, and replaces only what they do.
//!
//! # Passthrough checks
//!
//! **VM ids 4 and 5 run three more checks** after the interrupt checks
//! (their VMs have four vCPUs and the host's PL031 RTC at `0x0901_0000`,
//! its SPI 34 forwarded by the hypervisor): `cpu_on race` (vCPUs 1 and 2
//! call PSCI `CPU_ON` of vCPU 3 at the same moment; exactly one wins),
//! `passthrough rtc interrupt` (the RTC interrupts twice, which needs the
//! forwarded line back after the guest's EOI) and `gic bad input`
//! (reserved offsets, unimplemented INTIDs and wrong widths at the virtual
//! GIC read as zero and are ignored; the GIC still works).
//!
//! # Memory model
//!
//! **The MMU stays off** the whole time, so every data access is
//! Device-nGnRnE: code must be alignment-clean (the target has
//! `+strict-align`), and the vCPUs share only [`shared::SharedWord`]s, which
//! are load-acquire / store-release words with no read-modify-write (no
//! exclusives).
//!
//! # Layout
//!
//! `boot` (entry, stacks, `.bss`, FP/SIMD enabled), `exception` (vectors
//! and handler), `irq` (interrupt handlers and their dispatch), `gic` (the
//! GICv3 driver), `gicframe` (any access at any offset of the GIC's
//! frames, for the bad input), `rtc` (the PL031), `uart`, `hvc` and `psci` (calls into the hypervisor),
//! `mmio` and `testdev` (width-exact device access), `checks` (the checks
//! in order, the crash, spin and ticker modes and the console input step
//! included; `timer_stress`, `flood`), `bench`,
//! `timer` (counters and the EL1 timers), `cpu`, `shared`, `fpsimd` (the
//! `V31` accesses), `fuzz` (the fuzz mode); `platform` (the addresses
//! above, the timers' and the RTC's INTIDs, the marker addresses, the
//! crash, spin, ticker, timer stress, flood, fuzz and passthrough VM ids).
//!
//! Build with `build.sh`; it is its own Cargo workspace, not part of the
//! root one.

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, missing_docs)]

#[macro_use]
mod uart;

mod bench;
mod boot;
mod checks;
mod cpu;
mod exception;
mod fpsimd;
mod fuzz;
mod gic;
mod gicframe;
mod hvc;
mod irq;
mod mmio;
mod platform;
mod psci;
mod rtc;
mod shared;
mod testdev;
mod timer;

use core::panic::PanicInfo;

/// Rust entry of the boot vCPU (from `_start`); `dtb` is its `X0`.
extern "C" fn primary_main(dtb: u64) -> ! {
    let mut report = checks::Report::default();
    checks::run_all(&mut report, dtb);
    report.summary();
    bench::run();
    println!("testguest: powering off");
    let ret = psci::system_off();
    println!("FAIL system_off returned {}", ret);
    cpu::halt()
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    println!("FAIL panic on vCPU {}: {}", cpu::index(), info);
    psci::system_off();
    cpu::halt()
}
