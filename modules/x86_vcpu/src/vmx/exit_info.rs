//! The VM-exit information fields, decoded (SDM Vol. 3C, 28.2 and 25.9):
//! [`VmxExitInfo`], [`VmxInterruptInfo`], [`VmxIoExitInfo`],
//! [`CrAccessInfo`], [`EptViolationInfo`].

#![allow(missing_docs)] // register_bitfields! items; each field is documented below.

use axvcpu::AccessFlags;
use tock_registers::{LocalRegisterCopy, register_bitfields};

use super::exit_reason::VmxExitReason;
use crate::exit::NestedFaultKind;

register_bitfields! {u32,
    /// The exit-reason field (SDM 25.9.1).
    pub EXIT_REASON [
        /// The basic exit reason (appendix C).
        BASIC OFFSET(0) NUMBITS(16) [],
        /// The exit happened in enclave mode.
        ENCLAVE OFFSET(27) NUMBITS(1) [],
        /// A monitor trap flag exit was pending.
        PENDING_MTF OFFSET(28) NUMBITS(1) [],
        /// The exit came from VMX root operation (SMM).
        FROM_ROOT OFFSET(29) NUMBITS(1) [],
        /// VM-entry failure.
        ENTRY_FAILURE OFFSET(31) NUMBITS(1) []
    ],

    /// VM-entry / VM-exit interruption information and IDT-vectoring
    /// information (SDM 25.8.3, 25.9.2, 25.9.3).
    pub INTR_INFO [
        /// The vector.
        VECTOR OFFSET(0) NUMBITS(8) [],
        /// The interruption type ([`VmxInterruptionType`]).
        TYPE OFFSET(8) NUMBITS(3) [],
        /// An error code is delivered.
        ERROR_CODE OFFSET(11) NUMBITS(1) [],
        /// NMI unblocking due to IRET (exits only).
        NMI_UNBLOCKING OFFSET(12) NUMBITS(1) [],
        /// The field is valid.
        VALID OFFSET(31) NUMBITS(1) []
    ],

    /// Guest interruptibility state (SDM 25.4.2, table 25-3).
    pub INTERRUPTIBILITY [
        /// Blocking by STI.
        STI OFFSET(0) NUMBITS(1) [],
        /// Blocking by MOV SS.
        MOV_SS OFFSET(1) NUMBITS(1) [],
        /// Blocking by SMI.
        SMI OFFSET(2) NUMBITS(1) [],
        /// Blocking by NMI.
        NMI OFFSET(3) NUMBITS(1) []
    ]
}

register_bitfields! {u64,
    /// Exit qualification of an I/O instruction (SDM table 28-5).
    pub IO_QUAL [
        /// Size of access: 0 = 1 byte, 1 = 2 bytes, 3 = 4 bytes.
        SIZE OFFSET(0) NUMBITS(3) [],
        /// Direction: 1 = IN.
        IN OFFSET(3) NUMBITS(1) [],
        /// String instruction (INS/OUTS).
        STRING OFFSET(4) NUMBITS(1) [],
        /// REP prefixed.
        REP OFFSET(5) NUMBITS(1) [],
        /// Operand encoding: 1 = immediate port, 0 = DX.
        IMMEDIATE OFFSET(6) NUMBITS(1) [],
        /// The port.
        PORT OFFSET(16) NUMBITS(16) []
    ],

    /// Exit qualification of a control-register access (SDM table 28-3).
    pub CR_QUAL [
        /// The control register.
        CR OFFSET(0) NUMBITS(4) [],
        /// 0 = MOV to CR, 1 = MOV from CR, 2 = CLTS, 3 = LMSW.
        ACCESS OFFSET(4) NUMBITS(2) [],
        /// LMSW operand: 1 = memory.
        LMSW_MEMORY OFFSET(6) NUMBITS(1) [],
        /// The general-purpose register of MOV CR.
        GPR OFFSET(8) NUMBITS(4) [],
        /// The LMSW source data.
        LMSW_DATA OFFSET(16) NUMBITS(16) []
    ],

    /// Exit qualification of an EPT violation (SDM table 28-7).
    pub EPT_QUAL [
        /// The access was a data read.
        READ OFFSET(0) NUMBITS(1) [],
        /// The access was a data write.
        WRITE OFFSET(1) NUMBITS(1) [],
        /// The access was an instruction fetch.
        FETCH OFFSET(2) NUMBITS(1) [],
        /// The EPT entries allowed reads (AND of the walk).
        READABLE OFFSET(3) NUMBITS(1) [],
        /// The EPT entries allowed writes.
        WRITABLE OFFSET(4) NUMBITS(1) [],
        /// The EPT entries allowed execution.
        EXECUTABLE OFFSET(5) NUMBITS(1) [],
        /// The guest-linear-address field is valid.
        GLA_VALID OFFSET(7) NUMBITS(1) [],
        /// With GLA_VALID: 1 = the access was to the translated address,
        /// 0 = to a guest paging-structure entry.
        TRANSLATED OFFSET(8) NUMBITS(1) [],
        /// NMI unblocking due to IRET.
        NMI_UNBLOCKING OFFSET(12) NUMBITS(1) []
    ]
}

