//! Builders of raw register values for the tests, written from the ARM ARM
//! field layouts (DDI 0487, ESR_EL2 and HPFAR_EL2) with plain shifts. They
//! deliberately do not use the crate's own field definitions, so that a
//! wrong definition fails a test instead of agreeing with itself.

/// ESR_ELx: EC \[31:26\], IL \[25\], ISS \[24:0\].
pub fn esr(ec: u64, il: bool, iss: u64) -> u64 {
    (ec << 26) | (u64::from(il) << 25) | iss
}

/// The ISS of a data abort, field by field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dabt {
    /// \[24\] instruction syndrome valid.
    pub isv: bool,
    /// \[23:22\] access size.
    pub sas: u64,
    /// \[21\] sign extend.
    pub sse: bool,
    /// \[20:16\] transfer register.
    pub srt: u64,
    /// \[15\] 64-bit register.
    pub sf: bool,
    /// \[14\] acquire/release.
    pub ar: bool,
    /// \[10\] FAR not valid.
    pub fnv: bool,
    /// \[8\] cache maintenance.
    pub cm: bool,
    /// \[7\] stage-1 page table walk.
    pub s1ptw: bool,
    /// \[6\] write not read.
    pub wnr: bool,
    /// \[5:0\] fault status code.
    pub dfsc: u64,
}

impl Dabt {
    /// A translation fault at level 3 with a valid syndrome.
    pub fn mmio(sas: u64, srt: u64, write: bool) -> Self {
        Self {
            isv: true,
            sas,
            srt,
            sf: true,
            wnr: write,
            dfsc: 0b00_0111,
            ..Self::default()
        }
    }

    /// The ISS value.
    pub fn iss(self) -> u64 {
        (u64::from(self.isv) << 24)
            | (self.sas << 22)
            | (u64::from(self.sse) << 21)
            | (self.srt << 16)
            | (u64::from(self.sf) << 15)
            | (u64::from(self.ar) << 14)
            | (u64::from(self.fnv) << 10)
            | (u64::from(self.cm) << 8)
            | (u64::from(self.s1ptw) << 7)
            | (u64::from(self.wnr) << 6)
            | self.dfsc
    }

    /// The ESR of this data abort from a lower EL (EC 0x24), IL = 1.
    pub fn esr(self) -> u64 {
        esr(0x24, true, self.iss())
    }
}

/// The ESR of an instruction abort from a lower EL (EC 0x20): FnV \[10\],
/// S1PTW \[7\], IFSC \[5:0\].
pub fn iabt(ifsc: u64, s1ptw: bool, fnv: bool) -> u64 {
    esr(0x20, true, (u64::from(fnv) << 10) | (u64::from(s1ptw) << 7) | ifsc)
}

/// The ESR of a trapped MSR/MRS (EC 0x18): Op0 \[21:20\], Op2 \[19:17\],
/// Op1 \[16:14\], CRn \[13:10\], Rt \[9:5\], CRm \[4:1\], Direction \[0\]
/// (1 = read).
pub fn sys64(op0: u64, op1: u64, crn: u64, crm: u64, op2: u64, rt: u64, read: bool) -> u64 {
    esr(
        0x18,
        true,
        (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | u64::from(read),
    )
}

/// HPFAR_EL2 for `ipa`: FIPA \[47:4\] holds IPA\[51:12\].
pub fn hpfar(ipa: u64) -> u64 {
    (ipa >> 12) << 4
}

/// A small deterministic pseudo-random generator (xorshift64*), for
/// sweeping the decoders with arbitrary register values.
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed non-zero seed.
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
