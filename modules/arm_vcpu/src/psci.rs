//! The PSCI 1.1 and SMCCC 1.1 calls a guest makes with `HVC #0` or `SMC #0`
//! (Arm DEN 0022 and DEN 0028): which function a call is, its arguments,
//! and the answers that need no VM state.
//!
//! [`handle_psci`] decodes one call into a [`PsciAction`]. Calls that need
//! no state are answered on the spot ([`PsciAction::Return`]); power-state
//! changes and `AFFINITY_INFO` are left to the caller, which knows the
//! other vCPUs; anything that is not a PSCI or Arm-architecture SMCCC call
//! is [`PsciAction::NotPsci`] (a hypercall of some other service).
//!
//! # Conventions
//!
//! - The function id is `W0`: the upper half of `X0` is ignored (SMCCC).
//! - SMC32 ids (`0x8400_00xx`) take 32-bit arguments: the upper halves of
//!   `X1..X3` are ignored, as SMCCC requires. SMC64 ids (`0xC400_00xx`)
//!   take all 64 bits. Functions PSCI defines only as SMC32 (`PSCI_VERSION`,
//!   `CPU_OFF`, `MIGRATE_INFO_TYPE`, `SYSTEM_OFF`, `SYSTEM_RESET`,
//!   `PSCI_FEATURES`) have no SMC64 id; `0xC400_0000 | n` for those is
//!   `NOT_SUPPORTED`, as in Trusted Firmware-A.
//! - Return values are signed: a negative code is sign-extended to 64 bits
//!   in `X0` (see [`ret`]).
//!
//! # Behaviour
//!
//! | call | answer |
//! |---|---|
//! | `PSCI_VERSION` | 1.1 (`0x0001_0001`) |
//! | `CPU_SUSPEND` | [`PsciAction::CpuSuspend`]: treated as standby (WFI), returns `SUCCESS` on wake-up, which PSCI allows for any power state |
//! | `CPU_OFF` | [`PsciAction::CpuOff`] |
//! | `CPU_ON` | [`PsciAction::CpuOn`], or `INVALID_ADDRESS` for an entry that is not 4-byte aligned |
//! | `AFFINITY_INFO` | [`PsciAction::AffinityInfo`] for level 0; `INVALID_PARAMETERS` for a higher level (PSCI 1.0+ supports only 0) |
//! | `MIGRATE_INFO_TYPE` | 2: no trusted OS that needs migration |
//! | `MIGRATE`, `MIGRATE_INFO_UP_CPU` | `NOT_SUPPORTED` |
//! | `SYSTEM_OFF`, `SYSTEM_RESET` | [`PsciAction::SystemOff`], [`PsciAction::SystemReset`] |
//! | `PSCI_FEATURES(id)` | `SUCCESS` (0: original power-state format, no OS-initiated mode) for the calls above and `SMCCC_VERSION`, `NOT_SUPPORTED` otherwise |
//! | `SMCCC_VERSION` | 1.1 (`0x0001_0001`) |
//! | `SMCCC_ARCH_FEATURES(id)` | `SUCCESS` for `SMCCC_VERSION` and `SMCCC_ARCH_FEATURES`, `NOT_SUPPORTED` otherwise (no `ARCH_WORKAROUND_*` is offered) |
//! | any other fast call of the Arm Architecture (owner 0) or Standard Secure (owner 4) services | `NOT_SUPPORTED` |
//! | anything else | [`PsciAction::NotPsci`] |

#![deny(unsafe_code)]

use axvcpu::GuestPhysAddr;

/// `PSCI_VERSION` (SMC32 only).
pub const PSCI_VERSION: u32 = 0x8400_0000;
/// `CPU_SUSPEND`, SMC32.
pub const PSCI_CPU_SUSPEND_32: u32 = 0x8400_0001;
/// `CPU_SUSPEND`, SMC64.
pub const PSCI_CPU_SUSPEND_64: u32 = 0xC400_0001;
/// `CPU_OFF` (SMC32 only).
pub const PSCI_CPU_OFF: u32 = 0x8400_0002;
/// `CPU_ON`, SMC32.
pub const PSCI_CPU_ON_32: u32 = 0x8400_0003;
/// `CPU_ON`, SMC64.
pub const PSCI_CPU_ON_64: u32 = 0xC400_0003;
/// `AFFINITY_INFO`, SMC32.
pub const PSCI_AFFINITY_INFO_32: u32 = 0x8400_0004;
/// `AFFINITY_INFO`, SMC64.
pub const PSCI_AFFINITY_INFO_64: u32 = 0xC400_0004;
/// `MIGRATE`, SMC32.
pub const PSCI_MIGRATE_32: u32 = 0x8400_0005;
/// `MIGRATE`, SMC64.
pub const PSCI_MIGRATE_64: u32 = 0xC400_0005;
/// `MIGRATE_INFO_TYPE` (SMC32 only).
pub const PSCI_MIGRATE_INFO_TYPE: u32 = 0x8400_0006;
/// `MIGRATE_INFO_UP_CPU`, SMC32.
pub const PSCI_MIGRATE_INFO_UP_CPU_32: u32 = 0x8400_0007;
/// `MIGRATE_INFO_UP_CPU`, SMC64.
pub const PSCI_MIGRATE_INFO_UP_CPU_64: u32 = 0xC400_0007;
/// `SYSTEM_OFF` (SMC32 only).
pub const PSCI_SYSTEM_OFF: u32 = 0x8400_0008;
/// `SYSTEM_RESET` (SMC32 only).
pub const PSCI_SYSTEM_RESET: u32 = 0x8400_0009;
/// `PSCI_FEATURES` (SMC32 only, PSCI 1.0+).
pub const PSCI_FEATURES: u32 = 0x8400_000A;
/// `SMCCC_VERSION` (SMCCC 1.1+).
pub const SMCCC_VERSION: u32 = 0x8000_0000;
/// `SMCCC_ARCH_FEATURES` (SMCCC 1.1+).
pub const SMCCC_ARCH_FEATURES: u32 = 0x8000_0001;

