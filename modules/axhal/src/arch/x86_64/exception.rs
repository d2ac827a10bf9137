//! x86 exception vectors in words: names, which ones push an error code,
//! and what an error code says. Portable (no hardware access), so it is
//! tested on the build machine; the x86_64 trap handler uses it for its
//! crash reports.

use core::fmt;
use tock_registers::{LocalRegisterCopy, register_bitfields};

/// First vector that is an interrupt rather than an exception.
pub const FIRST_INTERRUPT: u8 = 32;

/// An interrupt descriptor table vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vector(pub u8);

impl Vector {
    /// #UD.
    pub const INVALID_OPCODE: Vector = Vector(6);
    /// #DF.
    pub const DOUBLE_FAULT: Vector = Vector(8);
    /// #GP.
    pub const GENERAL_PROTECTION: Vector = Vector(13);
    /// #PF.
    pub const PAGE_FAULT: Vector = Vector(14);

    /// (mnemonic, name) of the architectural exceptions, by vector.
    const EXCEPTIONS: [(&'static str, &'static str); 32] = [
        ("#DE", "divide error"),
        ("#DB", "debug"),
        ("NMI", "non-maskable interrupt"),
        ("#BP", "breakpoint"),
        ("#OF", "overflow"),
        ("#BR", "bound range exceeded"),
        ("#UD", "invalid opcode"),
        ("#NM", "device not available"),
        ("#DF", "double fault"),
        ("-", "coprocessor segment overrun"),
        ("#TS", "invalid TSS"),
        ("#NP", "segment not present"),
        ("#SS", "stack-segment fault"),
        ("#GP", "general protection fault"),
        ("#PF", "page fault"),
        ("-", "reserved"),
        ("#MF", "x87 floating-point error"),
        ("#AC", "alignment check"),
        ("#MC", "machine check"),
        ("#XM", "SIMD floating-point exception"),
        ("#VE", "virtualization exception"),
        ("#CP", "control protection exception"),
        ("-", "reserved"),
        ("-", "reserved"),
        ("-", "reserved"),
        ("-", "reserved"),
        ("-", "reserved"),
        ("-", "reserved"),
        ("#HV", "hypervisor injection exception"),
        ("#VC", "VMM communication exception"),
        ("#SX", "security exception"),
        ("-", "reserved"),
    ];

    /// Short name, as the manuals write it (`#PF`); `INT` for interrupts.
    pub fn mnemonic(self) -> &'static str {
        Self::EXCEPTIONS.get(self.0 as usize).map_or("INT", |e| e.0)
    }

    /// The name in words.
    pub fn name(self) -> &'static str {
        Self::EXCEPTIONS.get(self.0 as usize).map_or("interrupt", |e| e.1)
    }

    /// Whether the CPU pushes an error code for this vector.
    pub fn has_error_code(self) -> bool {
        matches!(self.0, 8 | 10..=14 | 17 | 21 | 29 | 30)
    }
}

register_bitfields! {u64,
    /// The error code of a page fault (#PF).
    pub PF_ERROR [
        /// 0: the page was not present; 1: a protection violation.
        PRESENT OFFSET(0) NUMBITS(1) [],
        /// The access was a write.
        WRITE OFFSET(1) NUMBITS(1) [],
        /// The access came from user mode (CPL 3).
        USER OFFSET(2) NUMBITS(1) [],
        /// A reserved bit was set in a paging entry.
        RESERVED_BIT OFFSET(3) NUMBITS(1) [],
        /// The access was an instruction fetch.
        INSTRUCTION_FETCH OFFSET(4) NUMBITS(1) [],
        /// A protection key forbade the access.
        PROTECTION_KEY OFFSET(5) NUMBITS(1) [],
        /// A shadow-stack access.
        SHADOW_STACK OFFSET(6) NUMBITS(1) []
    ],
    /// The error code of #TS, #NP, #SS, #GP: the selector involved.
    pub SELECTOR_ERROR [
        /// An event external to the program caused it.
        EXTERNAL OFFSET(0) NUMBITS(1) [],
        /// The index refers to the IDT.
        IDT OFFSET(1) NUMBITS(1) [],
        /// The index refers to the LDT (else the GDT), when not the IDT.
        LDT OFFSET(2) NUMBITS(1) [],
        /// The descriptor index.
        INDEX OFFSET(3) NUMBITS(13) []
    ]
}

