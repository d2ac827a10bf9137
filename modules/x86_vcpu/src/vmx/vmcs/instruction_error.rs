//! The VM-instruction error numbers (SDM Vol. 3C, 31.4).

/// A VM-instruction error number, as the VMCS reports it after a
/// VMfailValid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmxInstructionError(pub u32);

impl From<u32> for VmxInstructionError {
    fn from(value: u32) -> Self {
        Self(value)
    }
}

impl VmxInstructionError {
    /// VM entry with invalid control field(s).
    pub const ENTRY_INVALID_CONTROL: Self = Self(7);
    /// VM entry with invalid host-state field(s).
    pub const ENTRY_INVALID_HOST_STATE: Self = Self(8);
    /// VMREAD/VMWRITE from/to an unsupported VMCS component.
    pub const UNSUPPORTED_COMPONENT: Self = Self(12);

    /// What the number means; "unknown" for a number the SDM does not
    /// define.
    pub const fn description(self) -> &'static str {
        match self.0 {
            1 => "VMCALL executed in VMX root operation",
            2 => "VMCLEAR with invalid physical address",
            3 => "VMCLEAR with VMXON pointer",
            4 => "VMLAUNCH with non-clear VMCS",
            5 => "VMRESUME with non-launched VMCS",
            6 => "VMRESUME after VMXOFF",
            7 => "VM entry with invalid control field(s)",
            8 => "VM entry with invalid host-state field(s)",
            9 => "VMPTRLD with invalid physical address",
            10 => "VMPTRLD with VMXON pointer",
            11 => "VMPTRLD with incorrect VMCS revision identifier",
            12 => "VMREAD/VMWRITE from/to unsupported VMCS component",
            13 => "VMWRITE to read-only VMCS component",
            15 => "VMXON executed in VMX root operation",
            16 => "VM entry with invalid executive-VMCS pointer",
            17 => "VM entry with non-launched executive VMCS",
            18 => "VM entry with executive-VMCS pointer not VMXON pointer",
            19 => "VMCALL with non-clear VMCS",
            20 => "VMCALL with invalid VM-exit control fields",
            22 => "VMCALL with incorrect MSEG revision identifier",
            23 => "VMXOFF under dual-monitor treatment of SMIs and SMM",
            24 => "VMCALL with invalid SMM-monitor features",
            25 => "VM entry with invalid VM-execution control fields in executive VMCS",
            26 => "VM entry with events blocked by MOV SS",
            28 => "invalid operand to INVEPT/INVVPID",
            _ => "unknown VM-instruction error",
        }
    }
}

impl core::fmt::Display for VmxInstructionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "VM-instruction error {}: {}", self.0, self.description())
    }
}