/// The PSCI version this implementation reports: 1.1 (major in bits
/// \[31:16\], minor in \[15:0\]).
pub const PSCI_VERSION_1_1: u64 = 0x0001_0001;
/// The SMCCC version this implementation reports: 1.1.
pub const SMCCC_VERSION_1_1: u64 = 0x0001_0001;
/// `MIGRATE_INFO_TYPE`: a trusted OS is not present or does not require
/// migration.
pub const MIGRATE_INFO_TYPE_NOT_REQUIRED: u64 = 2;

/// PSCI return code: success.
pub const SUCCESS: i32 = 0;
/// PSCI return code: the function is not implemented.
pub const NOT_SUPPORTED: i32 = -1;
/// PSCI return code: an argument is invalid.
pub const INVALID_PARAMETERS: i32 = -2;
/// PSCI return code: the call is not allowed now.
pub const DENIED: i32 = -3;
/// PSCI return code: `CPU_ON` of a CPU that is already on.
pub const ALREADY_ON: i32 = -4;
/// PSCI return code: `CPU_ON` of a CPU whose earlier `CPU_ON` is pending.
pub const ON_PENDING: i32 = -5;
/// PSCI return code: the call failed for a reason not otherwise listed.
pub const INTERNAL_FAILURE: i32 = -6;
/// PSCI return code: the target is not present.
pub const NOT_PRESENT: i32 = -7;
/// PSCI return code: the target is disabled.
pub const DISABLED: i32 = -8;
/// PSCI return code: an address argument is invalid.
pub const INVALID_ADDRESS: i32 = -9;

/// `AFFINITY_INFO` result: the target is on.
pub const AFFINITY_ON: u64 = 0;
/// `AFFINITY_INFO` result: the target is off.
pub const AFFINITY_OFF: u64 = 1;
/// `AFFINITY_INFO` result: the target is being turned on.
pub const AFFINITY_ON_PENDING: u64 = 2;

/// A PSCI return code as the 64-bit value written to `X0` (sign-extended).
pub const fn ret(code: i32) -> u64 {
    // Sign extension is the intent: -1 becomes 0xffff_ffff_ffff_ffff.
    code as i64 as u64
}

/// What a PSCI/SMCCC call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsciAction {
    /// Answer the call with this value in `X0` and resume the guest.
    Return(u64),
    /// `CPU_ON`: start the vCPU with affinity `target_mpidr` at `entry` with
    /// `X0 = context`. The caller answers `SUCCESS`, `ALREADY_ON`,
    /// `ON_PENDING`, `INVALID_PARAMETERS` (no such vCPU) or
    /// `INVALID_ADDRESS` (entry outside guest memory).
    CpuOn {
        /// The target's MPIDR affinity fields.
        target_mpidr: u64,
        /// Where the target starts (a guest physical address, 4-byte
        /// aligned).
        entry: GuestPhysAddr,
        /// The value the target finds in `X0`.
        context: u64,
    },
    /// `CPU_OFF`: stop the calling vCPU. It does not return on success.
    CpuOff,
    /// `CPU_SUSPEND`: wait for an interrupt, then return `SUCCESS`.
    CpuSuspend {
        /// The requested power state (ignored: every state is standby).
        power_state: u64,
        /// The resume address of a power-down state (unused).
        entry: u64,
        /// The resume context of a power-down state (unused).
        context: u64,
    },
    /// `AFFINITY_INFO` of a level-0 target: the caller answers
    /// [`AFFINITY_ON`], [`AFFINITY_OFF`], [`AFFINITY_ON_PENDING`], or
    /// `INVALID_PARAMETERS` for a target that does not exist.
    AffinityInfo {
        /// The target's MPIDR affinity fields.
        target_mpidr: u64,
        /// The lowest affinity level (always 0 here).
        level: u64,
    },
    /// `SYSTEM_OFF`: power the VM off.
    SystemOff,
    /// `SYSTEM_RESET`: reset the VM.
    SystemReset,
    /// Not a PSCI or Arm-architecture SMCCC call.
    NotPsci,
}

