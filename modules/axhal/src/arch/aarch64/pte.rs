//! Stage-1 descriptors of the EL2 translation regime (4 KiB granule), as
//! named bit fields. Only what the host kernel's identity map uses.
//!
//! In the EL2 regime (one privilege level) AP[1] is RES1, nG and PXN are
//! RES0, and XN alone controls execution.

use tock_registers::register_bitfields;

register_bitfields! {u64,
    /// A level 1/2 block, level 1/2 table or level 3 page descriptor.
    pub DESC [
        /// Entry is valid.
        VALID OFFSET(0) NUMBITS(1) [],
        /// Table (levels 1-2) or page (level 3); 0 = block at levels 1-2.
        TABLE_OR_PAGE OFFSET(1) NUMBITS(1) [],
        /// Index into MAIR_EL2.
        ATTR_INDX OFFSET(2) NUMBITS(3) [
            Device = 0,
            Normal = 1,
            NormalNonCacheable = 2
        ],
        /// AP[1]; RES1 in the EL2 regime.
        AP_RES1 OFFSET(6) NUMBITS(1) [],
        /// AP[2]: read-only.
        AP_RO OFFSET(7) NUMBITS(1) [],
        /// Shareability.
        SH OFFSET(8) NUMBITS(2) [
            NonShareable = 0,
            OuterShareable = 2,
            InnerShareable = 3
        ],
        /// Access flag (a clear one faults on first access).
        AF OFFSET(10) NUMBITS(1) [],
        /// Output address bits [47:12].
        ADDR OFFSET(12) NUMBITS(36) [],
        /// Execute never.
        XN OFFSET(54) NUMBITS(1) []
    ]
}

/// MAIR_EL2 value matching `ATTR_INDX`: 0 = Device-nGnRE, 1 = Normal
/// write-back read/write-allocate, 2 = Normal non-cacheable.
pub const MAIR_VALUE: u64 = 0x04 | (0xff << 8) | (0x44 << 16);

/// What a mapping allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perm {
    /// Read + execute (kernel text).
    ReadExec,
    /// Read only.
    Read,
    /// Read + write, never executed.
    ReadWrite,
    /// Device registers: read + write, never executed, Device-nGnRE.
    Device,
}

impl Perm {
    /// The attribute bits of a leaf (block or page) with this permission.
    pub fn leaf_bits(self) -> u64 {
        let common = DESC::VALID::SET + DESC::AF::SET + DESC::AP_RES1::SET;
        let v = match self {
            Perm::ReadExec => common + DESC::ATTR_INDX::Normal + DESC::SH::InnerShareable + DESC::AP_RO::SET,
            Perm::Read => {
                common + DESC::ATTR_INDX::Normal + DESC::SH::InnerShareable + DESC::AP_RO::SET + DESC::XN::SET
            }
            Perm::ReadWrite => common + DESC::ATTR_INDX::Normal + DESC::SH::InnerShareable + DESC::XN::SET,
            Perm::Device => common + DESC::ATTR_INDX::Device + DESC::XN::SET,
        };
        v.value
    }
}

/// Mask of the output address in a descriptor.
pub const ADDR_MASK: u64 = DESC::ADDR.mask << DESC::ADDR.shift;