/// An error code in words.
pub struct ErrorCodeText {
    vector: Vector,
    code: u64,
}

/// Describes the error code `code` of exception `vector`.
pub fn describe_error_code(vector: Vector, code: u64) -> ErrorCodeText {
    ErrorCodeText { vector, code }
}

impl fmt::Display for ErrorCodeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.vector.0 {
            14 => {
                let e = LocalRegisterCopy::<u64, PF_ERROR::Register>::new(self.code);
                let access = if e.is_set(PF_ERROR::INSTRUCTION_FETCH) {
                    "instruction fetch"
                } else if e.is_set(PF_ERROR::WRITE) {
                    "write"
                } else {
                    "read"
                };
                let why = if e.is_set(PF_ERROR::PRESENT) {
                    "protection violation"
                } else {
                    "page not present"
                };
                let mode = if e.is_set(PF_ERROR::USER) { "user" } else { "kernel" };
                write!(f, "{access}, {why}, {mode} mode")?;
                if e.is_set(PF_ERROR::RESERVED_BIT) {
                    f.write_str(", reserved bit set")?;
                }
                if e.is_set(PF_ERROR::PROTECTION_KEY) {
                    f.write_str(", protection key")?;
                }
                if e.is_set(PF_ERROR::SHADOW_STACK) {
                    f.write_str(", shadow stack")?;
                }
                Ok(())
            }
            10..=13 if self.code == 0 => f.write_str("no selector"),
            10..=13 => {
                let e = LocalRegisterCopy::<u64, SELECTOR_ERROR::Register>::new(self.code);
                let index = e.read(SELECTOR_ERROR::INDEX);
                if e.is_set(SELECTOR_ERROR::IDT) {
                    write!(f, "IDT vector {index}")?;
                } else if e.is_set(SELECTOR_ERROR::LDT) {
                    write!(f, "LDT selector {:#x}", index << 3)?;
                } else {
                    write!(f, "GDT selector {:#x}", index << 3)?;
                }
                if e.is_set(SELECTOR_ERROR::EXTERNAL) {
                    f.write_str(", external event")?;
                }
                Ok(())
            }
            _ => f.write_str("(no decoding)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_error_codes() {
        assert_eq!((Vector(14).mnemonic(), Vector(14).name()), ("#PF", "page fault"));
        assert_eq!((Vector(6).mnemonic(), Vector(6).name()), ("#UD", "invalid opcode"));
        assert_eq!((Vector(240).mnemonic(), Vector(240).name()), ("INT", "interrupt"));
        let with: Vec<u8> = (0..=255).filter(|&v| Vector(v).has_error_code()).collect();
        assert_eq!(with, [8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
    }

    #[test]
    fn page_fault_codes() {
        let d = |c| describe_error_code(Vector::PAGE_FAULT, c).to_string();
        assert_eq!(d(0), "read, page not present, kernel mode");
        assert_eq!(d(0b11), "write, protection violation, kernel mode");
        assert_eq!(d(0b1_0001), "instruction fetch, protection violation, kernel mode");
        assert_eq!(d(0b1100), "read, page not present, user mode, reserved bit set");
    }

    #[test]
    fn selector_codes() {
        let d = |c| describe_error_code(Vector::GENERAL_PROTECTION, c).to_string();
        assert_eq!(d(0), "no selector");
        assert_eq!(d(0x18), "GDT selector 0x18");
        assert_eq!(d(0x6a), "IDT vector 13");
        assert_eq!(d(0x1d), "LDT selector 0x18, external event");
        assert_eq!(
            describe_error_code(Vector::DOUBLE_FAULT, 0).to_string(),
            "(no decoding)"
        );
    }
}
