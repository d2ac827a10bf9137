//! A system register write the hypervisor traps but does not emulate: it
//! must make the guest take an Undefined Instruction exception at EL1, at
//! that instruction, which the exception handler skips.
//!
//! The write is of `ICC_SGI0R_EL1` (a Group 0 SGI request). The hypervisor
//! runs the guest with `HCR_EL2.FMO` set, so the write traps to EL2; having
//! no Group 0 interrupts to offer, the hypervisor must inject an exception
//! with `ESR_EL1.EC` = 0 (unknown reason), `IL` = 1 and `ELR_EL1` = the
//! address of the `MSR`.

use core::arch::global_asm;

use aarch64_cpu::registers::ESR_EL1;
use tock_registers::LocalRegisterCopy;

use super::Report;
use crate::exception;

/// The value written to `ICC_SGI0R_EL1`: SGI 0 to an empty target list
/// (`IRM` = 0, `TargetList` = 0), so that no PE would be signalled even if
/// the write took effect.
const SGI0R_VALUE: u64 = 0;

unsafe extern "C" {
    /// Writes `value` to `ICC_SGI0R_EL1`. Its first instruction is that
    /// `MSR`, followed by a `NOP` (see [`exception::expect_undefined`]).
    fn testguest_write_sgi0r(value: u64);
}

global_asm!(
    r#"
    .section .text.testguest_write_sgi0r, "ax"
    .balign 4
    .global testguest_write_sgi0r
testguest_write_sgi0r:
    msr     S3_0_C12_C11_7, x0          // ICC_SGI0R_EL1
    nop                                 // where a PC advanced past the MSR points
    ret
    "#
);

/// The address of the `MSR` (the MMU is off, so it is the link address).
fn msr_address() -> u64 {
    testguest_write_sgi0r as *const () as usize as u64
}

/// Writes `ICC_SGI0R_EL1` and checks that exactly the expected Undefined
/// Instruction exception was taken and execution went on.
pub fn run(report: &mut Report) {
    let name = format_args!("undefined instruction");
    let pc = msr_address();
    exception::expect_undefined(pc);
    // SAFETY: the write requests no interrupt for any PE (see SGI0R_VALUE)
    // and touches no memory; the exception it should raise is skipped by
    // the handler, armed above, and the function preserves what the C ABI
    // asks.
    unsafe { testguest_write_sgi0r(SGI0R_VALUE) };
    let record = exception::take_record();
    let esr = LocalRegisterCopy::<u64, ESR_EL1::Register>::new(record.esr);
    if record.count == 0 {
        report.fail(
            name,
            format_args!("no exception taken by the write of ICC_SGI0R_EL1 at {:#x}", pc),
        );
    } else if esr.matches_all(ESR_EL1::EC::Unknown + ESR_EL1::IL::SET) && record.elr == pc {
        report.pass(format_args!("undefined instruction injected"));
    } else {
        report.fail(
            name,
            format_args!(
                "took ESR={:#x} (EC {:#x}, IL {}) ELR={:#x}, want EC 0x0, IL 1, ELR={:#x}",
                record.esr,
                esr.read(ESR_EL1::EC),
                esr.read(ESR_EL1::IL),
                record.elr,
                pc
            ),
        );
    }
}
