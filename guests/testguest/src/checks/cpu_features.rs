//! What the guest sees of the CPU: the ID registers show only what the
//! hypervisor supports, and the registers of the features they deny (or
//! that it emulates) behave as documented.
//!
//! - `id registers show only supported features`: `ID_AA64PFR0_EL1` says
//!   AArch64 only at EL0 and EL1, no EL2, no SVE, RAS, MPAM or AMU;
//!   `ID_AA64PFR1_EL1` no SME or MTE; `ID_AA64ZFR0_EL1` and
//!   `ID_AA64SMFR0_EL1` read zero; `ID_AA64DFR0_EL1` no PMU, trace,
//!   statistical profiling, trace buffer or branch records, and two
//!   breakpoints and two watchpoints; `ID_AA64MMFR1_EL1` no VMID bits or
//!   VHE; an AArch32 ID register (`ID_PFR0_EL1`) and an unallocated one
//!   (`S3_0_C0_C3_7`) read zero.
//! - `pmu registers undefined`: reads of `PMCR_EL0` and `PMCCNTR_EL0` and a
//!   write of `PMCNTENSET_EL0` take an Undefined Instruction exception (EC
//!   0, at the instruction).
//! - `debug registers emulated`: the OS lock opens (`OSLAR_EL1` 0, then
//!   `OSLSR_EL1` = OSLM implemented, unlocked); `DBGBVR0_EL1` and
//!   `DBGWCR1_EL1` read back what was written; `MDRAR_EL1` reads zero;
//!   `DBGBVR2_EL1` (a third breakpoint, which the CPU may have but the
//!   guest is told it has not) is undefined.
//! - `sve, sme, trace and amu accesses undefined`: an SVE instruction
//!   (`RDVL`), `ZCR_EL1`, `SMCR_EL1`, a trace unit register (`TRCPRGCTLR`)
//!   and `AMCR_EL0` each take an Undefined Instruction exception. The
//!   guest's own SVE and SME traps are off meanwhile (`CPACR_EL1.ZEN`,
//!   `SMEN`; RES0 on a CPU without them), so on a CPU that has SVE or SME
//!   what stops the access is the hypervisor's `CPTR_EL2` trap, not the
//!   guest's own (which would report EC 0x19 / 0x1D instead of 0).

use core::arch::{asm, global_asm};

use aarch64_cpu::registers::ESR_EL1;
use tock_registers::LocalRegisterCopy;

use super::Report;
use crate::exception;

/// One 4-bit ID register field.
fn field(value: u64, shift: u32) -> u64 {
    (value >> shift) & 0xf
}

/// Reads a system register by its generic name.
macro_rules! mrs {
    ($name:literal) => {{
        let v: u64;
        // SAFETY: reading a system register has no side effect; a trap
        // is answered by the hypervisor.
        unsafe { asm!(concat!("mrs {}, ", $name), out(reg) v, options(nomem, nostack)) };
        v
    }};
}

/// Writes a system register by its generic name.
macro_rules! msr {
    ($name:literal, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: a debug register of this vCPU, emulated by the hypervisor
        // (nothing is armed: the values written enable nothing).
        unsafe { asm!(concat!("msr ", $name, ", {}"), in(reg) v, options(nomem, nostack)) };
    }};
}

/// `id registers show only supported features`.
fn id_registers(report: &mut Report) {
    let pfr0 = mrs!("S3_0_C0_C4_0");
    let pfr1 = mrs!("S3_0_C0_C4_1");
    let zfr0 = mrs!("S3_0_C0_C4_4");
    let smfr0 = mrs!("S3_0_C0_C4_5");
    let dfr0 = mrs!("S3_0_C0_C5_0");
    let mmfr1 = mrs!("S3_0_C0_C7_1");
    let pfr0_32 = mrs!("S3_0_C0_C1_0");
    let unallocated = mrs!("S3_0_C0_C3_7");
    println!(
        "testguest: ID_AA64PFR0 {:#x} PFR1 {:#x} DFR0 {:#x} MMFR1 {:#x}",
        pfr0, pfr1, dfr0, mmfr1
    );
    let checks: [(&str, u64, u64); 23] = [
        ("PFR0.EL0", field(pfr0, 0), 1),
        ("PFR0.EL1", field(pfr0, 4), 1),
        ("PFR0.EL2", field(pfr0, 8), 0),
        ("PFR0.RAS", field(pfr0, 28), 0),
        ("PFR0.SVE", field(pfr0, 32), 0),
        ("PFR0.MPAM", field(pfr0, 40), 0),
        ("PFR0.AMU", field(pfr0, 44), 0),
        ("PFR1.MTE", field(pfr1, 8), 0),
        ("PFR1.SME", field(pfr1, 24), 0),
        ("ZFR0", zfr0, 0),
        ("SMFR0", smfr0, 0),
        ("DFR0.TraceVer", field(dfr0, 4), 0),
        ("DFR0.PMUVer", field(dfr0, 8), 0),
        ("DFR0.BRPs", field(dfr0, 12), 1),
        ("DFR0.WRPs", field(dfr0, 20), 1),
        ("DFR0.PMSVer", field(dfr0, 32), 0),
        ("DFR0.TraceBuffer", field(dfr0, 44), 0),
        ("DFR0.BRBE", field(dfr0, 52), 0),
        ("MMFR1.VMIDBits", field(mmfr1, 4), 0),
        ("MMFR1.VH", field(mmfr1, 8), 0),
        ("ID_PFR0", pfr0_32, 0),
        ("S3_0_C0_C3_7", unallocated, 0),
        ("PFR0.FP", field(pfr0, 16), field(pfr0, 20)),
    ];
    match checks.iter().find(|(_, got, want)| got != want) {
        None => report.pass(format_args!("id registers show only supported features")),
        Some((name, got, want)) => report.fail(
            format_args!("id registers show only supported features"),
            format_args!("{} = {:#x}, want {:#x}", name, got, want),
        ),
    }
}

