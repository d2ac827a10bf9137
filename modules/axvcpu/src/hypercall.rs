//! The hypervisor's own hypercall ABI, the same on every architecture, for
//! guests written for it.
//!
//! - **aarch64:** `HVC #0` (or `SMC #0`) with the function id in `W0` and
//!   arguments in `X1..X6`; the result comes back in `X0`. The ids are SMCCC
//!   fast calls, SMC64 convention, in the *Vendor Specific Hypervisor
//!   Service* range (owner 6): `0xC600_0000..=0xC600_FFFF`, so they do not
//!   clash with PSCI or any other standard service, and a guest that probes
//!   them on another hypervisor gets SMCCC's `NOT_SUPPORTED`. Only `W0` is
//!   looked at (SMCCC ignores the upper half of `X0`).
//! - **x86_64:** `VMMCALL` (SVM) or `VMCALL` (VMX) with the number in `RAX`
//!   and arguments in `RBX`, `RCX`, `RDX`, `RSI`; the result comes back in
//!   `RAX`. The whole of `RAX` is the number.
//!
//! | id | name | arguments | returns |
//! |---|---|---|---|
//! | `0xC600_0000` | [`HC_VERSION`] | none | the ABI version, `major << 16 \| minor`: [`HC_ABI_VERSION`] = 1.0 |
//! | `0xC600_0001` | [`HC_VM_ID`] | none | the id of the calling VM |
//! | `0xC600_0002` | [`HC_PUTCHAR`] | first: a byte (0..=255) | [`HC_SUCCESS`] after writing the byte to the VM's console; [`HC_INVALID_PARAMETERS`] when it is > 255 |
//! | `0xC600_0003` | [`HC_CPU_ID`] | none | the id of the calling vCPU in its VM |
//! | any other id | | | [`HC_NOT_SUPPORTED`] |
//!
//! Return codes follow SMCCC: 0 is success, negative values (sign-extended
//! to 64 bits) are errors.
//!
//! How a call gets here: the arch vCPU hands it to the host as
//! [`AxVCpuExitReason::Hypercall`](crate::AxVCpuExitReason::Hypercall); the
//! host calls [`decode_hypercall`] on it, performs the call, and sets the
//! result with `set_return_value`. [`Hypercall::fixed_result`] gives the
//! answers that need nothing from the host, [`Hypercall::vcpu_result`]
//! those the calling vCPU knows by itself: an arch vCPU answers these in
//! its own exit loop, without leaving it (the fast path of a hypercall).

#![deny(unsafe_code)]

/// First id of the range this ABI uses.
pub const HC_RANGE_START: u32 = 0xC600_0000;
/// Last id of the range this ABI uses.
pub const HC_RANGE_END: u32 = 0xC600_FFFF;

/// Returns the ABI version.
pub const HC_VERSION: u32 = 0xC600_0000;
/// Returns the id of the calling VM.
pub const HC_VM_ID: u32 = 0xC600_0001;
/// Writes the byte in the first argument to the VM's console.
pub const HC_PUTCHAR: u32 = 0xC600_0002;
/// Returns the id of the calling vCPU.
pub const HC_CPU_ID: u32 = 0xC600_0003;

/// The ABI version [`HC_VERSION`] returns: 1.0 (major 1 in bits \[31:16\],
/// minor 0 in bits \[15:0\]).
pub const HC_ABI_VERSION: u64 = 1 << 16;

/// Success.
pub const HC_SUCCESS: u64 = 0;
/// Unknown function id (-1).
pub const HC_NOT_SUPPORTED: u64 = -1i64 as u64;
/// An argument is out of range (-2).
pub const HC_INVALID_PARAMETERS: u64 = -2i64 as u64;

/// A decoded call of this ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hypercall {
    /// [`HC_VERSION`].
    Version,
    /// [`HC_VM_ID`].
    VmId,
    /// [`HC_PUTCHAR`] with its byte.
    PutChar(u8),
    /// [`HC_CPU_ID`].
    CpuId,
    /// A known id with an argument out of range; answer
    /// [`HC_INVALID_PARAMETERS`].
    InvalidParameters {
        /// The function id.
        id: u32,
    },
    /// An id in the range that this ABI does not define; answer
    /// [`HC_NOT_SUPPORTED`].
    NotSupported {
        /// The function id.
        id: u32,
    },
}

impl Hypercall {
    /// The answer when it does not depend on the VM or the host:
    /// the version and the error codes. `None` for the calls the host must
    /// perform ([`Hypercall::VmId`], [`Hypercall::CpuId`],
    /// [`Hypercall::PutChar`]).
    pub const fn fixed_result(self) -> Option<u64> {
        match self {
            Self::Version => Some(HC_ABI_VERSION),
            Self::InvalidParameters { .. } => Some(HC_INVALID_PARAMETERS),
            Self::NotSupported { .. } => Some(HC_NOT_SUPPORTED),
            Self::VmId | Self::PutChar(_) | Self::CpuId => None,
        }
    }

    /// The answer when the calling vCPU, in VM `vm_id` with id `vcpu_id`,
    /// can give it by itself: every call but [`Hypercall::PutChar`], which
    /// the host performs.
    pub const fn vcpu_result(self, vm_id: usize, vcpu_id: usize) -> Option<u64> {
        match self {
            Self::VmId => Some(vm_id as u64),
            Self::CpuId => Some(vcpu_id as u64),
            other => other.fixed_result(),
        }
    }
}

