//! Where every vector lands ([`dispatch`], from the stubs in `idt.rs`): an
//! exception is never expected, so it prints `FAIL exception ...` and
//! powers off; the timer vector counts its interrupt; the spurious vector
//! is ignored; any other interrupt is counted as unexpected (and
//! acknowledged).

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::platform::{SPURIOUS_VECTOR, TIMER_VECTOR};
use crate::{cpu, lapic, power, tsc, uart};

/// The vectors below this are exceptions.
const FIRST_INTERRUPT_VECTOR: u64 = 32;
/// The page-fault vector (`CR2` holds the address).
const PAGE_FAULT_VECTOR: u64 = 14;

/// What the stubs and the CPU leave on the stack, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    /// Saved `RAX`.
    pub rax: u64,
    /// Saved `RCX`.
    pub rcx: u64,
    /// Saved `RDX`.
    pub rdx: u64,
    /// Saved `RSI`.
    pub rsi: u64,
    /// Saved `RDI`.
    pub rdi: u64,
    /// Saved `R8`.
    pub r8: u64,
    /// Saved `R9`.
    pub r9: u64,
    /// Saved `R10`.
    pub r10: u64,
    /// Saved `R11`.
    pub r11: u64,
    /// The vector (pushed by the stub).
    pub vector: u64,
    /// The error code (the CPU's, or 0 from the stub).
    pub error: u64,
    /// Where the interrupted code was.
    pub rip: u64,
    /// Its `CS`.
    pub cs: u64,
    /// Its `RFLAGS`.
    pub rflags: u64,
    /// Its `RSP`.
    pub rsp: u64,
    /// Its `SS`.
    pub ss: u64,
}

/// Timer interrupts taken so far (both vCPUs; only the first arms it).
static TIMER_COUNT: AtomicU64 = AtomicU64::new(0);
/// The TSC when the last timer interrupt was taken.
static TIMER_LAST_TSC: AtomicU64 = AtomicU64::new(0);
/// Interrupts with no handler taken so far.
static UNEXPECTED_COUNT: AtomicU64 = AtomicU64::new(0);
/// The vector of the last of them.
static UNEXPECTED_LAST: AtomicU64 = AtomicU64::new(0);

/// How many timer interrupts have been taken, and the TSC at the last.
pub fn timer_interrupts() -> (u64, u64) {
    (TIMER_COUNT.load(Ordering::Acquire), TIMER_LAST_TSC.load(Ordering::Acquire))
}

/// How many unexpected interrupts have been taken, and the last vector.
pub fn unexpected_interrupts() -> (u64, u64) {
    (UNEXPECTED_COUNT.load(Ordering::Acquire), UNEXPECTED_LAST.load(Ordering::Acquire))
}

/// The Rust side of every vector; `frame` is on the interrupted stack.
pub extern "C" fn dispatch(frame: &mut TrapFrame) {
    match frame.vector {
        v if v < FIRST_INTERRUPT_VECTOR => exception(frame),
        v if v == u64::from(TIMER_VECTOR) => {
            TIMER_LAST_TSC.store(tsc::now(), Ordering::Release);
            TIMER_COUNT.fetch_add(1, Ordering::AcqRel);
            lapic::eoi();
        }
        v if v == u64::from(SPURIOUS_VECTOR) => {}
        v => {
            UNEXPECTED_LAST.store(v, Ordering::Release);
            UNEXPECTED_COUNT.fetch_add(1, Ordering::AcqRel);
            lapic::eoi();
        }
    }
}

/// Reads `CR2`, the address of the last page fault.
fn cr2() -> u64 {
    let value;
    // SAFETY: reading CR2 has no effect.
    unsafe { asm!("mov {}, cr2", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Reports an exception and powers off.
fn exception(frame: &TrapFrame) -> ! {
    // The interrupted code may hold the console lock: print without it.
    uart::print_fmt_unlocked(format_args!(
        "FAIL exception {} at {:#x} (error {:#x})",
        frame.vector, frame.rip, frame.error
    ));
    if frame.vector == PAGE_FAULT_VECTOR {
        uart::print_fmt_unlocked(format_args!(" cr2 {:#x}", cr2()));
    }
    uart::print_fmt_unlocked(format_args!("\n"));
    power::off();
    uart::print_fmt_unlocked(format_args!("FAIL power off returned\n"));
    cpu::halt()
}
