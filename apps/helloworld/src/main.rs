//! The host kernel alone, as a smoke test of the OS modules: every CPU says
//! hello with its MPIDR, takes 5 timer interrupts, the boot CPU allocates
//! from the heap and the frame allocator, then the machine powers off.
//!
//! CPUs print in turn (CPU 0, 1, 2, ...) so the output is the same on every
//! run and a test can match it line by line.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::{boxed::Box, vec::Vec};
use axlog::ax_println;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Timer interrupts each CPU waits for.
const TICKS_WANTED: u64 = 5;

/// Whose turn it is to print the hello line, then the ticks line.
static HELLO_TURN: AtomicUsize = AtomicUsize::new(0);
static TICKS_TURN: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` when it is `cpu_id`'s turn on `turn`, then passes the turn on.
fn in_turn(turn: &AtomicUsize, cpu_id: usize, f: impl FnOnce()) {
    while turn.load(Ordering::Acquire) != cpu_id {
        core::hint::spin_loop();
    }
    f();
    turn.store(cpu_id + 1, Ordering::Release);
}

/// Says hello, waits (in WFI) for this CPU's timer ticks, reports them.
fn hello_and_ticks(cpu_id: usize) {
    in_turn(&HELLO_TURN, cpu_id, || {
        ax_println!("Hello from CPU {cpu_id}, MPIDR {:#x}", axhal::cpu::mpidr())
    });
    let start = axruntime::ticks_on(cpu_id);
    while axruntime::ticks_on(cpu_id) < start + TICKS_WANTED {
        axhal::cpu::wait_for_irq();
    }
    let taken = axruntime::ticks_on(cpu_id) - start;
    in_turn(&TICKS_TURN, cpu_id, || {
        ax_println!("CPU {cpu_id}: {taken} timer interrupts taken")
    });
}

#[unsafe(no_mangle)]
fn main() {
    let cpus = axruntime::cpu_count();
    ax_println!("helloworld: {cpus} CPUs online");

    let v: Vec<u64> = (0..1000).collect();
    let b = Box::new(v.iter().sum::<u64>());
    ax_println!("heap: allocated {} bytes, sum {}", v.len() * 8 + 8, *b);

    match axalloc::alloc_frames(4, 4) {
        Some(addr) => {
            ax_println!("frames: allocated 4 frames at {addr:#x}");
            axalloc::dealloc_frames(addr, 4, 4);
        }
        None => ax_println!("frames: allocation FAILED"),
    }

    hello_and_ticks(0);
    while TICKS_TURN.load(Ordering::Acquire) < cpus {
        axhal::cpu::wait_for_irq();
    }
    ax_println!("helloworld: all {cpus} CPUs done, powering off");
}

#[unsafe(no_mangle)]
fn secondary_main(cpu_id: usize) {
    hello_and_ticks(cpu_id);
}
