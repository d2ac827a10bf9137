//! Calls into the hypervisor (SMC Calling Convention over `HVC #0` or
//! `SMC #0`) and the project's vendor hypercalls.
//!
//! The vendor ABI lives in the SMCCC *Vendor Specific Hypervisor Service*
//! range (fast calls, SMC64): function id in `X0`, arguments in `X1..`,
//! result in `X0`; an unknown id returns `NOT_SUPPORTED` (-1).

use core::arch::asm;

/// Returns the ABI version, `major << 16 | minor`.
pub const HC_VERSION: u64 = 0xC600_0000;
/// Returns the id of the calling VM.
pub const HC_VM_ID: u64 = 0xC600_0001;
/// Prints the byte in `X1` on the VM's console; returns 0.
pub const HC_PUTCHAR: u64 = 0xC600_0002;
/// Returns the id of the calling vCPU.
pub const HC_CPU_ID: u64 = 0xC600_0003;

/// The ABI version this guest is written for: 1.0.
pub const HC_ABI_VERSION: u64 = 1 << 16;
/// SMCCC success.
pub const SUCCESS: u64 = 0;
/// SMCCC `NOT_SUPPORTED` (-1) as the 64-bit register value.
pub const NOT_SUPPORTED: u64 = -1i64 as u64;

/// The instruction that enters the hypervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conduit {
    /// `HVC #0`.
    Hvc,
    /// `SMC #0` (trapped to the hypervisor).
    Smc,
}

/// Makes an SMCCC call with up to three arguments; returns `X0`.
///
/// `X4..X17` are treated as clobbered, as SMCCC 1.0 allows.
///
/// # Safety
///
/// The call must not make the hypervisor break this program's memory, e.g.
/// PSCI `CPU_ON` of an entry point that does not expect a fresh vCPU.
pub unsafe fn call(conduit: Conduit, function: u64, args: [u64; 3]) -> u64 {
    let result;
    // SAFETY: the call only changes what the caller vouches for; the
    // registers SMCCC lets the callee change are declared clobbered.
    unsafe {
        match conduit {
            Conduit::Hvc => asm!(
                "hvc #0",
                inlateout("x0") function => result,
                inlateout("x1") args[0] => _, inlateout("x2") args[1] => _, inlateout("x3") args[2] => _,
                out("x4") _, out("x5") _, out("x6") _, out("x7") _, out("x8") _, out("x9") _,
                out("x10") _, out("x11") _, out("x12") _, out("x13") _, out("x14") _, out("x15") _,
                out("x16") _, out("x17") _,
                options(nostack),
            ),
            Conduit::Smc => asm!(
                "smc #0",
                inlateout("x0") function => result,
                inlateout("x1") args[0] => _, inlateout("x2") args[1] => _, inlateout("x3") args[2] => _,
                out("x4") _, out("x5") _, out("x6") _, out("x7") _, out("x8") _, out("x9") _,
                out("x10") _, out("x11") _, out("x12") _, out("x13") _, out("x14") _, out("x15") _,
                out("x16") _, out("x17") _,
                options(nostack),
            ),
        }
    }
    result
}

/// Calls a vendor hypercall that has no effect on this VM's memory or
/// vCPUs: [`HC_VERSION`], [`HC_VM_ID`], [`HC_CPU_ID`], or an id the ABI does
/// not define (which must answer [`NOT_SUPPORTED`]). Other ids are refused
/// here with [`NOT_SUPPORTED`] without calling.
pub fn query(function: u64) -> u64 {
    if function == HC_PUTCHAR {
        return NOT_SUPPORTED;
    }
    // SAFETY: the ABI gives these ids no side effects on the guest.
    unsafe { call(Conduit::Hvc, function, [0; 3]) }
}

/// [`HC_VERSION`].
pub fn version() -> u64 {
    query(HC_VERSION)
}

/// [`HC_VM_ID`].
pub fn vm_id() -> u64 {
    query(HC_VM_ID)
}

/// [`HC_CPU_ID`].
pub fn cpu_id() -> u64 {
    query(HC_CPU_ID)
}

/// [`HC_PUTCHAR`]: prints `byte` through the hypervisor's console.
pub fn putchar(byte: u8) -> u64 {
    // SAFETY: HC_PUTCHAR only writes the byte to the VM's console.
    unsafe { call(Conduit::Hvc, HC_PUTCHAR, [u64::from(byte), 0, 0]) }
}
