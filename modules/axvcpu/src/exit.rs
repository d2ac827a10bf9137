//! Why a vCPU left the guest ([`AxVCpuExitReason`]) and the small types its
//! variants carry.

use axerrno::{AxError, AxResult};
use bitflags::bitflags;

use crate::GuestPhysAddr;

/// The width of a guest memory, port or register access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessWidth {
    /// 1 byte.
    Byte = 0,
    /// 2 bytes.
    Word = 1,
    /// 4 bytes.
    Dword = 2,
    /// 8 bytes.
    Qword = 3,
}

impl AccessWidth {
    /// The width in bytes: 1, 2, 4 or 8 (two to the power of the
    /// discriminant: a shift, not a table, on the exit path).
    pub const fn size(self) -> usize {
        1 << self as u32
    }

    /// The mask of the low [`size`](Self::size) bytes of a `u64`.
    pub const fn mask(self) -> u64 {
        u64::MAX >> (64 - self.bits())
    }

    /// The low [`size`](Self::size) bytes of `value` sign-extended to 64
    /// bits (the bytes above are ignored): what a sign-extending load
    /// leaves before it is truncated to its register.
    pub const fn sign_extend(self, value: u64) -> u64 {
        // Shifted up so that the access's top bit is bit 63, then back
        // down arithmetically (the casts reinterpret the bits).
        let unused = 64 - self.bits();
        (((value << unused) as i64) >> unused) as u64
    }

    /// What a load of this width that read `value` leaves in a
    /// destination register of width `reg`: the low bytes of `value`,
    /// sign-extended when `signed`, then truncated to the register. The
    /// one rule behind both architectures' emulated loads.
    pub const fn load(self, value: u64, signed: bool, reg: AccessWidth) -> u64 {
        let loaded = value & self.mask();
        let extended = if signed { self.sign_extend(loaded) } else { loaded };
        extended & reg.mask()
    }

    /// The width in bits: 8, 16, 32 or 64.
    pub const fn bits(self) -> usize {
        self.size() * 8
    }
}

impl TryFrom<usize> for AccessWidth {
    type Error = AxError;

    /// Converts a size in bytes (1, 2, 4 or 8); any other size, which a
    /// guest can produce, is [`AxError::InvalidInput`].
    fn try_from(size: usize) -> AxResult<Self> {
        match size {
            1 => Ok(Self::Byte),
            2 => Ok(Self::Word),
            4 => Ok(Self::Dword),
            8 => Ok(Self::Qword),
            _ => Err(AxError::InvalidInput),
        }
    }
}

impl From<AccessWidth> for usize {
    fn from(width: AccessWidth) -> usize {
        width.size()
    }
}

/// The address of a trapped system register: on aarch64 the ISS encoding of
/// `MRS`/`MSR` (Op0, Op2, Op1, CRn, CRm) as the ESR_EL2 reports it, on x86
/// an MSR number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SysRegAddr(pub usize);

impl SysRegAddr {
    /// Wraps a raw system-register address.
    pub const fn new(addr: usize) -> Self {
        Self(addr)
    }

    /// The raw address.
    pub const fn addr(self) -> usize {
        self.0
    }
}

impl core::fmt::Debug for SysRegAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SysRegAddr({:#x})", self.0)
    }
}

/// An x86 I/O port number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port(pub u16);

impl Port {
    /// Wraps a port number.
    pub const fn new(port: u16) -> Self {
        Self(port)
    }

    /// The port number.
    pub const fn number(self) -> u16 {
        self.0
    }
}

impl core::fmt::Debug for Port {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Port({:#x})", self.0)
    }
}

bitflags! {
    /// The kind of guest access that caused a nested page fault.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct AccessFlags: u8 {
        /// The access read memory.
        const READ = 1 << 0;
        /// The access wrote memory.
        const WRITE = 1 << 1;
        /// The access fetched an instruction.
        const EXECUTE = 1 << 2;
    }
}

