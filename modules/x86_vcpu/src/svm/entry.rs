//! The SVM world switch ([`svm_run`]): VMSAVE the host's hidden state,
//! CLGI, STI, VMLOAD and VMRUN the guest, then VMSAVE the guest, VMLOAD
//! the host, CLI, STGI.
//!
//! VMRUN saves and restores the host's RAX, RSP, RIP and RFLAGS itself and
//! keeps the guest's RAX and RSP in the VMCB; the other general-purpose
//! registers are swapped here through the [`SvmRunFrame`]. Interrupts stay
//! held (GIF = 0) from CLGI until the host's FS/GS/TR state is back; the
//! host's RFLAGS.IF is set across VMRUN because SVM uses it to decide
//! whether a physical interrupt ends the guest's run (APM 15.21.4), and
//! cleared before STGI so that such an interrupt stays pending for the
//! host to take.

use core::arch::naked_asm;
use core::mem::offset_of;

use crate::regs::GeneralRegisters;

/// What the world switch reads and writes.
#[repr(C)]
#[derive(Debug, Default)]
pub(super) struct SvmRunFrame {
    /// The guest's registers (`rax` and `rsp` are in the VMCB; their
    /// slots are not used here).
    pub regs: GeneralRegisters,
    /// Physical address of the guest's VMCB.
    pub vmcb_pa: u64,
    /// Physical address of the page the host's hidden state is VMSAVEd to.
    pub host_save_pa: u64,
}

/// Runs the guest once (until `#VMEXIT`).
///
/// # Safety
///
/// EFER.SVME is on with VM_HSAVE_PA set on this CPU; `frame.vmcb_pa` is a
/// complete, consistent VMCB of this vCPU and `frame.host_save_pa` a page
/// of its own; host interrupts are disabled (they are enabled only inside
/// the GIF = 0 window).
#[unsafe(naked)]
pub(super) unsafe extern "C" fn svm_run(frame: *mut SvmRunFrame) {
    naked_asm!(
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "push rdi",
        "mov rax, [rdi + {host}]",
        "vmsave rax",
        "clgi",
        "sti",
        "mov rax, [rdi + {vmcb}]",
        "vmload rax",
        "mov rcx, [rdi + 8]",
        "mov rdx, [rdi + 16]",
        "mov rbx, [rdi + 24]",
        "mov rbp, [rdi + 40]",
        "mov rsi, [rdi + 48]",
        "mov r8, [rdi + 64]",
        "mov r9, [rdi + 72]",
        "mov r10, [rdi + 80]",
        "mov r11, [rdi + 88]",
        "mov r12, [rdi + 96]",
        "mov r13, [rdi + 104]",
        "mov r14, [rdi + 112]",
        "mov r15, [rdi + 120]",
        "mov rdi, [rdi + 56]",
        "vmrun rax",
        // #VMEXIT: RAX (the VMCB address) and RSP are the host's again.
        "push rdi",
        "mov rdi, [rsp + 8]",
        "mov [rdi + 8], rcx",
        "mov [rdi + 16], rdx",
        "mov [rdi + 24], rbx",
        "mov [rdi + 40], rbp",
        "mov [rdi + 48], rsi",
        "mov [rdi + 64], r8",
        "mov [rdi + 72], r9",
        "mov [rdi + 80], r10",
        "mov [rdi + 88], r11",
        "mov [rdi + 96], r12",
        "mov [rdi + 104], r13",
        "mov [rdi + 112], r14",
        "mov [rdi + 120], r15",
        "pop rcx",
        "mov [rdi + 56], rcx",
        "vmsave rax",
        "mov rax, [rdi + {host}]",
        "vmload rax",
        "cli",
        "stgi",
        "pop rdi",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        host = const offset_of!(SvmRunFrame, host_save_pa),
        vmcb = const offset_of!(SvmRunFrame, vmcb_pa),
    )
}
