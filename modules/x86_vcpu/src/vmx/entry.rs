//! The VMX world switch: [`vmx_enter`] loads the guest's registers and
//! executes VMLAUNCH or VMRESUME; a VM exit lands in [`vmx_exit`] (the
//! VMCS host RIP), which stores the guest's registers and returns from
//! `vmx_enter` to its caller.
//!
//! The guest registers and the host's stack pointer sit in one
//! [`RunFrame`]; the VMCS host RSP points at its `host_stack_top` slot, so
//! at a VM exit the pushes of `vmx_exit` land exactly in `regs`.

use core::arch::naked_asm;
use core::mem::offset_of;

use crate::regs::GeneralRegisters;

/// What the world switch reads and writes, in this order.
#[repr(C)]
#[derive(Debug, Default)]
pub(super) struct RunFrame {
    /// The guest's general-purpose registers (not `rsp`: the VMCS has it).
    pub regs: GeneralRegisters,
    /// The host's stack pointer while the guest runs.
    pub host_stack_top: u64,
}

impl RunFrame {
    /// The value for the VMCS host RSP: the address of `host_stack_top`.
    pub fn host_rsp(&mut self) -> usize {
        core::ptr::addr_of_mut!(self.host_stack_top) as usize
    }
}

/// Enters the guest with `frame`'s registers: VMLAUNCH when `launched` is
/// 0, VMRESUME otherwise. Returns 0 after a VM exit (the guest's registers
/// are then in `frame`), or the RFLAGS of a failed VM entry (CF: no valid
/// VMCS, ZF: see the VM-instruction error).
///
/// # Safety
///
/// VMX is on, this vCPU's VMCS is current and complete, its host RIP is
/// [`vmx_exit`] and its host RSP is `frame.host_rsp()`; `frame` stays in
/// place until this returns.
#[unsafe(naked)]
pub(super) unsafe extern "C" fn vmx_enter(frame: *mut RunFrame, launched: u64) -> u64 {
    naked_asm!(
        // The callee-saved registers of the SysV ABI.
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov [rdi + {top}], rsp",
        // Pop the guest's registers off the frame; set ZF first (pop and
        // lea leave the flags alone).
        "mov rsp, rdi",
        "test rsi, rsi",
        "pop rax",
        "pop rcx",
        "pop rdx",
        "pop rbx",
        "lea rsp, [rsp + 8]",
        "pop rbp",
        "pop rsi",
        "pop rdi",
        "pop r8",
        "pop r9",
        "pop r10",
        "pop r11",
        "pop r12",
        "pop r13",
        "pop r14",
        "pop r15",
        "jnz 2f",
        "vmlaunch",
        "jmp 3f",
        "2:",
        "vmresume",
        "3:",
        // Entry failed: back to the host stack (mov keeps the flags),
        // return RFLAGS.
        "mov rsp, [rsp]",
        "pushfq",
        "pop rax",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        top = const offset_of!(RunFrame, host_stack_top),
    )
}

/// The VMCS host RIP: runs at every VM exit with RSP = the frame's
/// `host_stack_top` slot; stores the guest's registers into the frame and
/// returns 0 from [`vmx_enter`]. Never called directly.
///
/// # Safety
///
/// Only the CPU enters it, at a VM exit of a VMCS set up as [`vmx_enter`]
/// requires.
#[unsafe(naked)]
pub(super) unsafe extern "C" fn vmx_exit() {
    naked_asm!(
        "push r15",
        "push r14",
        "push r13",
        "push r12",
        "push r11",
        "push r10",
        "push r9",
        "push r8",
        "push rdi",
        "push rsi",
        "push rbp",
        "sub rsp, 8",
        "push rbx",
        "push rdx",
        "push rcx",
        "push rax",
        // RSP = &frame.regs; the host stack pointer is right after them.
        "mov rsp, [rsp + {top}]",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "xor eax, eax",
        "ret",
        top = const offset_of!(RunFrame, host_stack_top),
    )
}

/// Runs the host's NMI handler for an NMI that caused a VM exit (VMX
/// consumed it).
pub(super) fn host_nmi() {
    // SAFETY: `int 2` delivers through the host's IDT as an NMI would;
    // the handler is the host's and returns with IRET.
    unsafe { core::arch::asm!("int 2") };
}

/// IA32_VMX_EPT_VPID_CAP bits for INVEPT (SDM A.10).
mod invept_cap {
    /// INVEPT is supported.
    pub const INVEPT: u64 = 1 << 20;
    /// The single-context type is supported.
    pub const SINGLE: u64 = 1 << 25;
}

/// Drops the cached translations derived from the EPT `eptp` (all EPTs'
/// when single-context INVEPT is missing), so that a VM whose table sits
/// where an earlier VM's did sees none of that VM's mappings.
pub(super) fn invept(eptp: u64) {
    /// INVEPT types: single-context, all-context.
    const SINGLE_CONTEXT: u64 = 1;
    const ALL_CONTEXT: u64 = 2;
    let cap = crate::msr::Msr::IA32_VMX_EPT_VPID_CAP.read();
    if cap & invept_cap::INVEPT == 0 {
        return;
    }
    let kind = if cap & invept_cap::SINGLE != 0 {
        SINGLE_CONTEXT
    } else {
        ALL_CONTEXT
    };
    let descriptor: [u64; 2] = [eptp, 0];
    // SAFETY: INVEPT only invalidates TLB entries; the type is one the CPU
    // reports and the descriptor is a valid 16-byte EPTP descriptor.
    unsafe { core::arch::asm!("invept {}, [{}]", in(reg) kind, in(reg) &descriptor, options(nostack)) };
}