/// Why [`AxVCpu::run`](crate::AxVCpu::run) returned.
///
/// Register numbers (`reg`) use the architecture's general-purpose register
/// numbering, the one [`AxArchVCpu::set_gpr`](crate::AxArchVCpu::set_gpr)
/// takes. The enum is `#[non_exhaustive]`: match it with a `_` arm that
/// reports the exit instead of panicking.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AxVCpuExitReason {
    /// The guest made a hypercall (`HVC` on aarch64, `VMCALL`/`VMMCALL` on
    /// x86) that is not one of the power-management calls below.
    Hypercall {
        /// The hypercall number.
        nr: u64,
        /// The arguments, in the architecture's argument registers.
        args: [u64; 6],
    },
    /// The guest read from an unmapped (emulated) guest physical address.
    /// The host writes the value into register `reg` with
    /// [`AxVCpu::set_gpr`](crate::AxVCpu::set_gpr), sign- or zero-extended.
    MmioRead {
        /// The guest physical address read.
        addr: GuestPhysAddr,
        /// The width of the access.
        width: AccessWidth,
        /// The destination register.
        reg: usize,
        /// The width of the destination register (a 32-bit `w` register on
        /// aarch64 is [`AccessWidth::Dword`]).
        reg_width: AccessWidth,
        /// Whether the value must be sign-extended to `reg_width`.
        signed_ext: bool,
    },
    /// The guest wrote to an unmapped (emulated) guest physical address.
    MmioWrite {
        /// The guest physical address written.
        addr: GuestPhysAddr,
        /// The width of the access.
        width: AccessWidth,
        /// The value written, zero-extended.
        data: u64,
    },
    /// The guest read a trapped system register (`MRS` on aarch64, `RDMSR`
    /// on x86). The host writes the value into register `reg`.
    SysRegRead {
        /// The system register read.
        addr: SysRegAddr,
        /// The destination register.
        reg: usize,
    },
    /// The guest wrote a trapped system register (`MSR` on aarch64, `WRMSR`
    /// on x86).
    SysRegWrite {
        /// The system register written.
        addr: SysRegAddr,
        /// The value written.
        value: u64,
    },
    /// The guest executed `IN` from an I/O port (x86 only). The host writes
    /// the value into the accumulator.
    IoRead {
        /// The port read.
        port: Port,
        /// The width of the access.
        width: AccessWidth,
    },
    /// The guest executed `OUT` to an I/O port (x86 only).
    IoWrite {
        /// The port written.
        port: Port,
        /// The width of the access.
        width: AccessWidth,
        /// The value written, zero-extended.
        data: u64,
    },
    /// A physical interrupt arrived while the guest ran.
    ExternalInterrupt {
        /// The host interrupt number (from
        /// [`AxVCpuHal::irq_fetch`](crate::AxVCpuHal::irq_fetch)).
        vector: u64,
    },
    /// The guest touched a guest physical address that the stage-2 / EPT /
    /// NPT table does not map with the needed permission, and that no
    /// emulated device claims.
    NestedPageFault {
        /// The faulting guest physical address.
        addr: GuestPhysAddr,
        /// The kind of access that faulted.
        access_flags: AccessFlags,
    },
    /// The guest is idle (`WFI` on aarch64, `HLT` on x86) until an interrupt.
    Halt,
    /// The guest asks to start another of its vCPUs (PSCI `CPU_ON` on
    /// aarch64, INIT-SIPI on x86).
    CpuUp {
        /// The target vCPU: its MPIDR affinity on aarch64, its APIC ID on x86.
        target_cpu: u64,
        /// Where the target vCPU starts.
        entry_point: GuestPhysAddr,
        /// The argument passed to the target vCPU (`x0` on aarch64).
        arg: u64,
    },
    /// The guest stops the calling vCPU (PSCI `CPU_OFF`).
    CpuDown {
        /// The power state the guest asked for.
        state: u64,
    },
    /// The guest powers the whole VM off (PSCI `SYSTEM_OFF`, ACPI S5).
    SystemDown,
    /// The guest resets the whole VM (PSCI `SYSTEM_RESET`, a reset port
    /// write): the host boots it again from its images.
    SystemReset,
    /// The guest sends an inter-processor interrupt (a write to `ICC_SGI1R_EL1`
    /// on aarch64, to the x2APIC ICR on x86).
    SendIPI {
        /// The target vCPU(s): the target list / affinity on aarch64, the
        /// destination APIC ID on x86.
        target_cpu: u64,
        /// More target bits the architecture needs (the affinity levels on
        /// aarch64); 0 where unused.
        target_cpu_aux: u64,
        /// Whether every vCPU but the sender is a target.
        send_to_all: bool,
        /// Whether the sender is the only target.
        send_to_self: bool,
        /// The interrupt (SGI ID on aarch64, vector on x86).
        vector: u64,
    },
    /// The hardware refused to enter the guest (a VM-entry failure on VMX,
    /// `VMEXIT_INVALID` on SVM).
    FailEntry {
        /// The architecture's entry-failure reason.
        hardware_entry_failure_reason: u64,
    },
    /// The exit was handled inside the vCPU (for example a trapped register
    /// it emulates itself); the host just runs the vCPU again.
    Nothing,
    /// An exit that nothing recognises, with its raw syndrome so that the
    /// host can log it and stop the VM (or inject a fault).
    ///
    /// - aarch64: `raw` is `ESR_EL2`; `detail` is `FAR_EL2` for an abort and
    ///   `ELR_EL2` (the guest PC) otherwise.
    /// - x86 VMX: `raw` is the basic exit reason; `detail` is the exit
    ///   qualification. x86 SVM: `raw` is `EXITCODE`, `detail` is
    ///   `EXITINFO1`.
    Unsupported {
        /// The raw exit syndrome (see above).
        raw: u64,
        /// The extra syndrome information (see above).
        detail: u64,
    },
}

