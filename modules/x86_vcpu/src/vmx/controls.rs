//! What `hardware_enable` and the VMCS setup check against the CPU's VMX
//! capability MSRs (SDM Vol. 3D, appendix A; Vol. 3C, 24.7 and 24.8).

use axerrno::{AxError, AxResult};

/// The control value for a capability MSR (`IA32_VMX_*_CTLS`: bits 31:0
/// are the bits that must be 1, bits 63:32 the bits that may be 1), with
/// the bits of `set` on and those of `clear` off. `Err(bits)` names the
/// requested bits the CPU does not allow.
pub fn adjust_controls(cap: u64, set: u32, clear: u32) -> Result<u32, u32> {
    let must_be_one = cap as u32;
    let may_be_one = (cap >> 32) as u32;
    let value = set | must_be_one;
    let bad = (value & !may_be_one) | (clear & must_be_one);
    if bad != 0 { Err(bad) } else { Ok(value) }
}

/// Whether `value` has every bit of `fixed0` set and none outside `fixed1`
/// (the CR0 and CR4 fixed-bit rule of SDM A.7 and A.8).
pub const fn fixed_bits_ok(value: u64, fixed0: u64, fixed1: u64) -> bool {
    value & fixed0 == fixed0 && value & !fixed1 == 0
}

/// IA32_VMX_BASIC (SDM A.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmxBasic {
    /// Bits 30:0: the VMCS revision identifier, written at the start of
    /// the VMXON region and of every VMCS.
    pub revision_id: u32,
    /// Bits 44:32: the size of the VMXON region and VMCS in bytes.
    pub region_size: u16,
    /// Bits 53:50: the memory type of the VMCS (6 = write-back).
    pub mem_type: u8,
    /// Bit 55: the `IA32_VMX_TRUE_*_CTLS` MSRs exist.
    pub true_controls: bool,
}

impl VmxBasic {
    /// Write-back.
    pub const MEM_TYPE_WB: u8 = 6;
    const REVISION_MASK: u64 = 0x7fff_ffff;
    const SIZE_SHIFT: u32 = 32;
    const SIZE_MASK: u64 = 0x1fff;
    const MEM_TYPE_SHIFT: u32 = 50;
    const MEM_TYPE_MASK: u64 = 0xf;
    const TRUE_CTLS: u64 = 1 << 55;

    /// Decodes the MSR value.
    pub const fn from_msr(value: u64) -> Self {
        Self {
            revision_id: (value & Self::REVISION_MASK) as u32,
            region_size: ((value >> Self::SIZE_SHIFT) & Self::SIZE_MASK) as u16,
            mem_type: ((value >> Self::MEM_TYPE_SHIFT) & Self::MEM_TYPE_MASK) as u8,
            true_controls: value & Self::TRUE_CTLS != 0,
        }
    }

    /// Whether this crate can use it: a region that fits a 4 KiB frame, in
    /// write-back memory.
    pub fn check(&self) -> AxResult {
        if usize::from(self.region_size) > crate::frame::FRAME_SIZE || self.mem_type != Self::MEM_TYPE_WB {
            return Err(AxError::Unsupported);
        }
        Ok(())
    }
}

/// IA32_FEATURE_CONTROL bits (SDM Vol. 4, table 2-2).
pub mod feature_control {
    /// Lock: the MSR cannot be written until reset.
    pub const LOCK: u64 = 1 << 0;
    /// VMXON allowed inside SMX operation.
    pub const VMX_IN_SMX: u64 = 1 << 1;
    /// VMXON allowed outside SMX operation.
    pub const VMX_OUTSIDE_SMX: u64 = 1 << 2;
}

/// What to do about IA32_FEATURE_CONTROL before VMXON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureControlPlan {
    /// Locked with VMX allowed: nothing to do.
    Ready,
    /// Unlocked: write this value (VMX allowed, locked).
    Write(u64),
    /// Locked with VMX disallowed: the firmware turned VMX off.
    Disabled,
}

/// The plan for the current value of IA32_FEATURE_CONTROL.
pub const fn feature_control_plan(value: u64) -> FeatureControlPlan {
    use feature_control::{LOCK, VMX_OUTSIDE_SMX};
    if value & LOCK == 0 {
        FeatureControlPlan::Write(value | LOCK | VMX_OUTSIDE_SMX)
    } else if value & VMX_OUTSIDE_SMX != 0 {
        FeatureControlPlan::Ready
    } else {
        FeatureControlPlan::Disabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_follow_the_capability_msr() {
        // Must be one: bits 1, 2, 4 (0x16); may be one: also 0, 3, 5..7.
        let cap = (0xffu64 << 32) | 0x16;
        assert_eq!(adjust_controls(cap, 0b1000_0001, 0), Ok(0b1001_0111));
        // Bit 9 is not allowed, bit 1 cannot be cleared.
        assert_eq!(adjust_controls(cap, 1 << 9, 0), Err(1 << 9));
        assert_eq!(adjust_controls(cap, 0, 0b10), Err(0b10));
        // A CPU that forces a bit outside its allowed-1 mask (impossible,
        // but the rule must still hold).
        assert_eq!(adjust_controls(0x1, 0, 0), Err(1));
    }

    #[test]
    fn fixed_bits() {
        // IA32_VMX_CR0_FIXED0 is typically 0x8000_0021 (PG, NE, PE);
        // FIXED1 0xffff_ffff.
        assert!(fixed_bits_ok(0x8005_0033, 0x8000_0021, 0xffff_ffff));
        assert!(!fixed_bits_ok(0x8005_0013, 0x8000_0021, 0xffff_ffff), "NE clear");
        assert!(!fixed_bits_ok(0x1_8000_0021, 0x8000_0021, 0xffff_ffff), "bit 32");
        // CR4: VMXE (bit 13) fixed to 1.
        assert!(fixed_bits_ok(0x2020, 0x2000, 0x3f_ffff));
        assert!(!fixed_bits_ok(0x20, 0x2000, 0x3f_ffff));
    }

    #[test]
    fn vmx_basic_decoding() {
        // A typical value: revision 4, 4 KiB region (0x1000 << 32), WB
        // (6 << 50), true controls (bit 55), INS/OUTS info (bit 54).
        let v = 4 | (0x1000u64 << 32) | (6u64 << 50) | (1 << 54) | (1 << 55);
        let b = VmxBasic::from_msr(v);
        assert_eq!(
            b,
            VmxBasic {
                revision_id: 4,
                region_size: 0x1000,
                mem_type: 6,
                true_controls: true
            }
        );
        assert_eq!(b.check(), Ok(()));
        // Bit 31 is always 0 and not part of the revision.
        assert_eq!(VmxBasic::from_msr(0x8000_0004).revision_id, 4);
        assert_eq!(VmxBasic::from_msr(v & !(6u64 << 50)).check(), Err(AxError::Unsupported));
        assert_eq!(
            VmxBasic::from_msr(4 | (0x1001u64 << 32) | (6u64 << 50)).check(),
            Err(AxError::Unsupported)
        );
    }

    #[test]
    fn feature_control() {
        assert_eq!(feature_control_plan(0), FeatureControlPlan::Write(0b101));
        assert_eq!(feature_control_plan(0b10), FeatureControlPlan::Write(0b111));
        assert_eq!(feature_control_plan(0b101), FeatureControlPlan::Ready);
        assert_eq!(feature_control_plan(0b001), FeatureControlPlan::Disabled);
        assert_eq!(feature_control_plan(0b011), FeatureControlPlan::Disabled);
    }
}
