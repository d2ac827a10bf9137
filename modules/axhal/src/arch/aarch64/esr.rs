//! ESR_ELx decoding for reports: the exception class in words and the
//! fields a reader needs. Portable (no register access), tested on the build
//! machine. `arm_vcpu` has its own, fuller decoder for guest exits.

use tock_registers::{LocalRegisterCopy, register_bitfields};

register_bitfields! {u64,
    /// Exception Syndrome Register, the fields common to all classes.
    pub ESR [
        /// Instruction Specific Syndrome.
        ISS OFFSET(0) NUMBITS(25) [],
        /// Instruction Length: 1 = 32-bit instruction.
        IL OFFSET(25) NUMBITS(1) [],
        /// Exception Class.
        EC OFFSET(26) NUMBITS(6) []
    ]
}

/// The exception class field of an ESR value.
pub fn exception_class(esr: u64) -> u8 {
    LocalRegisterCopy::<u64, ESR::Register>::new(esr).read(ESR::EC) as u8
}

/// The instruction specific syndrome of an ESR value.
pub fn iss(esr: u64) -> u32 {
    LocalRegisterCopy::<u64, ESR::Register>::new(esr).read(ESR::ISS) as u32
}

/// The exception class in words (ARM ARM, ESR_ELx.EC).
pub fn class_name(ec: u8) -> &'static str {
    match ec {
        0x00 => "unknown reason",
        0x01 => "trapped WFI/WFE",
        0x03 => "trapped MCR/MRC (coproc 0b1111)",
        0x04 => "trapped MCRR/MRRC (coproc 0b1111)",
        0x05 => "trapped MCR/MRC (coproc 0b1110)",
        0x06 => "trapped LDC/STC",
        0x07 => "access to SIMD/floating point trapped",
        0x0c => "trapped MRRC (coproc 0b1110)",
        0x0d => "branch target exception",
        0x0e => "illegal execution state",
        0x11 => "SVC from AArch32",
        0x12 => "HVC from AArch32",
        0x13 => "SMC from AArch32",
        0x15 => "SVC from AArch64",
        0x16 => "HVC from AArch64",
        0x17 => "SMC from AArch64",
        0x18 => "trapped MSR/MRS/system instruction",
        0x19 => "access to SVE trapped",
        0x1c => "pointer authentication failure",
        0x20 => "instruction abort from a lower exception level",
        0x21 => "instruction abort from the same exception level",
        0x22 => "PC alignment fault",
        0x24 => "data abort from a lower exception level",
        0x25 => "data abort from the same exception level",
        0x26 => "SP alignment fault",
        0x28 => "trapped floating point exception (AArch32)",
        0x2c => "trapped floating point exception (AArch64)",
        0x2f => "SError interrupt",
        0x30 => "breakpoint from a lower exception level",
        0x31 => "breakpoint from the same exception level",
        0x32 => "software step from a lower exception level",
        0x33 => "software step from the same exception level",
        0x34 => "watchpoint from a lower exception level",
        0x35 => "watchpoint from the same exception level",
        0x38 => "BKPT (AArch32)",
        0x3c => "BRK (AArch64)",
        _ => "reserved exception class",
    }
}

/// For aborts (EC 0x20, 0x21, 0x24, 0x25): the fault status code in words.
pub fn fault_status_name(iss: u32) -> &'static str {
    // ISS.DFSC / IFSC, bits [5:0].
    match iss & 0x3f {
        0x00..=0x03 => "address size fault",
        0x04..=0x07 => "translation fault",
        0x09..=0x0b => "access flag fault",
        0x0d..=0x0f => "permission fault",
        0x10 => "synchronous external abort",
        0x21 => "alignment fault",
        0x30 => "TLB conflict abort",
        _ => "other fault",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_extracted() {
        // A data abort at EL2: EC 0x25, IL 1, DFSC translation fault level 3.
        let esr = (0x25 << 26) | (1 << 25) | 0x07;
        assert_eq!(exception_class(esr), 0x25);
        assert_eq!(iss(esr), 0x07);
        assert_eq!(class_name(0x25), "data abort from the same exception level");
        assert_eq!(fault_status_name(iss(esr)), "translation fault");
    }

    #[test]
    fn every_class_has_a_name() {
        for ec in 0..64u8 {
            assert!(!class_name(ec).is_empty());
        }
        assert_eq!(class_name(0x3f), "reserved exception class");
        assert_eq!(class_name(0x16), "HVC from AArch64");
        assert_eq!(fault_status_name(0x0f), "permission fault");
        assert_eq!(fault_status_name(0x21), "alignment fault");
    }
}