/// Whether the function id uses the SMC64 calling convention (bit 30).
const fn is_smc64(id: u32) -> bool {
    /// SMCCC function id bit 30: 1 = SMC64/HVC64.
    const SMC64_BIT: u32 = 1 << 30;
    id & SMC64_BIT != 0
}

/// Whether the function id is a fast call of a service that this module
/// owns (Arm Architecture, owner 0, or Standard Secure, owner 4).
const fn is_owned_service(id: u32) -> bool {
    /// SMCCC function id bit 31: 1 = fast call.
    const FAST_CALL_BIT: u32 = 1 << 31;
    /// SMCCC function id bits \[29:24\]: the service owner.
    const OWNER_SHIFT: u32 = 24;
    const OWNER_MASK: u32 = 0x3f;
    /// Arm Architecture calls (SMCCC_*).
    const OWNER_ARM_ARCH: u32 = 0;
    /// Standard Secure service calls (PSCI, TRNG, ...).
    const OWNER_STANDARD_SECURE: u32 = 4;
    let owner = (id >> OWNER_SHIFT) & OWNER_MASK;
    id & FAST_CALL_BIT != 0 && (owner == OWNER_ARM_ARCH || owner == OWNER_STANDARD_SECURE)
}

/// Whether `PSCI_FEATURES` reports `id` as implemented.
const fn psci_implements(id: u32) -> bool {
    matches!(
        id,
        PSCI_VERSION
            | PSCI_CPU_SUSPEND_32
            | PSCI_CPU_SUSPEND_64
            | PSCI_CPU_OFF
            | PSCI_CPU_ON_32
            | PSCI_CPU_ON_64
            | PSCI_AFFINITY_INFO_32
            | PSCI_AFFINITY_INFO_64
            | PSCI_MIGRATE_INFO_TYPE
            | PSCI_SYSTEM_OFF
            | PSCI_SYSTEM_RESET
            | PSCI_FEATURES
            | SMCCC_VERSION
    )
}

/// The low 32 bits of a register, as an SMC32 argument or a function id.
const fn low32(value: u64) -> u32 {
    // Truncation is the SMCCC rule for W registers.
    value as u32
}

/// Decodes the PSCI/SMCCC call with function id `func` (`X0`) and arguments
/// `args` (`X1..X3`), and answers it where no VM state is needed.
pub fn handle_psci(func: u64, args: [u64; 3]) -> PsciAction {
    let id = low32(func);
    let [a1, a2, a3] = if is_smc64(id) {
        args
    } else {
        args.map(|arg| u64::from(low32(arg)))
    };
    match id {
        SMCCC_VERSION => PsciAction::Return(SMCCC_VERSION_1_1),
        SMCCC_ARCH_FEATURES => PsciAction::Return(ret(if matches!(low32(a1), SMCCC_VERSION | SMCCC_ARCH_FEATURES) {
            SUCCESS
        } else {
            NOT_SUPPORTED
        })),
        PSCI_VERSION => PsciAction::Return(PSCI_VERSION_1_1),
        PSCI_CPU_SUSPEND_32 | PSCI_CPU_SUSPEND_64 => PsciAction::CpuSuspend {
            power_state: a1,
            entry: a2,
            context: a3,
        },
        PSCI_CPU_OFF => PsciAction::CpuOff,
        PSCI_CPU_ON_32 | PSCI_CPU_ON_64 => cpu_on(a1, a2, a3),
        PSCI_AFFINITY_INFO_32 | PSCI_AFFINITY_INFO_64 => {
            if a2 == 0 {
                PsciAction::AffinityInfo {
                    target_mpidr: a1,
                    level: a2,
                }
            } else {
                PsciAction::Return(ret(INVALID_PARAMETERS))
            }
        }
        PSCI_MIGRATE_INFO_TYPE => PsciAction::Return(MIGRATE_INFO_TYPE_NOT_REQUIRED),
        PSCI_SYSTEM_OFF => PsciAction::SystemOff,
        PSCI_SYSTEM_RESET => PsciAction::SystemReset,
        PSCI_FEATURES => PsciAction::Return(ret(if psci_implements(low32(a1)) {
            SUCCESS
        } else {
            NOT_SUPPORTED
        })),
        _ if is_owned_service(id) => PsciAction::Return(ret(NOT_SUPPORTED)),
        _ => PsciAction::NotPsci,
    }
}

/// `CPU_ON(target, entry, context)` after argument truncation.
fn cpu_on(target_mpidr: u64, entry: u64, context: u64) -> PsciAction {
    /// An AArch64 entry point is 4-byte aligned.
    const ENTRY_ALIGN_MASK: u64 = 0b11;
    if entry & ENTRY_ALIGN_MASK != 0 {
        return PsciAction::Return(ret(INVALID_ADDRESS));
    }
    match usize::try_from(entry) {
        Ok(entry) => PsciAction::CpuOn {
            target_mpidr,
            entry: GuestPhysAddr::from(entry),
            context,
        },
        Err(_) => PsciAction::Return(ret(INVALID_ADDRESS)),
    }
}

#[cfg(test)]
mod tests;