/// The basic information of a VM exit (the seed's `VmxExitInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmxExitInfo {
    /// VM-entry failure (exit-reason bit 31).
    pub entry_failure: bool,
    /// The basic exit reason, or its number when the SDM does not define
    /// it.
    pub exit_reason: Result<VmxExitReason, u16>,
    /// The length of the instruction that exited (VM-exit instruction
    /// length), where it applies.
    pub exit_instruction_length: u32,
    /// The guest's RIP at the exit.
    pub guest_rip: usize,
}

impl VmxExitInfo {
    /// Decodes the raw exit-reason field.
    pub fn new(raw_reason: u32, exit_instruction_length: u32, guest_rip: usize) -> Self {
        let r = LocalRegisterCopy::<u32, EXIT_REASON::Register>::new(raw_reason);
        Self {
            entry_failure: r.is_set(EXIT_REASON::ENTRY_FAILURE),
            exit_reason: VmxExitReason::try_from(r.read(EXIT_REASON::BASIC) as u16),
            exit_instruction_length,
            guest_rip,
        }
    }
}

/// The type of an interruption (SDM table 25-17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum VmxInterruptionType {
    /// External interrupt.
    External = 0,
    /// Non-maskable interrupt.
    Nmi = 2,
    /// Hardware exception (#PF, #GP, ...).
    HardwareException = 3,
    /// Software interrupt (INT n).
    SoftwareInterrupt = 4,
    /// Privileged software exception (INT1).
    PrivilegedSoftwareException = 5,
    /// Software exception (INT3, INTO).
    SoftwareException = 6,
    /// Other event (MTF).
    Other = 7,
}

impl VmxInterruptionType {
    /// The type numbered `n` (0..7); 1 is reserved.
    pub const fn from_bits(n: u8) -> Option<Self> {
        Some(match n {
            0 => Self::External,
            2 => Self::Nmi,
            3 => Self::HardwareException,
            4 => Self::SoftwareInterrupt,
            5 => Self::PrivilegedSoftwareException,
            6 => Self::SoftwareException,
            7 => Self::Other,
            _ => return None,
        })
    }

    /// Whether an injection of this type needs the VM-entry instruction
    /// length (the event is raised by an instruction).
    pub const fn needs_instruction_len(self) -> bool {
        matches!(
            self,
            Self::SoftwareInterrupt | Self::PrivilegedSoftwareException | Self::SoftwareException
        )
    }
}

/// An interruption-information value (the seed's `VmxInterruptInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmxInterruptInfo {
    /// The vector.
    pub vector: u8,
    /// The type.
    pub int_type: VmxInterruptionType,
    /// The error code, for the exceptions that deliver one.
    pub err_code: Option<u32>,
    /// Whether the field is valid.
    pub valid: bool,
}

impl VmxInterruptInfo {
    /// A hardware exception.
    pub const fn exception(vector: u8, err_code: Option<u32>) -> Self {
        Self {
            vector,
            int_type: VmxInterruptionType::HardwareException,
            err_code,
            valid: true,
        }
    }

    /// An external interrupt.
    pub const fn external(vector: u8) -> Self {
        Self {
            vector,
            int_type: VmxInterruptionType::External,
            err_code: None,
            valid: true,
        }
    }

    /// The raw value for the VM-entry interruption-information field.
    pub fn bits(&self) -> u32 {
        let mut r = LocalRegisterCopy::<u32, INTR_INFO::Register>::new(0);
        r.modify(
            INTR_INFO::VECTOR.val(u32::from(self.vector))
                + INTR_INFO::TYPE.val(self.int_type as u32)
                + INTR_INFO::ERROR_CODE.val(u32::from(self.err_code.is_some()))
                + INTR_INFO::VALID.val(u32::from(self.valid)),
        );
        r.get()
    }

    /// Decodes an exit interruption or IDT-vectoring field (`err_code` is
    /// the matching error-code field, used when the error-code bit is
    /// set); `None` when the type is the reserved value 1.
    pub fn from_bits(bits: u32, err_code: u32) -> Option<Self> {
        let r = LocalRegisterCopy::<u32, INTR_INFO::Register>::new(bits);
        Some(Self {
            vector: r.read(INTR_INFO::VECTOR) as u8,
            int_type: VmxInterruptionType::from_bits(r.read(INTR_INFO::TYPE) as u8)?,
            err_code: r.is_set(INTR_INFO::ERROR_CODE).then_some(err_code),
            valid: r.is_set(INTR_INFO::VALID),
        })
    }
}

