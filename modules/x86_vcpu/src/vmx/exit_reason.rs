//! The basic VM-exit reasons (SDM Vol. 3D, appendix C).
#![allow(non_camel_case_types, clippy::upper_case_acronyms)]

/// Defines the enum, its `TryFrom<u16>` and the list of all reasons.
macro_rules! exit_reasons {
    ($( $(#[$m:meta])* $name:ident = $n:literal, )+) => {
        /// A basic VM-exit reason (bits 15:0 of the exit-reason field).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u16)]
        pub enum VmxExitReason {
            $( $(#[$m])* $name = $n, )+
        }

        impl VmxExitReason {
            /// Every reason, in order.
            pub const ALL: &'static [Self] = &[$(Self::$name),+];
        }

        impl TryFrom<u16> for VmxExitReason {
            type Error = u16;

            /// The reason numbered `n`; `Err(n)` for a number the SDM does
            /// not define (a newer CPU's), which the vCPU reports as
            /// unsupported instead of failing.
            fn try_from(n: u16) -> Result<Self, u16> {
                match n {
                    $( $n => Ok(Self::$name), )+
                    _ => Err(n),
                }
            }
        }
    };
}

exit_reasons! {
    /// Exception or non-maskable interrupt.
    EXCEPTION_NMI = 0,
    /// External interrupt.
    EXTERNAL_INTERRUPT = 1,
    /// Triple fault.
    TRIPLE_FAULT = 2,
    /// INIT signal.
    INIT = 3,
    /// Start-up IPI (SIPI).
    SIPI = 4,
    /// I/O system-management interrupt.
    IO_SMI = 5,
    /// Other SMI.
    OTHER_SMI = 6,
    /// Interrupt window.
    INTERRUPT_WINDOW = 7,
    /// NMI window.
    NMI_WINDOW = 8,
    /// Task switch.
    TASK_SWITCH = 9,
    /// CPUID.
    CPUID = 10,
    /// GETSEC.
    GETSEC = 11,
    /// HLT.
    HLT = 12,
    /// INVD.
    INVD = 13,
    /// INVLPG.
    INVLPG = 14,
    /// RDPMC.
    RDPMC = 15,
    /// RDTSC.
    RDTSC = 16,
    /// RSM in SMM.
    RSM = 17,
    /// VMCALL.
    VMCALL = 18,
    /// VMCLEAR.
    VMCLEAR = 19,
    /// VMLAUNCH.
    VMLAUNCH = 20,
    /// VMPTRLD.
    VMPTRLD = 21,
    /// VMPTRST.
    VMPTRST = 22,
    /// VMREAD.
    VMREAD = 23,
    /// VMRESUME.
    VMRESUME = 24,
    /// VMWRITE.
    VMWRITE = 25,
    /// VMXOFF.
    VMOFF = 26,
    /// VMXON.
    VMON = 27,
    /// Control-register access.
    CR_ACCESS = 28,
    /// MOV DR.
    DR_ACCESS = 29,
    /// I/O instruction.
    IO_INSTRUCTION = 30,
    /// RDMSR.
    MSR_READ = 31,
    /// WRMSR.
    MSR_WRITE = 32,
    /// VM-entry failure due to invalid guest state.
    INVALID_GUEST_STATE = 33,
    /// VM-entry failure due to MSR loading.
    MSR_LOAD_FAIL = 34,
    /// MWAIT.
    MWAIT_INSTRUCTION = 36,
    /// Monitor trap flag.
    MONITOR_TRAP_FLAG = 37,
    /// MONITOR.
    MONITOR_INSTRUCTION = 39,
    /// PAUSE.
    PAUSE_INSTRUCTION = 40,
    /// VM-entry failure due to a machine-check event.
    MCE_DURING_VMENTRY = 41,
    /// TPR below threshold.
    TPR_BELOW_THRESHOLD = 43,
    /// APIC access.
    APIC_ACCESS = 44,
    /// Virtualized EOI.
    VIRTUALIZED_EOI = 45,
    /// Access to GDTR or IDTR.
    GDTR_IDTR = 46,
    /// Access to LDTR or TR.
    LDTR_TR = 47,
    /// EPT violation.
    EPT_VIOLATION = 48,
    /// EPT misconfiguration.
    EPT_MISCONFIG = 49,
    /// INVEPT.
    INVEPT = 50,
    /// RDTSCP.
    RDTSCP = 51,
    /// VMX-preemption timer expired.
    PREEMPTION_TIMER = 52,
    /// INVVPID.
    INVVPID = 53,
    /// WBINVD or WBNOINVD.
    WBINVD = 54,
    /// XSETBV.
    XSETBV = 55,
    /// APIC write.
    APIC_WRITE = 56,
    /// RDRAND.
    RDRAND = 57,
    /// INVPCID.
    INVPCID = 58,
    /// VMFUNC.
    VMFUNC = 59,
    /// ENCLS.
    ENCLS = 60,
    /// RDSEED.
    RDSEED = 61,
    /// Page-modification log full.
    PML_FULL = 62,
    /// XSAVES.
    XSAVES = 63,
    /// XRSTORS.
    XRSTORS = 64,
    /// PCONFIG.
    PCONFIG = 65,
    /// SPP-related event.
    SPP_EVENT = 66,
    /// UMWAIT.
    UMWAIT = 67,
    /// TPAUSE.
    TPAUSE = 68,
    /// LOADIWKEY.
    LOADIWKEY = 69,
    /// ENCLV.
    ENCLV = 70,
    /// ENQCMD PASID translation failure.
    ENQCMD_PASID_FAIL = 72,
    /// ENQCMDS PASID translation failure.
    ENQCMDS_PASID_FAIL = 73,
    /// Bus lock.
    BUS_LOCK = 74,
    /// Instruction timeout.
    INSTRUCTION_TIMEOUT = 75,
    /// SEAMCALL.
    SEAMCALL = 76,
    /// TDCALL.
    TDCALL = 77,
    /// RDMSRLIST.
    RDMSRLIST = 78,
    /// WRMSRLIST.
    WRMSRLIST = 79,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_from_appendix_c() {
        let table = [
            (VmxExitReason::EXCEPTION_NMI, 0),
            (VmxExitReason::EXTERNAL_INTERRUPT, 1),
            (VmxExitReason::TRIPLE_FAULT, 2),
            (VmxExitReason::INTERRUPT_WINDOW, 7),
            (VmxExitReason::CPUID, 10),
            (VmxExitReason::HLT, 12),
            (VmxExitReason::VMCALL, 18),
            (VmxExitReason::VMON, 27),
            (VmxExitReason::CR_ACCESS, 28),
            (VmxExitReason::IO_INSTRUCTION, 30),
            (VmxExitReason::MSR_READ, 31),
            (VmxExitReason::MSR_WRITE, 32),
            (VmxExitReason::INVALID_GUEST_STATE, 33),
            (VmxExitReason::MWAIT_INSTRUCTION, 36),
            (VmxExitReason::MONITOR_INSTRUCTION, 39),
            (VmxExitReason::EPT_VIOLATION, 48),
            (VmxExitReason::EPT_MISCONFIG, 49),
            (VmxExitReason::PREEMPTION_TIMER, 52),
            (VmxExitReason::XSETBV, 55),
            (VmxExitReason::VMFUNC, 59),
            (VmxExitReason::WRMSRLIST, 79),
        ];
        for (reason, n) in table {
            assert_eq!(reason as u16, n, "{reason:?}");
            assert_eq!(VmxExitReason::try_from(n), Ok(reason));
        }
    }

    #[test]
    fn every_number_round_trips_and_gaps_are_errors() {
        for &r in VmxExitReason::ALL {
            assert_eq!(VmxExitReason::try_from(r as u16), Ok(r));
        }
        // 35, 38, 42 and 71 are not assigned; nothing past 79 is.
        for n in [35, 38, 42, 71, 80, 0xffff] {
            assert_eq!(VmxExitReason::try_from(n), Err(n));
        }
        assert_eq!(VmxExitReason::ALL.len(), 76);
    }
}
