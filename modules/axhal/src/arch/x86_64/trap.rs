//! The host kernel's interrupt and exception entry.
//!
//! All 256 vectors enter through a stub (16 bytes each, from
//! `trap_stubs`) that pushes a zero where the CPU pushes no error code,
//! then the vector number, and jumps to the common path, which saves every
//! general-purpose register and calls [`handle_trap`] with the frame.
//!
//! Vectors 32 and up are interrupts: they go to the IRQ dispatcher. An
//! exception (0-31) taken by the host kernel is a host bug: it is reported
//! (vector in words, error code decoded, RIP, CR2 for a page fault, all
//! registers) and the machine stops with a non-zero QEMU exit status.

use crate::x86_exception::{self as exc, Vector};
use core::arch::global_asm;
use x86_64::registers::control::{Cr0, Cr2, Cr3, Cr4};

/// Registers saved on entry, lowest address first.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// The vector, pushed by the stub.
    pub vector: u64,
    /// The CPU's error code, or 0 pushed by the stub.
    pub error_code: u64,
    /// The interrupt frame pushed by the CPU.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Bytes per entry stub.
pub const STUB_SIZE: usize = 16;

global_asm!(
    r#"
.pushsection .text
.p2align 4
.global trap_stubs
trap_stubs:
.set trap_vec, 0
.rept 256
    // `.org` fails the build if the stub before outgrew its 16 bytes.
    .org trap_stubs + trap_vec * {stub_size}
    .if trap_vec == 8 || (trap_vec >= 10 && trap_vec <= 14) || trap_vec == 17 || trap_vec == 21 || trap_vec == 29 || trap_vec == 30
    .else
    push    $0
    .endif
    push    $trap_vec
    jmp     trap_common
    .set trap_vec, trap_vec + 1
.endr

trap_common:
    push    %rax
    push    %rbx
    push    %rcx
    push    %rdx
    push    %rsi
    push    %rdi
    push    %rbp
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    cld
    mov     %rsp, %rdi
    call    {handler}
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rbp
    pop     %rdi
    pop     %rsi
    pop     %rdx
    pop     %rcx
    pop     %rbx
    pop     %rax
    add     $16, %rsp
    iretq
.popsection
"#,
    stub_size = const STUB_SIZE,
    handler = sym handle_trap,
    options(att_syntax)
);

unsafe extern "C" {
    safe static trap_stubs: [u8; 0];
}

/// Address of the entry stub of `vector`.
pub(super) fn stub_addr(vector: u8) -> u64 {
    trap_stubs.as_ptr() as u64 + vector as u64 * STUB_SIZE as u64
}

extern "C" fn handle_trap(tf: &mut TrapFrame) {
    let Ok(vector) = u8::try_from(tf.vector) else {
        return;
    };
    if vector == super::lapic::SPURIOUS_VECTOR {
        return; // no EOI for a spurious interrupt
    }
    if vector >= exc::FIRST_INTERRUPT {
        crate::irq::handle(vector as u32);
        return;
    }
    report(tf, Vector(vector));
    crate::power::fail_exit();
}

/// Prints the unexpected exception: what it was, its error code in words,
/// where, and the registers. Writes straight to the console (breaking its
/// lock if the crashed code held it), whatever state the logger is in.
fn report(tf: &TrapFrame, v: Vector) {
    let p = crate::console::print_fmt_emergency;
    p(format_args!(
        "\nUnhandled exception: {} {} (vector {})\n",
        v.mnemonic(),
        v.name(),
        v.0
    ));
    if v.has_error_code() {
        p(format_args!(
            "  error code {:#018x}: {}\n",
            tf.error_code,
            exc::describe_error_code(v, tf.error_code)
        ));
    } else {
        p(format_args!("  no error code\n"));
    }
    if v == Vector::PAGE_FAULT {
        p(format_args!("  CR2 {:#018x}\n", Cr2::read_raw()));
    }
    p(format_args!(
        "  RIP {:#018x}  CS {:#06x}  RFLAGS {:#018x}\n",
        tf.rip, tf.cs, tf.rflags
    ));
    p(format_args!("  RSP {:#018x}  SS {:#06x}\n", tf.rsp, tf.ss));
    let regs = [
        ("RAX", tf.rax),
        ("RBX", tf.rbx),
        ("RCX", tf.rcx),
        ("RDX", tf.rdx),
        ("RSI", tf.rsi),
        ("RDI", tf.rdi),
        ("RBP", tf.rbp),
        ("R8 ", tf.r8),
        ("R9 ", tf.r9),
        ("R10", tf.r10),
        ("R11", tf.r11),
        ("R12", tf.r12),
        ("R13", tf.r13),
        ("R14", tf.r14),
        ("R15", tf.r15),
    ];
    for pair in regs.chunks(2) {
        match pair {
            [(a, x), (b, y)] => p(format_args!("  {a} {x:#018x}  {b} {y:#018x}\n")),
            [(a, x)] => p(format_args!("  {a} {x:#018x}\n")),
            _ => {}
        }
    }
    p(format_args!(
        "  CR0 {:#018x}  CR3 {:#018x}  CR4 {:#018x}\n",
        Cr0::read_raw(),
        Cr3::read_raw().0.start_address().as_u64(),
        Cr4::read_raw()
    ));
}
