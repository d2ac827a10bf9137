//! The world switch: entering a guest and the EL2 vectors that bring it
//! back.
//!
//! `__arm_vcpu_run(regs)` saves the host's callee-saved registers on the
//! host stack, stores the host stack pointer right after the guest's
//! [`TrapFrame`], points SP_EL2 at the end of that frame and VBAR_EL2 at
//! the guest vectors, loads the guest registers and `eret`s. When the guest
//! traps, the lower-EL vector pushes the guest registers with SP_EL2, which
//! lands them exactly in the frame, switches back to the host stack and
//! vectors, and returns from `__arm_vcpu_run` with the exception kind.
//!
//! Exceptions taken from EL2 itself can reach the guest vectors only in
//! the few instructions around the `eret` (IRQs are masked there). Those
//! entries put the host vectors back in VBAR_EL2 and return to the
//! interrupted instruction, so the host takes the exception again and
//! reports it as it would any other host fault.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU64, Ordering};

/// Guest general-purpose registers and the exception return state.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// x0..x30.
    pub x: [u64; 31],
    /// The guest PC (ELR_EL2).
    pub elr: u64,
    /// The guest PSTATE (SPSR_EL2).
    pub spsr: u64,
    _pad: u64,
}

/// The frame plus the host stack pointer slot the exit path reads.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct VmRegs {
    pub frame: TrapFrame,
    host_sp: u64,
}

/// The kind of exception that ended a guest run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ExitKind {
    Sync,
    Irq,
    Fiq,
    SError,
}

impl ExitKind {
    fn from_raw(v: u64) -> Self {
        match v {
            0 => Self::Sync,
            1 => Self::Irq,
            2 => Self::Fiq,
            _ => Self::SError,
        }
    }
}

/// VBAR_EL2 of the host, restored on every exit. Set by
/// `Aarch64PerCpu::hardware_enable` (the same value on every CPU).
pub(super) static HOST_VBAR: AtomicU64 = AtomicU64::new(0);

const FRAME_SIZE: usize = core::mem::size_of::<TrapFrame>();

global_asm!(
    r#"
.macro GUEST_EXIT kind
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
    mov     x0, #\kind
    b       __arm_vcpu_exit
.endm

// An exception from EL2 on the guest vectors: let the host vectors take it.
.macro RETRY_ON_HOST
    stp     x0, x1, [sp, #-16]!
    adrp    x0, {host_vbar}
    ldr     x0, [x0, :lo12:{host_vbar}]
    msr     vbar_el2, x0
    isb
    ldp     x0, x1, [sp], #16
    eret
.endm

.macro SLOT index
.org __arm_vcpu_vectors + \index * 0x80
.endm

.section .text
.p2align 11
.global __arm_vcpu_vectors
__arm_vcpu_vectors:
    SLOT 0
    RETRY_ON_HOST
    SLOT 1
    RETRY_ON_HOST
    SLOT 2
    RETRY_ON_HOST
    SLOT 3
    RETRY_ON_HOST
    SLOT 4
    RETRY_ON_HOST
    SLOT 5
    RETRY_ON_HOST
    SLOT 6
    RETRY_ON_HOST
    SLOT 7
    RETRY_ON_HOST
    SLOT 8
    GUEST_EXIT 0
    SLOT 9
    GUEST_EXIT 1
    SLOT 10
    GUEST_EXIT 2
    SLOT 11
    GUEST_EXIT 3
    SLOT 12
    GUEST_EXIT 0
    SLOT 13
    GUEST_EXIT 1
    SLOT 14
    GUEST_EXIT 2
    SLOT 15
    GUEST_EXIT 3

__arm_vcpu_exit:
    adrp    x1, {host_vbar}
    ldr     x1, [x1, :lo12:{host_vbar}]
    msr     vbar_el2, x1
    isb
    ldr     x1, [sp, #{frame}]
    mov     sp, x1
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    add     sp, sp, #96
    ret

// x0 = &VmRegs. Returns the exit kind in x0.
.global __arm_vcpu_run
__arm_vcpu_run:
    sub     sp, sp, #96
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    mov     x1, sp
    str     x1, [x0, #{frame}]
    add     sp, x0, #{frame}
    adrp    x1, __arm_vcpu_vectors
    add     x1, x1, :lo12:__arm_vcpu_vectors
    msr     vbar_el2, x1
    ldp     x1, x2, [x0, #31 * 8]
    msr     elr_el2, x1
    msr     spsr_el2, x2
    ldp     x2, x3, [x0, #2 * 8]
    ldp     x4, x5, [x0, #4 * 8]
    ldp     x6, x7, [x0, #6 * 8]
    ldp     x8, x9, [x0, #8 * 8]
    ldp     x10, x11, [x0, #10 * 8]
    ldp     x12, x13, [x0, #12 * 8]
    ldp     x14, x15, [x0, #14 * 8]
    ldp     x16, x17, [x0, #16 * 8]
    ldp     x18, x19, [x0, #18 * 8]
    ldp     x20, x21, [x0, #20 * 8]
    ldp     x22, x23, [x0, #22 * 8]
    ldp     x24, x25, [x0, #24 * 8]
    ldp     x26, x27, [x0, #26 * 8]
    ldp     x28, x29, [x0, #28 * 8]
    ldr     x30, [x0, #30 * 8]
    ldp     x0, x1, [x0, #0 * 8]
    eret
"#,
    frame = const FRAME_SIZE,
    host_vbar = sym HOST_VBAR,
);

unsafe extern "C" {
    fn __arm_vcpu_run(regs: *mut VmRegs) -> u64;
}

/// Runs the guest whose registers are in `regs` until it traps to EL2.
///
/// # Safety
///
/// IRQs must be masked, the guest's EL2 controls (HCR_EL2, VTTBR_EL2,
/// VTCR_EL2) and EL1 context must be loaded on this CPU, and
/// `Aarch64PerCpu::hardware_enable` must have run (so the exit path finds
/// the host vectors).
pub(super) unsafe fn run_guest(regs: &mut VmRegs) -> ExitKind {
    debug_assert_ne!(HOST_VBAR.load(Ordering::Relaxed), 0);
    // SAFETY: per this function's contract; `regs` stays borrowed for the
    // whole run, and the assembly only touches the frame and host_sp slot.
    ExitKind::from_raw(unsafe { __arm_vcpu_run(regs) })
}
