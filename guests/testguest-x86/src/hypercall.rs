//! Calls into the hypervisor: `VMMCALL` (AMD SVM) or `VMCALL` (Intel VMX),
//! the number in `RAX`, arguments in `RBX`, `RCX`, `RDX`, `RSI`, the result
//! in `RAX`. The numbers are the aarch64 ABI's; an unknown one returns -1.
//!
//! The hypervisor hides the SVM and VMX feature bits, so the instruction is
//! chosen by the CPU vendor ([`init`]). On bare hardware both raise `#UD`:
//! the checks do not call them there.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::cpuid;

/// Returns the ABI version, `major << 16 | minor`.
pub const HC_VERSION: u64 = 0xC600_0000;
/// Returns the id of the calling VM.
pub const HC_VM_ID: u64 = 0xC600_0001;
/// Prints the byte in `RBX` on the VM's console; returns 0.
pub const HC_PUTCHAR: u64 = 0xC600_0002;
/// Returns the id of the calling vCPU.
pub const HC_CPU_ID: u64 = 0xC600_0003;

/// The ABI version this guest is written for: 1.0.
pub const HC_ABI_VERSION: u64 = 1 << 16;
/// What a successful call that returns nothing else returns.
pub const SUCCESS: u64 = 0;
/// What an unknown call returns: -1 as the 64-bit register value.
pub const NOT_SUPPORTED: u64 = -1i64 as u64;

/// Set by [`init`] on an Intel CPU: call with `VMCALL`, not `VMMCALL`.
static USE_VMCALL: AtomicBool = AtomicBool::new(false);

/// Chooses the instruction from the CPU vendor; returns its name.
pub fn init() -> &'static str {
    let intel = cpuid::is_intel();
    USE_VMCALL.store(intel, Ordering::Relaxed);
    instruction()
}

/// The name of the instruction [`call`] uses.
pub fn instruction() -> &'static str {
    if USE_VMCALL.load(Ordering::Relaxed) { "VMCALL" } else { "VMMCALL" }
}

/// Makes hypercall `number` with `args` in `RBX`, `RCX`, `RDX`, `RSI`;
/// returns `RAX`. The argument registers are treated as clobbered.
///
/// Only under the hypervisor: on bare hardware it raises `#UD`, which the
/// exception handler reports as a failure.
pub fn call(number: u64, args: [u64; 4]) -> u64 {
    let result;
    // RBX is reserved by the compiler, so the first argument is swapped
    // into it around the call and the caller's RBX swapped back.
    if USE_VMCALL.load(Ordering::Relaxed) {
        // SAFETY: a hypercall; the hypervisor changes no memory of this
        // program and no register but RAX (and the ones clobbered here).
        unsafe {
            asm!(
                "xchg {a0}, rbx", "vmcall", "xchg {a0}, rbx",
                a0 = inout(reg) args[0] => _,
                inout("rax") number => result,
                inout("rcx") args[1] => _, inout("rdx") args[2] => _, inout("rsi") args[3] => _,
                options(nostack)
            )
        };
    } else {
        // SAFETY: as above, with the AMD instruction.
        unsafe {
            asm!(
                "xchg {a0}, rbx", "vmmcall", "xchg {a0}, rbx",
                a0 = inout(reg) args[0] => _,
                inout("rax") number => result,
                inout("rcx") args[1] => _, inout("rdx") args[2] => _, inout("rsi") args[3] => _,
                options(nostack)
            )
        };
    }
    result
}

/// Makes hypercall `number` with no arguments.
pub fn query(number: u64) -> u64 {
    call(number, [0; 4])
}

/// `HC_VERSION`.
pub fn version() -> u64 {
    query(HC_VERSION)
}

/// `HC_VM_ID`.
pub fn vm_id() -> u64 {
    query(HC_VM_ID)
}

/// `HC_CPU_ID`.
pub fn cpu_id() -> u64 {
    query(HC_CPU_ID)
}

/// `HC_PUTCHAR` of `byte`.
pub fn putchar(byte: u8) -> u64 {
    call(HC_PUTCHAR, [u64::from(byte), 0, 0, 0])
}
