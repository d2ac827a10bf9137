//! The operation classes of the fuzz mode, their names (as the parameter
//! line and the report spell them) and the default mix.

/// A class of guest operations; each fuzzed instruction belongs to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Class {
    /// `HVC` with random function ids (SMCCC ranges, the vendor
    /// hypercalls, anything) and arguments.
    Hvc,
    /// `SMC` likewise.
    Smc,
    /// PSCI calls over `HVC`/`SMC` with random arguments: `CPU_ON` of random
    /// targets and entry points, `AFFINITY_INFO`, `FEATURES`,
    /// `MIGRATE_INFO_TYPE`, ...
    Psci,
    /// PSCI `CPU_SUSPEND` with random arguments, the virtual timer armed
    /// first so that it wakes.
    PsciSuspend,
    /// Loads and stores that have a syndrome: `LDR`/`STR` of 8 to 64 bits,
    /// sign-extending loads, `LDAR`/`STLR`, `LDUR`, `LDTR`, the zero
    /// register.
    Mmio,
    /// `LDP`/`STP`/`LDPSW`/`LDNP`/`STNP`: no syndrome.
    MmioPair,
    /// Pre- and post-indexed (write-back) loads and stores: no syndrome.
    MmioWriteback,
    /// Exclusive loads and stores (`LDXR`, `STXR`, `LDAXP`, ...): no
    /// syndrome.
    MmioExclusive,
    /// FP/SIMD loads and stores (`LDR Q0`, `LD1`, `LDP Q`, ...): no
    /// syndrome.
    MmioSimd,
    /// `DC ZVA` on device and unmapped addresses.
    DcZva,
    /// Cache maintenance by address (`DC CIVAC`, `IC IVAU`, ...) on device
    /// and unmapped addresses, set/way operations, `IC IALLU`, `TLBI`,
    /// `AT`, barriers.
    CacheTlb,
    /// System register reads and writes: `ICC_*`, ID registers, PMU,
    /// debug, implementation defined encodings.
    Sysreg,
    /// The EL1 virtual and physical timers' `CTL`, `CVAL`, `TVAL` with
    /// random values (compare values below 2^62, timer values not
    /// negative: see `target.rs`).
    Timer,
    /// `WFE`, `SEV`, `YIELD`.
    Wfx,
    /// `WFI` with the virtual timer armed 50 us ahead so that it wakes.
    Wfi,
    /// Undefined and trapping encodings: `UDF`, unallocated encodings,
    /// `BRK`, `HLT`, `SVC`, `HVC`/`SMC` with non-zero immediates.
    Undef,
    /// SGIs with random `ICC_SGI1R_EL1`/`ICC_ASGI1R_EL1`/`ICC_SGI0R_EL1`
    /// values.
    Sgi,
}

/// How many classes there are.
pub const COUNT: usize = 17;

/// Every class, in report order.
pub const ALL: [Class; COUNT] = [
    Class::Hvc,
    Class::Smc,
    Class::Psci,
    Class::PsciSuspend,
    Class::Mmio,
    Class::MmioPair,
    Class::MmioWriteback,
    Class::MmioExclusive,
    Class::MmioSimd,
    Class::DcZva,
    Class::CacheTlb,
    Class::Sysreg,
    Class::Timer,
    Class::Wfx,
    Class::Wfi,
    Class::Undef,
    Class::Sgi,
];

impl Class {
    /// The class's name in the parameter line and the report.
    pub const fn name(self) -> &'static str {
        match self {
            Class::Hvc => "hvc",
            Class::Smc => "smc",
            Class::Psci => "psci",
            Class::PsciSuspend => "psci_suspend",
            Class::Mmio => "mmio",
            Class::MmioPair => "mmio_pair",
            Class::MmioWriteback => "mmio_writeback",
            Class::MmioExclusive => "mmio_exclusive",
            Class::MmioSimd => "mmio_simd",
            Class::DcZva => "dc_zva",
            Class::CacheTlb => "cache_tlb",
            Class::Sysreg => "sysreg",
            Class::Timer => "timer",
            Class::Wfx => "wfx",
            Class::Wfi => "wfi",
            Class::Undef => "undef",
            Class::Sgi => "sgi",
        }
    }

    /// The class's bit in a class mask.
    pub const fn bit(self) -> u64 {
        1 << self as u8
    }

    /// The class named `name`, if any.
    pub fn from_name(name: &str) -> Option<Class> {
        ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The class's index in [`ALL`] (and in the counters).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A mask with every class.
pub const fn all_mask() -> u64 {
    (1 << COUNT) - 1
}

/// The default mix: every class (`make test` fuzzes with all of them).
pub const fn default_mask() -> u64 {
    all_mask()
}

const _: () = assert!(ALL.len() == COUNT && COUNT <= 64);
