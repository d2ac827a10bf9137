//! System-register addresses ([`SysRegAddr`]) and the registers the
//! hypervisor traps.
//!
//! # Encoding
//!
//! A [`SysRegAddr`] on aarch64 is the `ESR_EL2.ISS` of a trapped `MRS`/`MSR`
//! (EC 0x18) with the Rt and Direction fields cleared, as `axvcpu`
//! documents for the type:
//!
//! | bits | 21:20 | 19:17 | 16:14 | 13:10 | 9:5 | 4:1 | 0 |
//! |---|---|---|---|---|---|---|---|
//! | field | Op0 | Op2 | Op1 | CRn | 0 (Rt) | CRm | 0 (Direction) |
//!
//! So a device model can match the ISS of a trap against a constant here
//! with nothing but a mask, and [`sys_reg`] builds the value from the
//! `S<op0>_<op1>_C<n>_C<m>_<op2>` name the ARM ARM gives each register.
//! (Linux/KVM's `sys_reg()` packs the same five fields at other offsets,
//! those of the MRS instruction word; the two are not interchangeable.)
//!
//! Writes to `ICC_SGI1R_EL1` are turned into
//! [`AxVCpuExitReason::SendIPI`] by [`sgi1r_send_ipi`]; the other registers
//! named here reach the host as `SysRegRead` / `SysRegWrite`.

#![deny(unsafe_code)]

use crate::fields::{ICC_SGI1R, ISS_SYS64, read_u8};
use axvcpu::{AxVCpuExitReason, SysRegAddr};

/// The address of system register `S<op0>_<op1>_C<crn>_C<crm>_<op2>`.
///
/// Each argument is masked to its field width (Op0 2 bits, Op1 and Op2 3
/// bits, CRn and CRm 4 bits).
pub const fn sys_reg(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> SysRegAddr {
    let value = ISS_SYS64::OP0.val(op0 as u64).value
        | ISS_SYS64::OP1.val(op1 as u64).value
        | ISS_SYS64::CRN.val(crn as u64).value
        | ISS_SYS64::CRM.val(crm as u64).value
        | ISS_SYS64::OP2.val(op2 as u64).value;
    // At most 22 bits: fits a usize on every target.
    SysRegAddr::new(value as usize)
}

/// The five encoding fields of a system-register address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SysRegEncoding {
    /// Op0.
    pub op0: u8,
    /// Op1.
    pub op1: u8,
    /// CRn.
    pub crn: u8,
    /// CRm.
    pub crm: u8,
    /// Op2.
    pub op2: u8,
}

impl SysRegEncoding {
    /// Splits an address made by [`sys_reg`] (or an ISS) into its fields.
    pub fn of(addr: SysRegAddr) -> Self {
        let raw = u64::try_from(addr.addr()).unwrap_or(u64::MAX);
        Self {
            op0: read_u8(ISS_SYS64::OP0, raw),
            op1: read_u8(ISS_SYS64::OP1, raw),
            crn: read_u8(ISS_SYS64::CRN, raw),
            crm: read_u8(ISS_SYS64::CRM, raw),
            op2: read_u8(ISS_SYS64::OP2, raw),
        }
    }

    /// The address of these fields.
    pub const fn addr(self) -> SysRegAddr {
        sys_reg(self.op0, self.op1, self.crn, self.crm, self.op2)
    }
}

impl core::fmt::Display for SysRegEncoding {
    /// The generic ARM ARM name: `S3_0_C12_C11_5`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "S{}_{}_C{}_C{}_{}", self.op0, self.op1, self.crn, self.crm, self.op2)
    }
}

