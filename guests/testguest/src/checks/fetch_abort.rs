//! A branch to an address with nothing mapped, from EL1 and from EL0: the
//! hypervisor must inject a synchronous external *instruction* abort, as a
//! CPU gives it for a fetch from nowhere: `ESR_EL1.EC` 0x21 (same EL) or
//! 0x20 (lower EL), `IL` = 1, `IFSC` 0x10, `FAR_EL1` and `ELR_EL1` the
//! branch target, taken on the vector of where the fetch came from
//! (current EL with SP_ELx, or lower EL AArch64).
//!
//! From EL1 the probe branches with `BLR`; from EL0 it returns there with
//! `ERET` (`SPSR_EL1` = EL0t): the first fetch at EL0 is the faulting one,
//! so no EL0 code or stack is needed. EL0 may fetch from anywhere here:
//! the MMU is off (`SCTLR_EL1.M` = 0), so stage 1 is flat and checks no
//! permissions, and only stage 2 (the hypervisor) faults. Either way the
//! handler ([`exception::expect_fetch_abort`]) resumes at the probe's `X30`.

use core::arch::global_asm;

use aarch64_cpu::registers::{ESR_EL1, SPSR_EL1};
use tock_registers::{LocalRegisterCopy, register_bitfields};

use super::Report;
use crate::exception::{self, VECTOR_CURRENT_SPX_SYNC, VECTOR_LOWER_A64_SYNC};
use crate::platform::UNMAPPED_CODE_ADDR;

register_bitfields! {u64,
    /// The ISS of an instruction abort (ESR_ELx.EC 0x20 / 0x21).
    INSTRUCTION_ABORT_ISS [
        /// Instruction fault status code.
        IFSC OFFSET(0) NUMBITS(6) [
            /// Synchronous external abort, not on a translation table walk.
            SynchronousExternalAbort = 0b01_0000
        ]
    ]
}

/// Where the EL0 probe branches: the page after the EL1 one, so that the
/// two checks' addresses differ.
const EL0_TARGET: u64 = UNMAPPED_CODE_ADDR + 0x1000;

unsafe extern "C" {
    /// Branches to `target` with `BLR` at EL1 and returns once the handler
    /// resumed at the return address.
    fn testguest_branch_el1(target: u64);
    /// Returns to `target` at EL0 with `spsr` (an EL0t PSTATE), and
    /// returns once the handler resumed at EL1 at the `X30` it set.
    fn testguest_branch_el0(target: u64, spsr: u64);
}

global_asm!(
    r#"
    .section .text.testguest_branch, "ax"
    .balign 4
    .global testguest_branch_el1
testguest_branch_el1:
    stp     x29, x30, [sp, #-16]!
    blr     x0                          // faults at x0; X30 is the ldp
    ldp     x29, x30, [sp], #16
    ret

    .global testguest_branch_el0
testguest_branch_el0:
    stp     x29, x30, [sp, #-16]!
    adr     x30, 1f                     // where the handler resumes
    msr     elr_el1, x0
    msr     spsr_el1, x1
    eret                                // the fetch at x0, at EL0, faults
1:  ldp     x29, x30, [sp], #16
    ret
    "#
);

/// Branches to the unmapped address from EL1, then from EL0, and checks
/// each instruction abort.
pub fn run(report: &mut Report) {
    use ESR_EL1::EC::Value::{InstrAbortCurrentEL, InstrAbortLowerEL};
    exception::expect_fetch_abort(UNMAPPED_CODE_ADDR);
    // SAFETY: nothing is mapped at the target, so the fetch aborts and the
    // handler, armed above, resumes at the return address; the function
    // preserves what the C ABI asks.
    unsafe { testguest_branch_el1(UNMAPPED_CODE_ADDR) };
    judge(
        report,
        "EL1",
        UNMAPPED_CODE_ADDR,
        InstrAbortCurrentEL,
        VECTOR_CURRENT_SPX_SYNC,
    );

    // EL0t with D, A, I and F masked: no interrupt is taken at EL0.
    let el0t =
        SPSR_EL1::M::EL0t + SPSR_EL1::D::Masked + SPSR_EL1::A::Masked + SPSR_EL1::I::Masked + SPSR_EL1::F::Masked;
    exception::expect_fetch_abort(EL0_TARGET);
    // SAFETY: as above; the first EL0 fetch aborts to EL1, where the
    // handler resumes the probe at EL1h on the same stack.
    unsafe { testguest_branch_el0(EL0_TARGET, el0t.value) };
    judge(report, "EL0", EL0_TARGET, InstrAbortLowerEL, VECTOR_LOWER_A64_SYNC);
}

/// Reports `instruction abort from <from>`: one exception taken at
/// `target` on `vector`, with `ESR_EL1.EC` = `ec`, IL = 1, IFSC =
/// synchronous external abort, and `FAR_EL1` = `target`.
fn judge(report: &mut Report, from: &str, target: u64, ec: ESR_EL1::EC::Value, vector: u64) {
    let record = exception::take_record();
    let esr = LocalRegisterCopy::<u64, ESR_EL1::Register>::new(record.esr);
    let iss = LocalRegisterCopy::<u64, INSTRUCTION_ABORT_ISS::Register>::new(esr.read(ESR_EL1::ISS));
    let name = format_args!("instruction abort from {}", from);
    if record.count == 0 {
        report.fail(name, format_args!("no exception taken by the fetch at {:#x}", target));
    } else if esr.read_as_enum(ESR_EL1::EC) == Some(ec)
        && esr.is_set(ESR_EL1::IL)
        && iss.matches_all(INSTRUCTION_ABORT_ISS::IFSC::SynchronousExternalAbort)
        && record.far == target
        && record.vector == vector
    {
        report.pass(name);
    } else {
        report.fail(
            name,
            format_args!(
                "took ESR={:#x} (EC {:#x}, IL {}, FSC {:#x}) FAR={:#x} on vector {}, want EC {:#x}, IL 1, FSC 0x10, FAR={:#x} on vector {}",
                record.esr,
                esr.read(ESR_EL1::EC),
                esr.read(ESR_EL1::IL),
                iss.read(INSTRUCTION_ABORT_ISS::IFSC),
                record.far,
                record.vector,
                ec as u64,
                target,
                vector
            ),
        );
    }
}