unsafe extern "C" {
    fn testguest_read_pmcr() -> u64;
    fn testguest_read_pmccntr() -> u64;
    fn testguest_write_pmcntenset(v: u64);
    fn testguest_read_dbgbvr2() -> u64;
    fn testguest_sve_rdvl() -> u64;
    fn testguest_read_zcr() -> u64;
    fn testguest_read_smcr() -> u64;
    fn testguest_read_trcprgctlr() -> u64;
    fn testguest_read_amcr() -> u64;
}

// Each probe is the access, a NOP (where a PC advanced past the access
// points) and a return (see `exception::expect_undefined`).
global_asm!(
    r#"
    .section .text.testguest_feature_probes, "ax"
    .balign 4
    .global testguest_read_pmcr
testguest_read_pmcr:
    mrs     x0, S3_3_C9_C12_0           // PMCR_EL0
    nop
    ret
    .global testguest_read_pmccntr
testguest_read_pmccntr:
    mrs     x0, S3_3_C9_C13_0           // PMCCNTR_EL0
    nop
    ret
    .global testguest_write_pmcntenset
testguest_write_pmcntenset:
    msr     S3_3_C9_C12_1, x0           // PMCNTENSET_EL0
    nop
    ret
    .global testguest_read_dbgbvr2
testguest_read_dbgbvr2:
    mrs     x0, S2_0_C0_C2_4            // DBGBVR2_EL1
    nop
    ret
    .global testguest_sve_rdvl
testguest_sve_rdvl:
    .inst   0x04bf5020                  // RDVL X0, #1 (SVE)
    nop
    ret
    .global testguest_read_zcr
testguest_read_zcr:
    mrs     x0, S3_0_C1_C2_0            // ZCR_EL1
    nop
    ret
    .global testguest_read_smcr
testguest_read_smcr:
    mrs     x0, S3_0_C1_C2_6            // SMCR_EL1
    nop
    ret
    .global testguest_read_trcprgctlr
testguest_read_trcprgctlr:
    mrs     x0, S2_1_C0_C1_0            // TRCPRGCTLR
    nop
    ret
    .global testguest_read_amcr
testguest_read_amcr:
    mrs     x0, S3_3_C13_C2_0           // AMCR_EL0
    nop
    ret
    "#
);

/// Runs `probe` (whose first instruction is the access) and returns
/// `Ok(())` if exactly an Undefined Instruction exception (EC 0) was taken
/// at that instruction, else what happened.
fn undefined(name: &'static str, probe: unsafe extern "C" fn() -> u64) -> Result<(), (&'static str, u64, u64)> {
    let pc = probe as *const () as usize as u64;
    exception::expect_undefined(pc);
    // SAFETY: the probe is one access, a NOP and a return; an exception it
    // raises is skipped by the handler armed above.
    let value = unsafe { probe() };
    let record = exception::take_record();
    let esr = LocalRegisterCopy::<u64, ESR_EL1::Register>::new(record.esr);
    if record.count == 1 && esr.matches_all(ESR_EL1::EC::Unknown) && record.elr == pc {
        Ok(())
    } else if record.count == 0 {
        Err((name, value, u64::MAX))
    } else {
        Err((name, record.esr, record.elr))
    }
}