/// A one-line summary for messages: the variant's name and its numbers,
/// addresses and values in hex, widths and register numbers in decimal
/// (`MmioRead { addr: 0x9000018, width: 4, reg: 3, reg_width: 8 }`).
///
/// Written by hand rather than with the derived `Debug` so that the
/// hypervisor image does not carry the derived formatting of every field
/// type; the derived `Debug` stays for tests and assertions.
impl core::fmt::Display for AxVCpuExitReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Every number goes through the one `u64` formatter, as `Hex` or
        // in decimal.
        let gpa = |a: &GuestPhysAddr| Hex(a.as_usize() as u64);
        let bytes = |w: &AccessWidth| w.size() as u64;
        match self {
            Self::Hypercall { nr, args } => {
                write!(f, "Hypercall {{ nr: {}, args: [", Hex(*nr))?;
                for (i, arg) in args.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{}", Hex(*arg))?;
                }
                f.write_str("] }")
            }
            Self::MmioRead {
                addr,
                width,
                reg,
                reg_width,
                signed_ext,
            } => write!(
                f,
                "MmioRead {{ addr: {}, width: {}, reg: {}, reg_width: {}{} }}",
                gpa(addr),
                bytes(width),
                *reg as u64,
                bytes(reg_width),
                if *signed_ext { ", signed" } else { "" }
            ),
            Self::MmioWrite { addr, width, data } => write!(
                f,
                "MmioWrite {{ addr: {}, width: {}, data: {} }}",
                gpa(addr),
                bytes(width),
                Hex(*data)
            ),
            Self::SysRegRead { addr, reg } => {
                write!(f, "SysRegRead {{ addr: {}, reg: {} }}", Hex(addr.0 as u64), *reg as u64)
            }
            Self::SysRegWrite { addr, value } => write!(
                f,
                "SysRegWrite {{ addr: {}, value: {} }}",
                Hex(addr.0 as u64),
                Hex(*value)
            ),
            Self::IoRead { port, width } => {
                write!(f, "IoRead {{ port: {}, width: {} }}", Hex(port.0.into()), bytes(width))
            }
            Self::IoWrite { port, width, data } => write!(
                f,
                "IoWrite {{ port: {}, width: {}, data: {} }}",
                Hex(port.0.into()),
                bytes(width),
                Hex(*data)
            ),
            Self::ExternalInterrupt { vector } => write!(f, "ExternalInterrupt {{ vector: {} }}", Hex(*vector)),
            Self::NestedPageFault { addr, access_flags } => {
                const ACCESS: [&str; 8] = [
                    "none",
                    "read",
                    "write",
                    "read|write",
                    "execute",
                    "read|execute",
                    "write|execute",
                    "read|write|execute",
                ];
                let access = ACCESS[usize::from(access_flags.bits() & 7)];
                write!(f, "NestedPageFault {{ addr: {}, access: {access} }}", gpa(addr))
            }
            Self::Halt => f.write_str("Halt"),
            Self::CpuUp {
                target_cpu,
                entry_point,
                arg,
            } => write!(
                f,
                "CpuUp {{ target_cpu: {}, entry_point: {}, arg: {} }}",
                Hex(*target_cpu),
                gpa(entry_point),
                Hex(*arg)
            ),
            Self::CpuDown { state } => write!(f, "CpuDown {{ state: {} }}", Hex(*state)),
            Self::SystemDown => f.write_str("SystemDown"),
            Self::SystemReset => f.write_str("SystemReset"),
            Self::SendIPI {
                target_cpu,
                target_cpu_aux,
                send_to_all,
                send_to_self,
                vector,
            } => write!(
                f,
                "SendIPI {{ target_cpu: {}, target_cpu_aux: {}, vector: {}{}{} }}",
                Hex(*target_cpu),
                Hex(*target_cpu_aux),
                Hex(*vector),
                if *send_to_all { ", to all" } else { "" },
                if *send_to_self { ", to self" } else { "" }
            ),
            Self::FailEntry {
                hardware_entry_failure_reason,
            } => write!(f, "FailEntry {{ reason: {} }}", Hex(*hardware_entry_failure_reason)),
            Self::Nothing => f.write_str("Nothing"),
            Self::Unsupported { raw, detail } => {
                write!(f, "Unsupported {{ raw: {}, detail: {} }}", Hex(*raw), Hex(*detail))
            }
        }
    }
}

