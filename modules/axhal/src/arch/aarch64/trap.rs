//! The host kernel's EL2 exception vectors.
//!
//! IRQs taken at EL2 go to the interrupt dispatcher. Every other exception
//! taken by the host kernel is a host bug: it is reported (class in words,
//! ESR, FAR, ELR, SPSR, all registers) and the machine stops with a
//! non-zero QEMU exit status. Exceptions from a lower EL never reach these
//! vectors while a guest runs: the vCPU layer installs its own.

use crate::esr;
use aarch64_cpu::registers::{ESR_EL2, FAR_EL2, Readable};
use core::arch::global_asm;

/// Registers saved on exception entry.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct TrapFrame {
    /// x0..x30.
    pub x: [u64; 31],
    /// Return address (ELR_EL2).
    pub elr: u64,
    /// Saved program status (SPSR_EL2).
    pub spsr: u64,
    _pad: u64,
}

/// Which of the four kinds of exception a vector entry takes.
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sync = 0,
    Irq = 1,
    Fiq = 2,
    SError = 3,
}

/// Where the exception came from (the vector table's four groups).
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    CurrentSpEl0 = 0,
    CurrentSpElx = 1,
    LowerAArch64 = 2,
    LowerAArch32 = 3,
}

global_asm!(
    r#"
.macro SAVE_REGS
    sub     sp, sp, #{frame}
    stp     x0, x1, [sp, #0 * 8]
    stp     x2, x3, [sp, #2 * 8]
    stp     x4, x5, [sp, #4 * 8]
    stp     x6, x7, [sp, #6 * 8]
    stp     x8, x9, [sp, #8 * 8]
    stp     x10, x11, [sp, #10 * 8]
    stp     x12, x13, [sp, #12 * 8]
    stp     x14, x15, [sp, #14 * 8]
    stp     x16, x17, [sp, #16 * 8]
    stp     x18, x19, [sp, #18 * 8]
    stp     x20, x21, [sp, #20 * 8]
    stp     x22, x23, [sp, #22 * 8]
    stp     x24, x25, [sp, #24 * 8]
    stp     x26, x27, [sp, #26 * 8]
    stp     x28, x29, [sp, #28 * 8]
    mrs     x9, elr_el2
    mrs     x10, spsr_el2
    stp     x30, x9, [sp, #30 * 8]
    str     x10, [sp, #32 * 8]
.endm

.macro RESTORE_REGS
    ldp     x30, x9, [sp, #30 * 8]
    ldr     x10, [sp, #32 * 8]
    msr     elr_el2, x9
    msr     spsr_el2, x10
    ldp     x0, x1, [sp, #0 * 8]
    ldp     x2, x3, [sp, #2 * 8]
    ldp     x4, x5, [sp, #4 * 8]
    ldp     x6, x7, [sp, #6 * 8]
    ldp     x8, x9, [sp, #8 * 8]
    ldp     x10, x11, [sp, #10 * 8]
    ldp     x12, x13, [sp, #12 * 8]
    ldp     x14, x15, [sp, #14 * 8]
    ldp     x16, x17, [sp, #16 * 8]
    ldp     x18, x19, [sp, #18 * 8]
    ldp     x20, x21, [sp, #20 * 8]
    ldp     x22, x23, [sp, #22 * 8]
    ldp     x24, x25, [sp, #24 * 8]
    ldp     x26, x27, [sp, #26 * 8]
    ldp     x28, x29, [sp, #28 * 8]
    add     sp, sp, #{frame}
.endm

// One vector entry is 32 instructions: save, then the shared tail. `.org`
// places each entry at its slot and fails the build if the one before it
// outgrew its 128 bytes.
.macro VECTOR kind, source
.org host_exception_vectors + (\source * 4 + \kind) * 0x80
    SAVE_REGS
    mov     x0, sp
    mov     x1, #\kind
    mov     x2, #\source
    b       host_trap_common
.endm

.section .text
host_trap_common:
    bl      {handler}
    RESTORE_REGS
    eret

.p2align 11
.global host_exception_vectors
host_exception_vectors:
    VECTOR 0, 0
    VECTOR 1, 0
    VECTOR 2, 0
    VECTOR 3, 0
    VECTOR 0, 1
    VECTOR 1, 1
    VECTOR 2, 1
    VECTOR 3, 1
    VECTOR 0, 2
    VECTOR 1, 2
    VECTOR 2, 2
    VECTOR 3, 2
    VECTOR 0, 3
    VECTOR 1, 3
    VECTOR 2, 3
    VECTOR 3, 3
"#,
    frame = const core::mem::size_of::<TrapFrame>(),
    handler = sym handle_exception,
);

unsafe extern "C" {
    safe static host_exception_vectors: [u8; 0];
}

/// Points VBAR_EL2 at the host vectors on this CPU.
pub fn install_vectors() {
    use aarch64_cpu::registers::{VBAR_EL2, Writeable};
    VBAR_EL2.set(host_exception_vectors.as_ptr() as u64);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

extern "C" fn handle_exception(tf: &mut TrapFrame, kind: u64, source: u64) {
    if kind == Kind::Irq as u64 && source == Source::CurrentSpElx as u64 {
        crate::irq::dispatch_current();
        return;
    }
    report(tf, kind, source);
    crate::power::fail_exit();
}

fn kind_name(kind: u64) -> &'static str {
    match kind {
        k if k == Kind::Sync as u64 => "synchronous exception",
        k if k == Kind::Irq as u64 => "IRQ",
        k if k == Kind::Fiq as u64 => "FIQ",
        k if k == Kind::SError as u64 => "SError",
        _ => "exception",
    }
}

fn source_name(source: u64) -> &'static str {
    match source {
        s if s == Source::CurrentSpEl0 as u64 => "EL2 with SP_EL0",
        s if s == Source::CurrentSpElx as u64 => "EL2",
        s if s == Source::LowerAArch64 as u64 => "a lower EL (AArch64)",
        s if s == Source::LowerAArch32 as u64 => "a lower EL (AArch32)",
        _ => "?",
    }
}

/// Prints the unexpected exception: what it was, the syndrome and the
/// registers. Writes straight to the console (breaking its lock if the
/// crashed code held it), so it works whatever state the logger is in.
fn report(tf: &TrapFrame, kind: u64, source: u64) {
    let esr = ESR_EL2.get();
    let far = FAR_EL2.get();
    let ec = esr::exception_class(esr);
    let iss = esr::iss(esr);
    let p = crate::console::print_fmt_emergency;
    p(format_args!(
        "\nUnhandled exception: {} from {}\n",
        kind_name(kind),
        source_name(source)
    ));
    if kind == Kind::Sync as u64 {
        p(format_args!("  class {ec:#04x}: {}\n", esr::class_name(ec)));
        if matches!(ec, 0x20 | 0x21 | 0x24 | 0x25) {
            p(format_args!("  fault: {}\n", esr::fault_status_name(iss)));
        }
    }
    p(format_args!("  ESR_EL2 {esr:#018x}  FAR_EL2 {far:#018x}\n"));
    p(format_args!("  ELR_EL2 {:#018x}  SPSR_EL2 {:#018x}\n", tf.elr, tf.spsr));
    for (i, pair) in tf.x.chunks(2).enumerate() {
        match pair {
            [a, b] => p(format_args!("  x{:<2} {a:#018x}  x{:<2} {b:#018x}\n", 2 * i, 2 * i + 1)),
            [a] => p(format_args!("  x{:<2} {a:#018x}\n", 2 * i)),
            _ => {}
        }
    }
}