/// The guest's blocking of interrupts by STI or MOV SS (its
/// interruptibility state).
pub fn interrupt_shadow(interruptibility: u32) -> bool {
    let r = LocalRegisterCopy::<u32, INTERRUPTIBILITY::Register>::new(interruptibility);
    r.is_set(INTERRUPTIBILITY::STI) || r.is_set(INTERRUPTIBILITY::MOV_SS)
}

/// An I/O instruction's exit qualification (the seed's `VmxIoExitInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmxIoExitInfo {
    /// The access size in bytes (1, 2 or 4; other values are reserved).
    pub access_size: u8,
    /// `IN` (or `INS`), else `OUT`.
    pub is_in: bool,
    /// `INS`/`OUTS`.
    pub is_string: bool,
    /// REP prefixed.
    pub is_repeat: bool,
    /// The port.
    pub port: u16,
}

impl VmxIoExitInfo {
    /// Decodes the qualification.
    pub fn from_qualification(q: u64) -> Self {
        let r = LocalRegisterCopy::<u64, IO_QUAL::Register>::new(q);
        Self {
            access_size: r.read(IO_QUAL::SIZE) as u8 + 1,
            is_in: r.is_set(IO_QUAL::IN),
            is_string: r.is_set(IO_QUAL::STRING),
            is_repeat: r.is_set(IO_QUAL::REP),
            port: r.read(IO_QUAL::PORT) as u16,
        }
    }
}

/// How a control register was accessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrAccessType {
    /// `MOV to CRn`.
    MovToCr,
    /// `MOV from CRn`.
    MovFromCr,
    /// `CLTS`.
    Clts,
    /// `LMSW`.
    Lmsw,
}

/// A control-register access's exit qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrAccessInfo {
    /// The control register (0, 3, 4, 8).
    pub cr: u8,
    /// The kind of access.
    pub access: CrAccessType,
    /// The general-purpose register of a MOV.
    pub gpr: u8,
    /// The source data of an LMSW.
    pub lmsw_data: u16,
}

impl CrAccessInfo {
    /// Decodes the qualification.
    pub fn from_qualification(q: u64) -> Self {
        let r = LocalRegisterCopy::<u64, CR_QUAL::Register>::new(q);
        Self {
            cr: r.read(CR_QUAL::CR) as u8,
            access: match r.read(CR_QUAL::ACCESS) {
                0 => CrAccessType::MovToCr,
                1 => CrAccessType::MovFromCr,
                2 => CrAccessType::Clts,
                _ => CrAccessType::Lmsw,
            },
            gpr: r.read(CR_QUAL::GPR) as u8,
            lmsw_data: r.read(CR_QUAL::LMSW_DATA) as u16,
        }
    }
}

/// An EPT violation's exit qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EptViolationInfo {
    /// The access that faulted.
    pub access: AccessFlags,
    /// What the EPT entries allowed (empty: nothing mapped).
    pub allowed: AccessFlags,
    /// Whether the guest-linear address is valid.
    pub gla_valid: bool,
    /// With `gla_valid`: the access was to the translated address (not to
    /// a guest paging-structure entry).
    pub translated: bool,
}

impl EptViolationInfo {
    /// Decodes the qualification.
    pub fn from_qualification(q: u64) -> Self {
        let r = LocalRegisterCopy::<u64, EPT_QUAL::Register>::new(q);
        let flags = |read, write, exec| {
            let mut f = AccessFlags::empty();
            f.set(AccessFlags::READ, r.is_set(read));
            f.set(AccessFlags::WRITE, r.is_set(write));
            f.set(AccessFlags::EXECUTE, r.is_set(exec));
            f
        };
        Self {
            access: flags(EPT_QUAL::READ, EPT_QUAL::WRITE, EPT_QUAL::FETCH),
            allowed: flags(EPT_QUAL::READABLE, EPT_QUAL::WRITABLE, EPT_QUAL::EXECUTABLE),
            gla_valid: r.is_set(EPT_QUAL::GLA_VALID),
            translated: r.is_set(EPT_QUAL::TRANSLATED),
        }
    }

    /// How the fault came about.
    pub fn kind(&self) -> NestedFaultKind {
        if self.gla_valid && !self.translated {
            NestedFaultKind::GuestTableWalk
        } else if self.allowed.is_empty() {
            NestedFaultKind::NotPresent
        } else {
            NestedFaultKind::Permission
        }
    }
}
