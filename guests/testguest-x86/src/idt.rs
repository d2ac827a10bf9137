//! The 64-bit IDT: 256 interrupt gates, each to a 16-byte stub that pushes
//! the vector (and a zero where the CPU pushes no error code) and jumps to
//! the common entry, which saves the registers the C ABI lets a callee
//! change and calls [`trap::dispatch`](crate::trap::dispatch) with a
//! [`TrapFrame`](crate::trap::TrapFrame).
//!
//! One table serves both vCPUs; [`init`] fills it once (the first vCPU),
//! [`load`] points a vCPU's `IDTR` at it.

use core::arch::{asm, global_asm};
use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::boot::CODE64_SELECTOR;

/// Vectors in the table.
const VECTORS: usize = 256;
/// Bytes between two stubs.
const STUB_SIZE: usize = 16;
/// Gate type: present, DPL 0, 64-bit interrupt gate (interrupts stay off in
/// the handler).
const GATE_INTERRUPT: u64 = 0x8E;

global_asm!(
    r#"
    .section .text.idt_stubs, "ax"
    .p2align 4
    .global idt_stubs
idt_stubs:
    .set    vector, 0
    .rept   {vectors}
    .p2align 4
    // The CPU pushes an error code for #DF, #TS, #NP, #SS, #GP, #PF, #AC,
    // #CP, #VC and #SX.
    .if vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30
    .else
    pushq   $0
    .endif
    pushq   $vector
    jmp     .Ltrap_common
    .set    vector, vector + 1
    .endr

.Ltrap_common:
    push    %r11
    push    %r10
    push    %r9
    push    %r8
    push    %rdi
    push    %rsi
    push    %rdx
    push    %rcx
    push    %rax
    mov     %rsp, %rdi
    cld
    call    {dispatch}
    pop     %rax
    pop     %rcx
    pop     %rdx
    pop     %rsi
    pop     %rdi
    pop     %r8
    pop     %r9
    pop     %r10
    pop     %r11
    add     $16, %rsp
    iretq
    .text
"#,
    vectors = const VECTORS,
    dispatch = sym crate::trap::dispatch,
    options(att_syntax)
);

unsafe extern "C" {
    /// The first stub; stub `v` is at `idt_stubs + 16 * v`. Never called.
    static idt_stubs: u8;
}

/// The table: two words per gate.
struct Idt([AtomicU64; VECTORS * 2]);

/// The IDT both vCPUs load.
static IDT: Idt = Idt([const { AtomicU64::new(0) }; VECTORS * 2]);

/// The two words of an interrupt gate to `handler`: offset bits 0..16,
/// the selector, IST 0, the type, offset bits 16..32; offset bits 32..64.
fn gate(handler: u64) -> [u64; 2] {
    let offset_low = handler & 0xFFFF;
    let offset_mid = (handler >> 16) & 0xFFFF;
    let low = offset_low | (u64::from(CODE64_SELECTOR) << 16) | (GATE_INTERRUPT << 40) | (offset_mid << 48);
    [low, handler >> 32]
}

/// Fills the table with the stubs.
pub fn init() {
    let stubs = ptr::addr_of!(idt_stubs) as u64;
    for vector in 0..VECTORS {
        let [low, high] = gate(stubs + (vector * STUB_SIZE) as u64);
        IDT.0[vector * 2].store(low, Ordering::Relaxed);
        IDT.0[vector * 2 + 1].store(high, Ordering::Relaxed);
    }
}

/// The operand of `LIDT`: limit, then base.
#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

/// Loads the table into this vCPU's `IDTR`.
pub fn load() {
    let pointer = Pointer {
        limit: (VECTORS * 2 * 8 - 1) as u16,
        base: ptr::addr_of!(IDT) as u64,
    };
    // SAFETY: the table lives for the whole program and every gate points
    // at a stub (init ran first on the first vCPU, before any vCPU loads
    // it); LIDT reads the 10-byte pointer only.
    unsafe { asm!("lidt [{}]", in(reg) &pointer, options(readonly, nostack, preserves_flags)) };
}