/// A number shown as `0x...` through `Display`, so that every number of
/// [`AxVCpuExitReason`]'s `Display` shares one formatter.
struct Hex(u64);

impl core::fmt::Display for Hex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_width_sizes() {
        assert_eq!(AccessWidth::Byte.size(), 1);
        assert_eq!(AccessWidth::Word.size(), 2);
        assert_eq!(AccessWidth::Dword.size(), 4);
        assert_eq!(AccessWidth::Qword.size(), 8);
        assert_eq!(AccessWidth::Dword.bits(), 32);
        assert_eq!(usize::from(AccessWidth::Qword), 8);
    }

    #[test]
    fn access_width_masks() {
        assert_eq!(AccessWidth::Byte.mask(), 0xff);
        assert_eq!(AccessWidth::Word.mask(), 0xffff);
        assert_eq!(AccessWidth::Dword.mask(), 0xffff_ffff);
        assert_eq!(AccessWidth::Qword.mask(), u64::MAX);
    }

    #[test]
    fn a_load_masks_extends_and_truncates_to_its_register() {
        use AccessWidth::*;
        assert_eq!(Byte.load(0x1_80, false, Qword), 0x80);
        assert_eq!(Byte.load(0x1_80, true, Qword), 0xffff_ffff_ffff_ff80);
        assert_eq!(Byte.load(0x1_80, true, Dword), 0xffff_ff80);
        assert_eq!(Word.load(0x8000, true, Byte), 0);
        assert_eq!(Dword.load(0x7fff_ffff, true, Qword), 0x7fff_ffff);
        assert_eq!(Qword.load(u64::MAX, false, Qword), u64::MAX);
    }

    #[test]
    fn access_width_sign_extends_its_bytes() {
        assert_eq!(AccessWidth::Byte.sign_extend(0x80), 0xffff_ffff_ffff_ff80);
        assert_eq!(AccessWidth::Byte.sign_extend(0xff7f), 0x7f, "bytes above ignored");
        assert_eq!(AccessWidth::Word.sign_extend(0x8000), 0xffff_ffff_ffff_8000);
        assert_eq!(AccessWidth::Word.sign_extend(0x7fff), 0x7fff);
        assert_eq!(AccessWidth::Dword.sign_extend(0x8000_0000), 0xffff_ffff_8000_0000);
        assert_eq!(AccessWidth::Dword.sign_extend(0x1_7fff_ffff), 0x7fff_ffff);
        assert_eq!(
            AccessWidth::Qword.sign_extend(0x8000_0000_0000_0001),
            0x8000_0000_0000_0001
        );
    }

    #[test]
    fn access_width_round_trips_through_bytes() {
        for width in [
            AccessWidth::Byte,
            AccessWidth::Word,
            AccessWidth::Dword,
            AccessWidth::Qword,
        ] {
            assert_eq!(AccessWidth::try_from(width.size()), Ok(width));
        }
    }

    #[test]
    fn access_width_rejects_other_sizes() {
        for size in [0, 3, 5, 6, 7, 9, 16, usize::MAX] {
            assert_eq!(AccessWidth::try_from(size), Err(AxError::InvalidInput), "size {size}");
        }
    }

    #[test]
    fn access_flags_combine() {
        let rw = AccessFlags::READ | AccessFlags::WRITE;
        assert!(rw.contains(AccessFlags::WRITE));
        assert!(!rw.contains(AccessFlags::EXECUTE));
        assert_eq!(AccessFlags::from_bits(0b1000), None);
    }

    #[test]
    fn newtypes_print_in_hex() {
        assert_eq!(std::format!("{:?}", Port::new(0x3f8)), "Port(0x3f8)");
        assert_eq!(std::format!("{:?}", SysRegAddr::new(0x30c0)), "SysRegAddr(0x30c0)");
        assert_eq!(Port(0x60).number(), 0x60);
        assert_eq!(SysRegAddr(7).addr(), 7);
    }

    #[test]
    fn exits_display_their_numbers_in_hex() {
        let show = |exit: AxVCpuExitReason| std::format!("{exit}");
        assert_eq!(
            show(AxVCpuExitReason::MmioRead {
                addr: GuestPhysAddr::from(0x900_0018),
                width: AccessWidth::Dword,
                reg: 3,
                reg_width: AccessWidth::Qword,
                signed_ext: false,
            }),
            "MmioRead { addr: 0x9000018, width: 4, reg: 3, reg_width: 8 }"
        );
        assert_eq!(
            show(AxVCpuExitReason::SendIPI {
                target_cpu: 0x2,
                target_cpu_aux: 0,
                send_to_all: true,
                send_to_self: false,
                vector: 1,
            }),
            "SendIPI { target_cpu: 0x2, target_cpu_aux: 0x0, vector: 0x1, to all }"
        );
        assert_eq!(
            show(AxVCpuExitReason::MmioWrite {
                addr: GuestPhysAddr::from(0x1000),
                width: AccessWidth::Byte,
                data: 0x41,
            }),
            "MmioWrite { addr: 0x1000, width: 1, data: 0x41 }"
        );
        assert_eq!(
            show(AxVCpuExitReason::Hypercall {
                nr: 0x8400_0000,
                args: [1, 2, 0, 0, 0, 0xff]
            }),
            "Hypercall { nr: 0x84000000, args: [0x1, 0x2, 0x0, 0x0, 0x0, 0xff] }"
        );
        assert_eq!(
            show(AxVCpuExitReason::SysRegRead {
                addr: SysRegAddr::new(0x30c0),
                reg: 0,
            }),
            "SysRegRead { addr: 0x30c0, reg: 0 }"
        );
        assert_eq!(
            show(AxVCpuExitReason::NestedPageFault {
                addr: GuestPhysAddr::from(0x8000_0000),
                access_flags: AccessFlags::READ | AccessFlags::EXECUTE,
            }),
            "NestedPageFault { addr: 0x80000000, access: read|execute }"
        );
        assert_eq!(
            show(AxVCpuExitReason::IoWrite {
                port: Port::new(0x3f8),
                width: AccessWidth::Byte,
                data: 0xa,
            }),
            "IoWrite { port: 0x3f8, width: 1, data: 0xa }"
        );
        assert_eq!(
            show(AxVCpuExitReason::Unsupported {
                raw: 0x9200_0046,
                detail: 0x40
            }),
            "Unsupported { raw: 0x92000046, detail: 0x40 }"
        );
        assert_eq!(show(AxVCpuExitReason::Halt), "Halt");
    }
}
