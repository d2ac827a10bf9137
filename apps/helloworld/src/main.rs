//! The host kernel alone, as a smoke test of the OS modules: every CPU says
//! hello with its hardware id (MPIDR on aarch64, APIC ID on x86_64), takes
//! 5 timer interrupts, the boot CPU allocates from the heap and the frame
//! allocator and checks `memcpy` (on aarch64 the kernel's own), every other CPU wakes the boot CPU with a wake-up interrupt
//! (an inter-processor interrupt), then the machine powers off.
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

/// Says hello, waits (WFI/HLT) for this CPU's timer ticks, reports them.
fn hello_and_ticks(cpu_id: usize) {
    in_turn(&HELLO_TURN, cpu_id, || {
        ax_println!(
            "Hello from CPU {cpu_id}, {} {:#x}",
            axhal::cpu::HW_ID_NAME,
            axhal::cpu::hw_id()
        )
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

/// The longest copy [`check_memcpy`] tries.
const MEMCPY_MAX_LEN: usize = 200;

/// A buffer at a known alignment, so that offsets into it give every
/// alignment modulo 8.
#[repr(align(16))]
struct Aligned([u8; MEMCPY_MAX_LEN + 16]);

/// Copies every length up to [`MEMCPY_MAX_LEN`] from every source offset
/// to every destination offset modulo 8 with `copy_from_slice` (a
/// `memcpy` call, the length not being known at compile time) and checks
/// the result, and the bytes around it, byte by byte. On aarch64 that is
/// the kernel's own `memcpy`. `Err` names the first copy that went wrong.
fn check_memcpy() -> Result<usize, (usize, usize, usize)> {
    let mut src = Aligned([0; MEMCPY_MAX_LEN + 16]);
    for (i, b) in src.0.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(7).wrapping_add(3);
    }
    let mut checked = 0;
    for from in 0..8 {
        for to in 0..8 {
            for len in 0..=MEMCPY_MAX_LEN {
                let mut dst = Aligned([0xee; MEMCPY_MAX_LEN + 16]);
                let len = core::hint::black_box(len);
                dst.0[to..to + len].copy_from_slice(&src.0[from..from + len]);
                let copied = dst.0[to..to + len].iter().zip(&src.0[from..]).all(|(a, b)| a == b);
                let around = dst.0[..to].iter().chain(&dst.0[to + len..]).all(|&b| b == 0xee);
                if !(copied && around) {
                    return Err((from, to, len));
                }
                checked += 1;
            }
        }
    }
    Ok(checked)
}

#[unsafe(no_mangle)]
fn main() {
    let cpus = axruntime::cpu_count();
    ax_println!("helloworld: {cpus} CPUs online");

    let v: Vec<u64> = (0..1000).collect();
    let b = Box::new(v.iter().sum::<u64>());
    ax_println!("heap: allocated {} bytes, sum {}", v.len() * 8 + 8, *b);

    match check_memcpy() {
        Ok(n) => ax_println!("memcpy: {n} copies (lengths 0 to {MEMCPY_MAX_LEN}, 8 x 8 alignments) match"),
        Err((from, to, len)) => {
            ax_println!("memcpy: FAILED copying {len} bytes from offset {from} to offset {to}")
        }
    }

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
    // Each other CPU sent one wake-up interrupt after its ticks line.
    let wanted = cpus as u64 - 1;
    while axruntime::wakeups_on(0) < wanted {
        axhal::cpu::wait_for_irq();
    }
    ax_println!("CPU 0: {} wake-up interrupts received", axruntime::wakeups_on(0));
    ax_println!("helloworld: all {cpus} CPUs done, powering off");
}

#[unsafe(no_mangle)]
fn secondary_main(cpu_id: usize) {
    hello_and_ticks(cpu_id);
    // Wake CPU 0 once, in turn: only after the previous CPU's wake-up was
    // taken, as two interrupts of one vector (SGI) pending at once are
    // taken as one.
    while axruntime::wakeups_on(0) + 1 < cpu_id as u64 {
        core::hint::spin_loop();
    }
    axhal::irq::wake_cpu(0);
}