/// Reports the first probe of `probes` that was not undefined.
fn all_undefined(report: &mut Report, check: &str, probes: &[(&'static str, unsafe extern "C" fn() -> u64)]) {
    let failure = probes.iter().find_map(|&(name, probe)| undefined(name, probe).err());
    match failure {
        None => report.pass(format_args!("{}", check)),
        Some((name, a, u64::MAX)) => report.fail(
            format_args!("{}", check),
            format_args!("{} took no exception (read {:#x})", name, a),
        ),
        Some((name, esr, elr)) => report.fail(
            format_args!("{}", check),
            format_args!("{} took ESR {:#x} at {:#x}", name, esr, elr),
        ),
    }
}

/// `pmu registers undefined`.
fn pmu_registers(report: &mut Report) {
    // The write: its probe takes X0 (0: enables no counter).
    let pc = testguest_write_pmcntenset as *const () as usize as u64;
    exception::expect_undefined(pc);
    // SAFETY: as in `undefined`; the value enables no counter.
    unsafe { testguest_write_pmcntenset(0) };
    let write = exception::take_record();
    let esr = LocalRegisterCopy::<u64, ESR_EL1::Register>::new(write.esr);
    let write_ok = write.count == 1 && write.elr == pc && esr.matches_all(ESR_EL1::EC::Unknown);
    if !write_ok {
        report.fail(
            format_args!("pmu registers undefined"),
            format_args!(
                "PMCNTENSET_EL0 write: {} exceptions, ESR {:#x} at {:#x}",
                write.count, write.esr, write.elr
            ),
        );
        return;
    }
    all_undefined(
        report,
        "pmu registers undefined",
        &[
            ("PMCR_EL0", testguest_read_pmcr),
            ("PMCCNTR_EL0", testguest_read_pmccntr),
        ],
    );
}

/// `debug registers emulated`.
fn debug_registers(report: &mut Report) {
    const OSLSR_OSLM_IMPLEMENTED: u64 = 1 << 3;
    const OSLSR_OSLK: u64 = 1 << 1;
    const BVR: u64 = 0x4008_0000;
    const WCR: u64 = 0x1e0; // BAS = all bytes, not enabled
    msr!("S2_0_C1_C0_4", 0); // OSLAR_EL1: unlock
    let oslsr = mrs!("S2_0_C1_C1_4");
    msr!("S2_0_C0_C0_4", BVR); // DBGBVR0_EL1
    msr!("S2_0_C0_C1_7", WCR); // DBGWCR1_EL1
    let bvr = mrs!("S2_0_C0_C0_4");
    let wcr = mrs!("S2_0_C0_C1_7");
    let mdrar = mrs!("S2_0_C1_C0_0");
    msr!("S2_0_C0_C0_4", 0);
    msr!("S2_0_C0_C1_7", 0);
    let name = format_args!("debug registers emulated");
    if oslsr & (OSLSR_OSLM_IMPLEMENTED | OSLSR_OSLK | 1) != OSLSR_OSLM_IMPLEMENTED {
        report.fail(name, format_args!("OSLSR_EL1 {:#x} after unlocking", oslsr));
    } else if bvr != BVR || wcr != WCR {
        report.fail(name, format_args!("DBGBVR0 {:#x}, DBGWCR1 {:#x} read back", bvr, wcr));
    } else if mdrar != 0 {
        report.fail(name, format_args!("MDRAR_EL1 {:#x}", mdrar));
    } else {
        all_undefined(
            report,
            "debug registers emulated",
            &[("DBGBVR2_EL1", testguest_read_dbgbvr2)],
        );
    }
}

/// `CPACR_EL1.ZEN` (17:16) and `SMEN` (25:24) = 0b11: SVE and SME not
/// trapped at EL1.
const CPACR_ZEN_SMEN: u64 = 0b11 << 16 | 0b11 << 24;

/// Runs the checks in order.
pub fn run(report: &mut Report) {
    id_registers(report);
    pmu_registers(report);
    debug_registers(report);
    let cpacr = mrs!("cpacr_el1");
    // SAFETY: only lifts the guest's own SVE/SME traps for the probes
    // below; put back right after them.
    unsafe { asm!("msr cpacr_el1, {}", "isb", in(reg) cpacr | CPACR_ZEN_SMEN, options(nomem, nostack)) };
    all_undefined(
        report,
        "sve, sme, trace and amu accesses undefined",
        &[
            ("RDVL", testguest_sve_rdvl),
            ("ZCR_EL1", testguest_read_zcr),
            ("SMCR_EL1", testguest_read_smcr),
            ("TRCPRGCTLR", testguest_read_trcprgctlr),
            ("AMCR_EL0", testguest_read_amcr),
        ],
    );
    // SAFETY: puts back the value read above.
    unsafe { asm!("msr cpacr_el1, {}", "isb", in(reg) cpacr, options(nomem, nostack)) };
}