/// `ICC_SGI1R_EL1` (S3_0_C12_C11_5): generate a Group 1 SGI (GICv3).
pub const ICC_SGI1R_EL1: SysRegAddr = sys_reg(3, 0, 12, 11, 5);
/// `ICC_ASGI1R_EL1` (S3_0_C12_C11_6): generate a Group 1 SGI for the other
/// security state.
pub const ICC_ASGI1R_EL1: SysRegAddr = sys_reg(3, 0, 12, 11, 6);
/// `ICC_SGI0R_EL1` (S3_0_C12_C11_7): generate a Group 0 SGI.
pub const ICC_SGI0R_EL1: SysRegAddr = sys_reg(3, 0, 12, 11, 7);
/// `ICC_PMR_EL1` (S3_0_C4_C6_0): interrupt priority mask.
pub const ICC_PMR_EL1: SysRegAddr = sys_reg(3, 0, 4, 6, 0);
/// `ICC_IAR1_EL1` (S3_0_C12_C12_0): acknowledge a Group 1 interrupt.
pub const ICC_IAR1_EL1: SysRegAddr = sys_reg(3, 0, 12, 12, 0);
/// `ICC_EOIR1_EL1` (S3_0_C12_C12_1): end of a Group 1 interrupt.
pub const ICC_EOIR1_EL1: SysRegAddr = sys_reg(3, 0, 12, 12, 1);
/// `ICC_DIR_EL1` (S3_0_C12_C11_1): deactivate an interrupt.
pub const ICC_DIR_EL1: SysRegAddr = sys_reg(3, 0, 12, 11, 1);
/// `ICC_CTLR_EL1` (S3_0_C12_C12_4): CPU interface control.
pub const ICC_CTLR_EL1: SysRegAddr = sys_reg(3, 0, 12, 12, 4);
/// `ICC_SRE_EL1` (S3_0_C12_C12_5): system register enable.
pub const ICC_SRE_EL1: SysRegAddr = sys_reg(3, 0, 12, 12, 5);
/// `ICC_IGRPEN1_EL1` (S3_0_C12_C12_7): Group 1 interrupt enable.
pub const ICC_IGRPEN1_EL1: SysRegAddr = sys_reg(3, 0, 12, 12, 7);

/// `CNTFRQ_EL0` (S3_3_C14_C0_0): counter frequency.
pub const CNTFRQ_EL0: SysRegAddr = sys_reg(3, 3, 14, 0, 0);
/// `CNTPCT_EL0` (S3_3_C14_C0_1): physical count.
pub const CNTPCT_EL0: SysRegAddr = sys_reg(3, 3, 14, 0, 1);
/// `CNTVCT_EL0` (S3_3_C14_C0_2): virtual count.
pub const CNTVCT_EL0: SysRegAddr = sys_reg(3, 3, 14, 0, 2);
/// `CNTP_TVAL_EL0` (S3_3_C14_C2_0): EL1 physical timer value.
pub const CNTP_TVAL_EL0: SysRegAddr = sys_reg(3, 3, 14, 2, 0);
/// `CNTP_CTL_EL0` (S3_3_C14_C2_1): EL1 physical timer control.
pub const CNTP_CTL_EL0: SysRegAddr = sys_reg(3, 3, 14, 2, 1);
/// `CNTP_CVAL_EL0` (S3_3_C14_C2_2): EL1 physical timer compare value.
pub const CNTP_CVAL_EL0: SysRegAddr = sys_reg(3, 3, 14, 2, 2);
/// `CNTV_TVAL_EL0` (S3_3_C14_C3_0): virtual timer value.
pub const CNTV_TVAL_EL0: SysRegAddr = sys_reg(3, 3, 14, 3, 0);
/// `CNTV_CTL_EL0` (S3_3_C14_C3_1): virtual timer control.
pub const CNTV_CTL_EL0: SysRegAddr = sys_reg(3, 3, 14, 3, 1);
/// `CNTV_CVAL_EL0` (S3_3_C14_C3_2): virtual timer compare value.
pub const CNTV_CVAL_EL0: SysRegAddr = sys_reg(3, 3, 14, 3, 2);

/// `MIDR_EL1` (S3_0_C0_C0_0): main ID register.
pub const MIDR_EL1: SysRegAddr = sys_reg(3, 0, 0, 0, 0);
/// `MPIDR_EL1` (S3_0_C0_C0_5): multiprocessor affinity.
pub const MPIDR_EL1: SysRegAddr = sys_reg(3, 0, 0, 0, 5);