/// Decodes an x86 hypercall: the whole of `RAX` (`nr`) is the number, so
/// one with any of the upper 32 bits set is none of this ABI's (`None`);
/// otherwise as [`decode_hypercall`].
pub fn decode_hypercall_whole(nr: u64, args: &[u64; 6]) -> Option<Hypercall> {
    if nr >> 32 != 0 {
        return None;
    }
    decode_hypercall(nr, args)
}

/// Decodes a hypercall with number `nr` and arguments `args`.
///
/// Returns `None` when the low 32 bits of `nr` are not in this ABI's range
/// (the call belongs to some other service; answer it
/// [`HC_NOT_SUPPORTED`]). Only those bits are looked at, as SMCCC says for
/// `X0`; an architecture that takes the whole number (x86) checks the
/// upper half first.
pub fn decode_hypercall(nr: u64, args: &[u64; 6]) -> Option<Hypercall> {
    // Truncation is the SMCCC rule: the function id is W0.
    let id = nr as u32;
    if !(HC_RANGE_START..=HC_RANGE_END).contains(&id) {
        return None;
    }
    Some(match id {
        HC_VERSION => Hypercall::Version,
        HC_VM_ID => Hypercall::VmId,
        HC_PUTCHAR => match u8::try_from(args[0]) {
            Ok(byte) => Hypercall::PutChar(byte),
            Err(_) => Hypercall::InvalidParameters { id },
        },
        HC_CPU_ID => Hypercall::CpuId,
        _ => Hypercall::NotSupported { id },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_ARGS: [u64; 6] = [0; 6];

    #[test]
    fn known_calls_decode() {
        assert_eq!(decode_hypercall(0xC600_0000, &NO_ARGS), Some(Hypercall::Version));
        assert_eq!(decode_hypercall(0xC600_0001, &NO_ARGS), Some(Hypercall::VmId));
        assert_eq!(decode_hypercall(0xC600_0003, &NO_ARGS), Some(Hypercall::CpuId));
        assert_eq!(
            decode_hypercall(0xC600_0002, &[b'A' as u64, 0, 0, 0, 0, 0]),
            Some(Hypercall::PutChar(b'A'))
        );
        assert_eq!(
            decode_hypercall(0xC600_0002, &[0xff, 0, 0, 0, 0, 0]),
            Some(Hypercall::PutChar(0xff))
        );
    }

    #[test]
    fn putchar_rejects_more_than_a_byte() {
        for x1 in [0x100, 0x1_0000_0041, u64::MAX] {
            let call = decode_hypercall(0xC600_0002, &[x1, 0, 0, 0, 0, 0]);
            assert_eq!(call, Some(Hypercall::InvalidParameters { id: HC_PUTCHAR }));
            assert_eq!(call.and_then(Hypercall::fixed_result), Some(-2i64 as u64));
        }
    }

    #[test]
    fn unknown_ids_in_range_are_not_supported() {
        for id in [0xC600_0004u64, 0xC600_00FF, 0xC600_FF01, 0xC600_FFFF] {
            let call = decode_hypercall(id, &NO_ARGS);
            assert_eq!(call, Some(Hypercall::NotSupported { id: id as u32 }));
            assert_eq!(call.and_then(Hypercall::fixed_result), Some(u64::MAX));
        }
    }

    #[test]
    fn ids_outside_the_range_are_not_ours() {
        for id in [
            0u64,
            1,
            0x8400_0000,
            0xC400_0003,
            0x8600_0000,
            0xC5FF_FFFF,
            0xC601_0000,
            0xC700_0000,
        ] {
            assert_eq!(decode_hypercall(id, &NO_ARGS), None, "{id:#x}");
        }
    }

    #[test]
    fn upper_half_of_x0_is_ignored() {
        assert_eq!(decode_hypercall(0xDEAD_BEEF_C600_0001, &NO_ARGS), Some(Hypercall::VmId));
    }

    #[test]
    fn the_whole_of_rax_is_the_number() {
        assert_eq!(decode_hypercall_whole(0xC600_0001, &NO_ARGS), Some(Hypercall::VmId));
        assert_eq!(decode_hypercall_whole(0x1_C600_0001, &NO_ARGS), None);
    }

    #[test]
    fn fixed_results() {
        assert_eq!(Hypercall::Version.fixed_result(), Some(0x1_0000));
        assert_eq!(Hypercall::VmId.fixed_result(), None);
        assert_eq!(Hypercall::CpuId.fixed_result(), None);
        assert_eq!(Hypercall::PutChar(b'x').fixed_result(), None);
    }

    #[test]
    fn a_vcpu_answers_all_but_putchar() {
        assert_eq!(Hypercall::VmId.vcpu_result(7, 3), Some(7));
        assert_eq!(Hypercall::CpuId.vcpu_result(7, 3), Some(3));
        assert_eq!(Hypercall::Version.vcpu_result(7, 3), Some(HC_ABI_VERSION));
        assert_eq!(
            Hypercall::NotSupported { id: 0xC600_0009 }.vcpu_result(7, 3),
            Some(HC_NOT_SUPPORTED)
        );
        assert_eq!(
            Hypercall::InvalidParameters { id: HC_PUTCHAR }.vcpu_result(7, 3),
            Some(HC_INVALID_PARAMETERS)
        );
        assert_eq!(Hypercall::PutChar(b'x').vcpu_result(7, 3), None);
    }
}
