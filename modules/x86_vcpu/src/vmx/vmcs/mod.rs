//! VMCS fields (SDM Vol. 3D, appendix B) as typed enums, one per group and
//! width, each with `read` and (unless read-only) `write` of its width.
//!
//! | enum | width | field type |
//! |---|---|---|
//! | [`VmcsControl16`], [`VmcsControl32`], [`VmcsControl64`], [`VmcsControlNW`] | 16, 32, 64, natural | control |
//! | [`VmcsGuest16`], [`VmcsGuest32`], [`VmcsGuest64`], [`VmcsGuestNW`] | 16, 32, 64, natural | guest state |
//! | [`VmcsHost16`], [`VmcsHost32`], [`VmcsHost64`], [`VmcsHostNW`] | 16, 32, 64, natural | host state |
//! | [`VmcsReadOnly32`], [`VmcsReadOnly64`], [`VmcsReadOnlyNW`] | 32, 64, natural | VM-exit information |
//!
//! Each discriminant is the field's encoding; [`FieldEncoding`] decodes
//! the width and type out of it, and the tests check that every field sits
//! in the right enum. `read`/`write` execute `VMREAD`/`VMWRITE` on the
//! current VMCS and exist only on the hypervisor (`target_os = "none"`);
//! a failure is returned as `AxError::BadState` after logging the field
//! and the VM-instruction error ([`VmxInstructionError`]).

mod fields;
mod instruction_error;

pub use fields::*;
pub use instruction_error::VmxInstructionError;

/// The width of a VMCS field (encoding bits 14:13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldWidth {
    /// 16 bits.
    W16,
    /// 64 bits.
    W64,
    /// 32 bits.
    W32,
    /// Natural width (64 bits on x86_64).
    Natural,
}

/// The type of a VMCS field (encoding bits 11:10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Control.
    Control,
    /// VM-exit information (read-only).
    ReadOnly,
    /// Guest state.
    Guest,
    /// Host state.
    Host,
}

/// A decoded VMCS field encoding (SDM Vol. 3C, 25.11.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldEncoding(pub u32);

impl FieldEncoding {
    const HIGH_BIT: u32 = 1 << 0;
    const INDEX_SHIFT: u32 = 1;
    const INDEX_MASK: u32 = 0x1ff;
    const TYPE_SHIFT: u32 = 10;
    const WIDTH_SHIFT: u32 = 13;
    const TWO_BITS: u32 = 0b11;

    /// Bit 0: the high 32 bits of a 64-bit field.
    pub const fn is_high(self) -> bool {
        self.0 & Self::HIGH_BIT != 0
    }

    /// Bits 9:1: the index within its width and type.
    pub const fn index(self) -> u32 {
        (self.0 >> Self::INDEX_SHIFT) & Self::INDEX_MASK
    }

    /// Bits 11:10.
    pub const fn field_type(self) -> FieldType {
        match (self.0 >> Self::TYPE_SHIFT) & Self::TWO_BITS {
            0 => FieldType::Control,
            1 => FieldType::ReadOnly,
            2 => FieldType::Guest,
            _ => FieldType::Host,
        }
    }

    /// Bits 14:13.
    pub const fn width(self) -> FieldWidth {
        match (self.0 >> Self::WIDTH_SHIFT) & Self::TWO_BITS {
            0 => FieldWidth::W16,
            1 => FieldWidth::W64,
            2 => FieldWidth::W32,
            _ => FieldWidth::Natural,
        }
    }
}

/// The hardware side: VMREAD, VMWRITE and the VM-instruction error.
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub(crate) mod hw {
    use axerrno::{AxError, AxResult};
    use x86::bits64::vmx;

    use super::VmxInstructionError;

    /// The VM-instruction error of the last failed VMX instruction
    /// (VmFailValid) on the current VMCS.
    pub fn instruction_error() -> VmxInstructionError {
        /// VM-instruction error (SDM appendix B.3.2).
        const VM_INSTRUCTION_ERROR: u32 = 0x4400;
        // SAFETY: VMREAD of a read-only field of the current VMCS has no
        // side effect; without a current VMCS it fails and reads 0.
        let raw = unsafe { vmx::vmread(VM_INSTRUCTION_ERROR) }.unwrap_or(0);
        VmxInstructionError::from(raw as u32)
    }

    fn fail(op: &str, field: u32, e: x86::vmx::VmFail) -> AxError {
        match e {
            x86::vmx::VmFail::VmFailValid => {
                log::warn!("{op} {field:#x} failed: {}", instruction_error());
            }
            x86::vmx::VmFail::VmFailInvalid => log::warn!("{op} {field:#x} failed: no current VMCS"),
        }
        AxError::BadState
    }

    /// VMREAD of `field`.
    pub fn read(field: u32) -> AxResult<u64> {
        // SAFETY: VMREAD only reads the current VMCS (VMX is on: the
        // vCPU is bound, which did VMPTRLD); an invalid field fails.
        unsafe { vmx::vmread(field) }.map_err(|e| fail("vmread", field, e))
    }

    /// VMWRITE of `value` to `field`.
    pub fn write(field: u32, value: u64) -> AxResult {
        // SAFETY: VMWRITE changes only the current VMCS, this vCPU's
        // (bound through VMPTRLD); what a field means is the caller's
        // business, and a bad value fails the next VM entry, not the host.
        unsafe { vmx::vmwrite(field, value) }.map_err(|e| fail("vmwrite", field, e))
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use hw::instruction_error;

#[cfg(test)]
mod tests;