/// The [`AxVCpuExitReason::SendIPI`] for a guest write of `value` to
/// `ICC_SGI1R_EL1`.
///
/// - `vector` is the SGI number (INTID).
/// - `send_to_all` is IRM: every vCPU but the sender, the targets ignored.
/// - `target_cpu` is the 16-bit target list.
/// - `target_cpu_aux` is the MPIDR-style affinity of the first vCPU the list
///   can name: `Aff3 << 32 | Aff2 << 16 | Aff1 << 8 | RS * 16`. Bit `n` of
///   `target_cpu` then targets the vCPU whose MPIDR affinity is
///   `target_cpu_aux | n`.
/// - `send_to_self` is false: GICv3 has no "self" mode; the sender is
///   targeted through the list like any other vCPU.
pub fn sgi1r_send_ipi(value: u64) -> AxVCpuExitReason {
    /// MPIDR_EL1 bit positions of the affinity fields.
    const MPIDR_AFF1_SHIFT: u32 = 8;
    const MPIDR_AFF2_SHIFT: u32 = 16;
    const MPIDR_AFF3_SHIFT: u32 = 32;
    /// Each range selector step covers 16 Aff0 values.
    const RS_SHIFT: u32 = 4;
    let aux = (ICC_SGI1R::AFF3.read(value) << MPIDR_AFF3_SHIFT)
        | (ICC_SGI1R::AFF2.read(value) << MPIDR_AFF2_SHIFT)
        | (ICC_SGI1R::AFF1.read(value) << MPIDR_AFF1_SHIFT)
        | (ICC_SGI1R::RS.read(value) << RS_SHIFT);
    AxVCpuExitReason::SendIPI {
        target_cpu: ICC_SGI1R::TARGET_LIST.read(value),
        target_cpu_aux: aux,
        send_to_all: ICC_SGI1R::IRM.is_set(value),
        send_to_self: false,
        vector: ICC_SGI1R::INTID.read(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ISS of a trapped MRS/MSR per the ARM ARM (ESR_ELx, ISS encoding
    /// for EC 0x18): Op0 \[21:20\], Op2 \[19:17\], Op1 \[16:14\], CRn \[13:10\],
    /// Rt \[9:5\], CRm \[4:1\], Direction \[0\].
    fn iss(op0: u64, op1: u64, crn: u64, crm: u64, op2: u64, rt: u64, read: bool) -> u64 {
        (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | read as u64
    }

    #[test]
    fn packing_matches_known_values() {
        // ICC_SGI1R_EL1 = S3_0_C12_C11_5: the value axvcpu's own tests use.
        assert_eq!(ICC_SGI1R_EL1.addr(), 0x3a_3016);
        // CNTP_CTL_EL0 = S3_3_C14_C2_1, worked by hand:
        // 3<<20 | 1<<17 | 3<<14 | 14<<10 | 2<<1.
        assert_eq!(CNTP_CTL_EL0.addr(), 0x30_0000 + 0x2_0000 + 0xc000 + 0x3800 + 0x4);
        assert_eq!(CNTP_CTL_EL0.addr(), 0x32_f804);
        // CNTPCT_EL0 = S3_3_C14_C0_1.
        assert_eq!(CNTPCT_EL0.addr(), 0x32_f800);
        // MIDR_EL1 = S3_0_C0_C0_0: only Op0.
        assert_eq!(MIDR_EL1.addr(), 0x30_0000);
    }

    #[test]
    fn packing_equals_the_trap_iss_without_rt_and_direction() {
        let regs = [
            (ICC_SGI1R_EL1, (3, 0, 12, 11, 5)),
            (ICC_ASGI1R_EL1, (3, 0, 12, 11, 6)),
            (ICC_SGI0R_EL1, (3, 0, 12, 11, 7)),
            (ICC_PMR_EL1, (3, 0, 4, 6, 0)),
            (ICC_IAR1_EL1, (3, 0, 12, 12, 0)),
            (ICC_EOIR1_EL1, (3, 0, 12, 12, 1)),
            (ICC_DIR_EL1, (3, 0, 12, 11, 1)),
            (ICC_CTLR_EL1, (3, 0, 12, 12, 4)),
            (ICC_SRE_EL1, (3, 0, 12, 12, 5)),
            (ICC_IGRPEN1_EL1, (3, 0, 12, 12, 7)),
            (CNTFRQ_EL0, (3, 3, 14, 0, 0)),
            (CNTPCT_EL0, (3, 3, 14, 0, 1)),
            (CNTVCT_EL0, (3, 3, 14, 0, 2)),
            (CNTP_TVAL_EL0, (3, 3, 14, 2, 0)),
            (CNTP_CTL_EL0, (3, 3, 14, 2, 1)),
            (CNTP_CVAL_EL0, (3, 3, 14, 2, 2)),
            (CNTV_TVAL_EL0, (3, 3, 14, 3, 0)),
            (CNTV_CTL_EL0, (3, 3, 14, 3, 1)),
            (CNTV_CVAL_EL0, (3, 3, 14, 3, 2)),
            (MIDR_EL1, (3, 0, 0, 0, 0)),
            (MPIDR_EL1, (3, 0, 0, 0, 5)),
        ];
        for (addr, (op0, op1, crn, crm, op2)) in regs {
            let expected = iss(op0, op1, crn, crm, op2, 0, false);
            assert_eq!(addr.addr() as u64, expected, "{addr:?}");
            let enc = SysRegEncoding::of(addr);
            assert_eq!(
                (enc.op0, enc.op1, enc.crn, enc.crm, enc.op2),
                (op0 as u8, op1 as u8, crn as u8, crm as u8, op2 as u8)
            );
            assert_eq!(enc.addr(), addr);
        }
    }

    #[test]
    fn fields_are_masked_to_their_width() {
        assert_eq!(sys_reg(0xff, 0, 0, 0, 0), sys_reg(3, 0, 0, 0, 0));
        assert_eq!(sys_reg(0, 0xff, 0xff, 0xff, 0xff), sys_reg(0, 7, 15, 15, 7));
        // The all-ones address has every field bit set and no Rt/Direction.
        assert_eq!(sys_reg(3, 7, 15, 15, 7).addr(), 0x3f_fc1e);
    }

    #[test]
    fn display_uses_the_generic_name() {
        assert_eq!(std::format!("{}", SysRegEncoding::of(ICC_SGI1R_EL1)), "S3_0_C12_C11_5");
        assert_eq!(std::format!("{}", SysRegEncoding::of(CNTP_CVAL_EL0)), "S3_3_C14_C2_2");
    }

    /// ICC_SGI1R_EL1 per the GICv3 spec: TargetList \[15:0\], Aff1 \[23:16\],
    /// INTID \[27:24\], Aff2 \[39:32\], IRM \[40\], RS \[47:44\], Aff3 \[55:48\].
    fn sgi1r(list: u64, aff1: u64, intid: u64, aff2: u64, irm: bool, rs: u64, aff3: u64) -> u64 {
        list | (aff1 << 16) | (intid << 24) | (aff2 << 32) | ((irm as u64) << 40) | (rs << 44) | (aff3 << 48)
    }

    #[test]
    fn sgi1r_targets_a_list() {
        let exit = sgi1r_send_ipi(sgi1r(0b1010, 0x12, 7, 0x34, false, 0, 0x56));
        assert_eq!(
            exit,
            AxVCpuExitReason::SendIPI {
                target_cpu: 0b1010,
                target_cpu_aux: 0x56_0034_1200,
                send_to_all: false,
                send_to_self: false,
                vector: 7,
            }
        );
    }

    #[test]
    fn sgi1r_range_selector_offsets_aff0() {
        let AxVCpuExitReason::SendIPI { target_cpu_aux, .. } = sgi1r_send_ipi(sgi1r(1, 0, 0, 0, false, 3, 0)) else {
            panic!("not an IPI");
        };
        // Bit 0 of the list in range 3 is Aff0 = 48.
        assert_eq!(target_cpu_aux, 48);
    }

    #[test]
    fn sgi1r_broadcast_and_reserved_bits() {
        let exit = sgi1r_send_ipi(sgi1r(0, 0, 15, 0, true, 0, 0) | (0xff << 56) | (0xf << 28));
        assert_eq!(
            exit,
            AxVCpuExitReason::SendIPI {
                target_cpu: 0,
                target_cpu_aux: 0,
                send_to_all: true,
                send_to_self: false,
                vector: 15,
            }
        );
    }
}
