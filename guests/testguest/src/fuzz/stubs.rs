//! The fuzzed instructions: one small function ("stub") each, in their own
//! section between `fuzz_stubs_start` and `fuzz_stubs_end`.
//!
//! A stub is `extern "C" fn(x0, x1, x2, x3) -> x0`: it may set up
//! registers, then runs the instruction under test, then a `NOP`, then
//! `RET`. The exception handler skips an instruction that faults inside
//! this section (`ELR_EL1` + 4), which lands on the `NOP` (or on the `RET`
//! for an exception that returns past its instruction, like `SVC`), so a
//! stub always returns. Stubs use only `X0..X3` and `V0`/`V1` (the target
//! is soft-float: nothing else keeps values in FP/SIMD registers).
//!
//! Each stub also says what its arguments are ([`Arg`]), whether it writes
//! memory at `X0` ([`Access::Store`], so that the target picker keeps it
//! off the few registers the fuzzer must not break, see `target.rs`), and
//! how its address is aligned.

use core::arch::global_asm;

use super::class::Class;

/// What a stub's arguments are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// `X0` an address (device, unmapped or out of range, never guest
    /// RAM), `X1..X3` random values.
    Addr,
    /// `X0` a random value.
    Value,
    /// `X0` a random binary point (`ICC_BPR0/1_EL1`): bits \[2:0\] only,
    /// see [`super::target::BPR_MASK`].
    Bpr,
    /// `X0` a random timer compare value (below [`super::target::CVAL_LIMIT`]).
    Cval,
    /// `X0` a random timer value (`TVAL`): non-negative, below
    /// [`super::target::TVAL_LIMIT`].
    Tval,
    /// `X0..X3` a hypercall: random function id (some excluded) and
    /// arguments.
    Call,
    /// `X0..X3` a PSCI call with random arguments.
    Psci,
    /// `X0..X3` PSCI `CPU_SUSPEND` with random arguments: the virtual timer
    /// is armed first, so that it wakes.
    Suspend,
    /// `X0` an ICC_SGI1R-style value with small target lists.
    Sgi,
    /// A `WFI`: the virtual timer is armed first, so that it wakes.
    Wfi,
    /// Nothing that matters (`X0` = an unmapped address, in case an
    /// encoding turns out to access memory).
    None,
}

/// Whether a stub writes memory at `X0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reads only (or touches no memory).
    Load,
    /// Writes at or near `X0` (up to 64 bytes, `DC ZVA`).
    Store,
}

/// One fuzzed instruction.
pub struct Stub {
    /// The stub's symbol (reports name it).
    pub name: &'static str,
    /// The class it counts in.
    pub class: Class,
    /// What its arguments are.
    pub arg: Arg,
    /// Whether it writes memory.
    pub access: Access,
    /// The alignment its address gets (bytes; the picker now and then
    /// leaves it unaligned).
    pub align: u64,
    /// The code.
    pub f: unsafe extern "C" fn(u64, u64, u64, u64) -> u64,
}

/// Declares the stubs: assembly, Rust declarations and the table.
macro_rules! stubs {
    ($($class:ident $arg:ident $access:ident $align:literal $name:ident $asm:literal;)*) => {
        global_asm!(
            ".pushsection .text.fuzz_stubs, \"ax\"",
            ".arch_extension fp",
            ".arch_extension simd",
            ".balign 16",
            ".global fuzz_stubs_start",
            "fuzz_stubs_start:",
            $(concat!(".balign 16\n.global ", stringify!($name), "\n", stringify!($name), ":\n", $asm, "\nnop\nret"),)*
            ".global fuzz_stubs_end",
            "fuzz_stubs_end:",
            ".popsection",
        );
        unsafe extern "C" {
            $(fn $name(x0: u64, x1: u64, x2: u64, x3: u64) -> u64;)*
            static fuzz_stubs_start: u8;
            static fuzz_stubs_end: u8;
        }
        /// Every stub.
        pub static STUBS: &[Stub] = &[
            $(Stub {
                name: stringify!($name),
                class: Class::$class,
                arg: Arg::$arg,
                access: Access::$access,
                align: $align,
                f: $name,
            },)*
        ];
    };
}

/// The address range of the stubs' code: an exception whose `ELR_EL1` is
/// in it was taken by a fuzzed instruction.
pub fn code_range() -> core::ops::Range<u64> {
    // Only the labels' addresses are taken; nothing reads through them.
    (&raw const fuzz_stubs_start as u64)..(&raw const fuzz_stubs_end as u64)
}

stubs! {
    // Calls.
    Hvc Call Load 1 fuzz_hvc "hvc #0";
    Smc Call Load 1 fuzz_smc "smc #0";
    Psci Psci Load 1 fuzz_psci_hvc "hvc #0";
    Psci Psci Load 1 fuzz_psci_smc "smc #0";
    PsciSuspend Suspend Load 1 fuzz_psci_suspend_hvc "hvc #0";
    PsciSuspend Suspend Load 1 fuzz_psci_suspend_smc "smc #0";

    // Loads and stores with a syndrome.
    Mmio Addr Load 1 fuzz_ldrb "ldrb w1, [x0]";
    Mmio Addr Load 2 fuzz_ldrh "ldrh w1, [x0]";
    Mmio Addr Load 4 fuzz_ldr_w "ldr w1, [x0]";
    Mmio Addr Load 8 fuzz_ldr_x "ldr x1, [x0]";
    Mmio Addr Load 1 fuzz_ldrsb_x "ldrsb x1, [x0]";
    Mmio Addr Load 1 fuzz_ldrsb_w "ldrsb w1, [x0]";
    Mmio Addr Load 2 fuzz_ldrsh_x "ldrsh x1, [x0]";
    Mmio Addr Load 2 fuzz_ldrsh_w "ldrsh w1, [x0]";
    Mmio Addr Load 4 fuzz_ldrsw "ldrsw x1, [x0]";
    Mmio Addr Load 8 fuzz_ldr_xzr "ldr xzr, [x0]";
    Mmio Addr Load 8 fuzz_ldur_x "ldur x1, [x0, #-8]";
    Mmio Addr Load 4 fuzz_ldr_w_imm "ldr w1, [x0, #4]";
    Mmio Addr Load 8 fuzz_ldr_x_reg "ldr x1, [x0, xzr]";
    Mmio Addr Load 8 fuzz_ldtr_x "ldtr x1, [x0]";
    Mmio Addr Load 8 fuzz_ldar_x "ldar x1, [x0]";
    Mmio Addr Load 4 fuzz_ldar_w "ldar w1, [x0]";
    Mmio Addr Load 1 fuzz_ldarb "ldarb w1, [x0]";
    Mmio Addr Load 2 fuzz_ldarh "ldarh w1, [x0]";
    Mmio Addr Load 8 fuzz_prfm "prfm pldl1keep, [x0]";
    Mmio Addr Store 1 fuzz_strb "strb w1, [x0]";
    Mmio Addr Store 2 fuzz_strh "strh w1, [x0]";
    Mmio Addr Store 4 fuzz_str_w "str w1, [x0]";
    Mmio Addr Store 8 fuzz_str_x "str x1, [x0]";
    Mmio Addr Store 8 fuzz_str_xzr "str xzr, [x0]";
    Mmio Addr Store 1 fuzz_strb_wzr "strb wzr, [x0]";
    Mmio Addr Store 8 fuzz_stur_x "stur x1, [x0, #-8]";
    Mmio Addr Store 8 fuzz_sttr_x "sttr x1, [x0]";
    Mmio Addr Store 8 fuzz_stlr_x "stlr x1, [x0]";
    Mmio Addr Store 4 fuzz_stlr_w "stlr w1, [x0]";
    Mmio Addr Store 1 fuzz_stlrb "stlrb w1, [x0]";
    Mmio Addr Store 2 fuzz_stlrh "stlrh w1, [x0]";

    // Pairs.
    MmioPair Addr Load 4 fuzz_ldp_w "ldp w1, w2, [x0]";
    MmioPair Addr Load 8 fuzz_ldp_x "ldp x1, x2, [x0]";
    MmioPair Addr Load 4 fuzz_ldpsw "ldpsw x1, x2, [x0]";
    MmioPair Addr Load 8 fuzz_ldnp_x "ldnp x1, x2, [x0]";
    MmioPair Addr Load 8 fuzz_ldp_x_off "ldp x1, x2, [x0, #-16]";
    MmioPair Addr Store 4 fuzz_stp_w "stp w1, w2, [x0]";
    MmioPair Addr Store 8 fuzz_stp_x "stp x1, x2, [x0]";
    MmioPair Addr Store 8 fuzz_stnp_x "stnp x1, x2, [x0]";
    MmioPair Addr Store 8 fuzz_stp_xzr "stp xzr, xzr, [x0]";

    // Write-back (pre- and post-indexed).
    MmioWriteback Addr Load 8 fuzz_ldr_x_pre "ldr x1, [x0, #8]!";
    MmioWriteback Addr Load 8 fuzz_ldr_x_post "ldr x1, [x0], #8";
    MmioWriteback Addr Load 4 fuzz_ldr_w_post_neg "ldr w1, [x0], #-4";
    MmioWriteback Addr Load 2 fuzz_ldrh_pre "ldrh w1, [x0, #2]!";
    MmioWriteback Addr Load 1 fuzz_ldrsb_post "ldrsb x1, [x0], #1";
    MmioWriteback Addr Load 8 fuzz_ldp_x_pre "ldp x1, x2, [x0, #16]!";
    MmioWriteback Addr Load 4 fuzz_ldp_w_post "ldp w1, w2, [x0], #8";
    MmioWriteback Addr Store 8 fuzz_str_x_pre "str x1, [x0, #-8]!";
    MmioWriteback Addr Store 1 fuzz_strb_post "strb w1, [x0], #1";
    MmioWriteback Addr Store 4 fuzz_str_w_pre "str w1, [x0, #4]!";
    MmioWriteback Addr Store 8 fuzz_stp_x_post "stp x1, x2, [x0], #16";
    MmioWriteback Addr Store 8 fuzz_stp_x_pre "stp x1, x2, [x0, #-16]!";
    // `str x0, [x0], #8` (the base also the source: constrained
    // unpredictable, which the assembler refuses to write).
    MmioWriteback Addr Store 8 fuzz_str_x_wb_same ".inst 0xf8008400";

    // Exclusives and acquire/release pairs.
    MmioExclusive Addr Load 8 fuzz_ldxr_x "ldxr x1, [x0]";
    MmioExclusive Addr Load 4 fuzz_ldxr_w "ldxr w1, [x0]";
    MmioExclusive Addr Load 1 fuzz_ldxrb "ldxrb w1, [x0]";
    MmioExclusive Addr Load 2 fuzz_ldxrh "ldxrh w1, [x0]";
    MmioExclusive Addr Load 8 fuzz_ldaxr_x "ldaxr x1, [x0]";
    MmioExclusive Addr Load 16 fuzz_ldxp_x "ldxp x1, x2, [x0]";
    MmioExclusive Addr Load 8 fuzz_ldaxp_w "ldaxp w1, w2, [x0]";
    MmioExclusive Addr Store 8 fuzz_stxr_x "stxr w3, x1, [x0]";
    MmioExclusive Addr Store 4 fuzz_stxr_w "stxr w3, w1, [x0]";
    MmioExclusive Addr Store 1 fuzz_stxrb "stxrb w3, w1, [x0]";
    MmioExclusive Addr Store 8 fuzz_stlxr_x "stlxr w3, x1, [x0]";
    MmioExclusive Addr Store 16 fuzz_stxp_x "stxp w3, x1, x2, [x0]";
    MmioExclusive Addr Store 8 fuzz_ldxr_stxr "ldxr x1, [x0]\nstxr w3, x2, [x0]";
    MmioExclusive Addr Load 1 fuzz_clrex "clrex";

    // FP/SIMD.
    MmioSimd Addr Load 16 fuzz_ldr_q "ldr q0, [x0]";
    MmioSimd Addr Load 8 fuzz_ldr_d "ldr d0, [x0]";
    MmioSimd Addr Load 4 fuzz_ldr_s "ldr s0, [x0]";
    MmioSimd Addr Load 2 fuzz_ldr_h "ldr h0, [x0]";
    MmioSimd Addr Load 1 fuzz_ldr_b "ldr b0, [x0]";
    MmioSimd Addr Load 16 fuzz_ld1_16b "ld1 {{v0.16b}}, [x0]";
    MmioSimd Addr Load 8 fuzz_ld1_2x8b "ld1 {{v0.8b, v1.8b}}, [x0]";
    MmioSimd Addr Load 4 fuzz_ld1r_4s "ld1r {{v0.4s}}, [x0]";
    MmioSimd Addr Load 16 fuzz_ldp_q "ldp q0, q1, [x0]";
    MmioSimd Addr Load 8 fuzz_ldr_d_post "ldr d0, [x0], #8";
    MmioSimd Addr Store 16 fuzz_str_q "fmov d0, x1\nmov v0.d[1], x2\nstr q0, [x0]";
    MmioSimd Addr Store 8 fuzz_str_d "fmov d0, x1\nstr d0, [x0]";
    MmioSimd Addr Store 4 fuzz_str_s "fmov d0, x1\nstr s0, [x0]";
    MmioSimd Addr Store 2 fuzz_str_h "fmov d0, x1\nstr h0, [x0]";
    MmioSimd Addr Store 1 fuzz_str_b "fmov d0, x1\nstr b0, [x0]";
    MmioSimd Addr Store 16 fuzz_st1_16b "fmov d0, x1\nst1 {{v0.16b}}, [x0]";
    MmioSimd Addr Store 16 fuzz_stp_d "fmov d0, x1\nfmov d1, x2\nstp d0, d1, [x0]";
    MmioSimd Addr Store 4 fuzz_st1_lane "fmov d0, x1\nst1 {{v0.s}}[1], [x0]";

    // DC ZVA.
    DcZva Addr Store 64 fuzz_dc_zva "dc zva, x0";

    // Cache and TLB maintenance, address translation, barriers.
    CacheTlb Addr Load 64 fuzz_dc_civac "dc civac, x0";
    CacheTlb Addr Load 64 fuzz_dc_cvac "dc cvac, x0";
    CacheTlb Addr Load 64 fuzz_dc_cvau "dc cvau, x0";
    CacheTlb Addr Store 64 fuzz_dc_ivac "dc ivac, x0";
    CacheTlb Addr Load 64 fuzz_ic_ivau "ic ivau, x0";
    CacheTlb Value Load 1 fuzz_dc_isw "dc isw, x0";
    CacheTlb Value Load 1 fuzz_dc_csw "dc csw, x0";
    CacheTlb Value Load 1 fuzz_dc_cisw "dc cisw, x0";
    CacheTlb None Load 1 fuzz_ic_iallu "ic iallu";
    CacheTlb None Load 1 fuzz_ic_ialluis "ic ialluis";
    CacheTlb None Load 1 fuzz_tlbi_vmalle1 "tlbi vmalle1";
    CacheTlb None Load 1 fuzz_tlbi_vmalle1is "tlbi vmalle1is";
    CacheTlb Value Load 1 fuzz_tlbi_vae1 "tlbi vae1, x0";
    CacheTlb Value Load 1 fuzz_tlbi_vale1is "tlbi vale1is, x0";
    CacheTlb Value Load 1 fuzz_tlbi_aside1 "tlbi aside1, x0";
    CacheTlb Value Load 1 fuzz_tlbi_vaae1is "tlbi vaae1is, x0";
    CacheTlb Addr Load 1 fuzz_at_s1e1r "at s1e1r, x0\nisb\nmrs x0, par_el1";
    CacheTlb Addr Load 1 fuzz_at_s1e1w "at s1e1w, x0\nisb\nmrs x0, par_el1";
    CacheTlb Addr Load 1 fuzz_at_s1e0r "at s1e0r, x0\nisb\nmrs x0, par_el1";
    CacheTlb None Load 1 fuzz_dsb_sy "dsb sy\nisb";

    // System registers: ID registers.
    Sysreg None Load 1 fuzz_r_midr "mrs x0, midr_el1";
    Sysreg None Load 1 fuzz_r_mpidr "mrs x0, mpidr_el1";
    Sysreg None Load 1 fuzz_r_revidr "mrs x0, revidr_el1";
    Sysreg None Load 1 fuzz_r_aa64pfr0 "mrs x0, id_aa64pfr0_el1";
    Sysreg None Load 1 fuzz_r_aa64pfr1 "mrs x0, id_aa64pfr1_el1";
    Sysreg None Load 1 fuzz_r_aa64dfr0 "mrs x0, id_aa64dfr0_el1";
    Sysreg None Load 1 fuzz_r_aa64dfr1 "mrs x0, id_aa64dfr1_el1";
    Sysreg None Load 1 fuzz_r_aa64afr0 "mrs x0, id_aa64afr0_el1";
    Sysreg None Load 1 fuzz_r_aa64isar0 "mrs x0, id_aa64isar0_el1";
    Sysreg None Load 1 fuzz_r_aa64isar1 "mrs x0, id_aa64isar1_el1";
    Sysreg None Load 1 fuzz_r_aa64mmfr0 "mrs x0, id_aa64mmfr0_el1";
    Sysreg None Load 1 fuzz_r_aa64mmfr1 "mrs x0, id_aa64mmfr1_el1";
    Sysreg None Load 1 fuzz_r_aa64mmfr2 "mrs x0, id_aa64mmfr2_el1";
    Sysreg None Load 1 fuzz_r_pfr0 "mrs x0, id_pfr0_el1";
    Sysreg None Load 1 fuzz_r_dfr0 "mrs x0, id_dfr0_el1";
    Sysreg None Load 1 fuzz_r_isar0 "mrs x0, id_isar0_el1";
    Sysreg None Load 1 fuzz_r_mmfr0 "mrs x0, id_mmfr0_el1";
    Sysreg None Load 1 fuzz_r_mvfr0 "mrs x0, mvfr0_el1";
    Sysreg None Load 1 fuzz_r_id_3_3 "mrs x0, s3_0_c0_c3_3";
    Sysreg None Load 1 fuzz_r_id_4_2 "mrs x0, s3_0_c0_c4_2";
    Sysreg None Load 1 fuzz_r_id_4_7 "mrs x0, s3_0_c0_c4_7";
    Sysreg None Load 1 fuzz_r_id_5_6 "mrs x0, s3_0_c0_c5_6";
    Sysreg None Load 1 fuzz_r_id_6_7 "mrs x0, s3_0_c0_c6_7";
    Sysreg None Load 1 fuzz_r_id_7_3 "mrs x0, s3_0_c0_c7_3";
    Sysreg None Load 1 fuzz_r_id_7_7 "mrs x0, s3_0_c0_c7_7";
    Sysreg None Load 1 fuzz_r_ctr "mrs x0, ctr_el0";
    Sysreg None Load 1 fuzz_r_dczid "mrs x0, dczid_el0";
    Sysreg None Load 1 fuzz_r_clidr "mrs x0, clidr_el1";
    Sysreg None Load 1 fuzz_r_ccsidr "mrs x0, ccsidr_el1";
    Sysreg None Load 1 fuzz_r_aidr "mrs x0, aidr_el1";
    Sysreg Value Load 1 fuzz_w_id_aa64pfr0 "msr s3_0_c0_c4_0, x0";
    Sysreg Value Load 1 fuzz_w_midr "msr s3_0_c0_c0_0, x0";
    Sysreg Value Load 1 fuzz_w_id_7_7 "msr s3_0_c0_c7_7, x0";
    Sysreg Value Load 1 fuzz_w_csselr "msr csselr_el1, x0";

    // System registers: the GIC CPU interface.
    Sysreg None Load 1 fuzz_r_iar1_eoi "mrs x0, icc_iar1_el1\nmsr icc_eoir1_el1, x0";
    Sysreg None Load 1 fuzz_r_iar0_eoi "mrs x0, icc_iar0_el1\nmsr icc_eoir0_el1, x0";
    Sysreg None Load 1 fuzz_r_hppir1 "mrs x0, icc_hppir1_el1";
    Sysreg None Load 1 fuzz_r_hppir0 "mrs x0, icc_hppir0_el1";
    Sysreg None Load 1 fuzz_r_rpr "mrs x0, icc_rpr_el1";
    Sysreg None Load 1 fuzz_r_icc_ctlr "mrs x0, icc_ctlr_el1";
    Sysreg None Load 1 fuzz_r_icc_pmr "mrs x0, icc_pmr_el1";
    Sysreg None Load 1 fuzz_r_icc_sre "mrs x0, icc_sre_el1";
    Sysreg None Load 1 fuzz_r_ap1r0 "mrs x0, icc_ap1r0_el1";
    Sysreg None Load 1 fuzz_r_ap1r1 "mrs x0, icc_ap1r1_el1";
    Sysreg None Load 1 fuzz_r_igrpen1 "mrs x0, icc_igrpen1_el1";
    Sysreg Value Load 1 fuzz_w_icc_pmr "msr icc_pmr_el1, x0";
    Sysreg Bpr Load 1 fuzz_w_bpr1 "msr icc_bpr1_el1, x0";
    Sysreg Bpr Load 1 fuzz_w_bpr0 "msr icc_bpr0_el1, x0";
    Sysreg Value Load 1 fuzz_w_icc_ctlr "msr icc_ctlr_el1, x0";
    Sysreg Value Load 1 fuzz_w_igrpen1 "msr icc_igrpen1_el1, x0";
    Sysreg Value Load 1 fuzz_w_igrpen0 "msr icc_igrpen0_el1, x0";
    Sysreg Value Load 1 fuzz_w_icc_sre "msr icc_sre_el1, x0";
    Sysreg Value Load 1 fuzz_w_ap1r0 "msr icc_ap1r0_el1, x0";
    Sysreg Value Load 1 fuzz_w_ap0r0 "msr icc_ap0r0_el1, x0";
    Sysreg Value Load 1 fuzz_w_ap1r3 "msr icc_ap1r3_el1, x0";
    Sysreg Value Load 1 fuzz_w_eoir1 "msr icc_eoir1_el1, x0";
    Sysreg Value Load 1 fuzz_w_eoir0 "msr icc_eoir0_el1, x0";
    Sysreg Value Load 1 fuzz_w_dir "msr icc_dir_el1, x0";

    // System registers: PMU.
    Sysreg None Load 1 fuzz_r_pmcr "mrs x0, pmcr_el0";
    Sysreg None Load 1 fuzz_r_pmceid0 "mrs x0, pmceid0_el0";
    Sysreg None Load 1 fuzz_r_pmceid1 "mrs x0, pmceid1_el0";
    Sysreg None Load 1 fuzz_r_pmccntr "mrs x0, pmccntr_el0";
    Sysreg None Load 1 fuzz_r_pmxevcntr "mrs x0, pmxevcntr_el0";
    Sysreg None Load 1 fuzz_r_pmevcntr5 "mrs x0, pmevcntr5_el0";
    Sysreg None Load 1 fuzz_r_pmevcntr30 "mrs x0, pmevcntr30_el0";
    Sysreg Value Load 1 fuzz_w_pmcr "msr pmcr_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmcntenset "msr pmcntenset_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmcntenclr "msr pmcntenclr_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmovsclr "msr pmovsclr_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmovsset "msr pmovsset_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmselr "msr pmselr_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmccntr "msr pmccntr_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmxevtyper "msr pmxevtyper_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmxevcntr "msr pmxevcntr_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmuserenr "msr pmuserenr_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmintenset "msr pmintenset_el1, x0";
    Sysreg Value Load 1 fuzz_w_pmintenclr "msr pmintenclr_el1, x0";
    Sysreg Value Load 1 fuzz_w_pmswinc "msr pmswinc_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmevtyper0 "msr pmevtyper0_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmevcntr30 "msr pmevcntr30_el0, x0";
    Sysreg Value Load 1 fuzz_w_pmccfiltr "msr pmccfiltr_el0, x0";

    // System registers: debug.
    Sysreg None Load 1 fuzz_r_mdscr "mrs x0, mdscr_el1";
    Sysreg None Load 1 fuzz_r_oslsr "mrs x0, oslsr_el1";
    Sysreg None Load 1 fuzz_r_mdccsr "mrs x0, mdccsr_el0";
    Sysreg None Load 1 fuzz_r_mdrar "mrs x0, mdrar_el1";
    Sysreg None Load 1 fuzz_r_dbgauthstatus "mrs x0, dbgauthstatus_el1";
    Sysreg None Load 1 fuzz_r_dbgbcr15 "mrs x0, dbgbcr15_el1";
    Sysreg None Load 1 fuzz_r_dbgdtr "mrs x0, dbgdtr_el0";
    Sysreg None Load 1 fuzz_r_dbgdtrrx "mrs x0, dbgdtrrx_el0";
    Sysreg Value Load 1 fuzz_w_mdscr "msr mdscr_el1, x0";
    Sysreg Value Load 1 fuzz_w_oslar "msr oslar_el1, x0";
    Sysreg Value Load 1 fuzz_w_osdlr "msr osdlr_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgbvr0 "msr dbgbvr0_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgbcr0 "msr dbgbcr0_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgwvr0 "msr dbgwvr0_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgwcr0 "msr dbgwcr0_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgbcr15 "msr dbgbcr15_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgclaimset "msr dbgclaimset_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgclaimclr "msr dbgclaimclr_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgprcr "msr dbgprcr_el1, x0";
    Sysreg Value Load 1 fuzz_w_mdccint "msr mdccint_el1, x0";
    Sysreg Value Load 1 fuzz_w_osdtrrx "msr osdtrrx_el1, x0";
    Sysreg Value Load 1 fuzz_w_oseccr "msr oseccr_el1, x0";
    Sysreg Value Load 1 fuzz_w_dbgdtrtx "msr dbgdtrtx_el0, x0";

    // System registers: implementation defined, higher exception levels,
    // and others an EL1 kernel may touch.
    Sysreg None Load 1 fuzz_r_impdef_1_15_2_0 "mrs x0, s3_1_c15_c2_0";
    Sysreg None Load 1 fuzz_r_impdef_0_15_0_0 "mrs x0, s3_0_c15_c0_0";
    Sysreg None Load 1 fuzz_r_impdef_7_15_15_7 "mrs x0, s3_7_c15_c15_7";
    Sysreg Value Load 1 fuzz_w_impdef_1_15_2_1 "msr s3_1_c15_c2_1, x0";
    Sysreg Value Load 1 fuzz_w_impdef_7_11_0_0 "msr s3_7_c11_c0_0, x0";
    Sysreg None Load 1 fuzz_r_hcr_el2 "mrs x0, hcr_el2";
    Sysreg None Load 1 fuzz_r_vttbr_el2 "mrs x0, vttbr_el2";
    Sysreg Value Load 1 fuzz_w_hcr_el2 "msr hcr_el2, x0";
    Sysreg Value Load 1 fuzz_w_cntvoff_el2 "msr cntvoff_el2, x0";
    Sysreg None Load 1 fuzz_r_scr_el3 "mrs x0, scr_el3";
    Sysreg None Load 1 fuzz_r_isr "mrs x0, isr_el1";
    Sysreg None Load 1 fuzz_r_sctlr "mrs x0, sctlr_el1";
    Sysreg None Load 1 fuzz_r_actlr "mrs x0, actlr_el1";
    Sysreg Value Load 1 fuzz_w_actlr "msr actlr_el1, x0";
    Sysreg Value Load 1 fuzz_w_contextidr "msr contextidr_el1, x0";
    Sysreg Value Load 1 fuzz_w_amair "msr amair_el1, x0";
    Sysreg Value Load 1 fuzz_w_afsr0 "msr afsr0_el1, x0";
    Sysreg Value Load 1 fuzz_w_tpidr_el1 "msr tpidr_el1, x0";
    Sysreg Value Load 1 fuzz_w_par "msr par_el1, x0";

    // Timers.
    Timer None Load 1 fuzz_r_cntv_ctl "mrs x0, cntv_ctl_el0";
    Timer None Load 1 fuzz_r_cntv_cval "mrs x0, cntv_cval_el0";
    Timer None Load 1 fuzz_r_cntv_tval "mrs x0, cntv_tval_el0";
    Timer None Load 1 fuzz_r_cntp_ctl "mrs x0, cntp_ctl_el0";
    Timer None Load 1 fuzz_r_cntp_cval "mrs x0, cntp_cval_el0";
    Timer None Load 1 fuzz_r_cntp_tval "mrs x0, cntp_tval_el0";
    Timer None Load 1 fuzz_r_cntvct "mrs x0, cntvct_el0";
    Timer None Load 1 fuzz_r_cntpct "mrs x0, cntpct_el0";
    Timer None Load 1 fuzz_r_cntkctl "mrs x0, cntkctl_el1";
    Timer None Load 1 fuzz_r_cntfrq "mrs x0, cntfrq_el0";
    Timer Value Load 1 fuzz_w_cntv_ctl "msr cntv_ctl_el0, x0";
    Timer Cval Load 1 fuzz_w_cntv_cval "msr cntv_cval_el0, x0";
    Timer Tval Load 1 fuzz_w_cntv_tval "msr cntv_tval_el0, x0";
    Timer Value Load 1 fuzz_w_cntp_ctl "msr cntp_ctl_el0, x0";
    Timer Cval Load 1 fuzz_w_cntp_cval "msr cntp_cval_el0, x0";
    Timer Tval Load 1 fuzz_w_cntp_tval "msr cntp_tval_el0, x0";
    Timer Value Load 1 fuzz_w_cntkctl "msr cntkctl_el1, x0";
    Timer Value Load 1 fuzz_w_cntfrq "msr cntfrq_el0, x0";

    // Waiting.
    Wfi Wfi Load 1 fuzz_wfi "wfi";
    Wfx None Load 1 fuzz_wfe "wfe";
    Wfx None Load 1 fuzz_sevl_wfe "sevl\nwfe";
    Wfx None Load 1 fuzz_sev "sev";
    Wfx None Load 1 fuzz_yield "yield";

    // Undefined and trapping encodings.
    Undef None Load 1 fuzz_udf "udf #0";
    Undef None Load 1 fuzz_udf_ffff "udf #0xffff";
    Undef None Load 1 fuzz_brk "brk #0";
    Undef None Load 1 fuzz_hlt "hlt #0";
    Undef None Load 1 fuzz_svc "svc #0";
    Undef None Load 1 fuzz_hvc_1 "hvc #1";
    Undef None Load 1 fuzz_hvc_ffff "hvc #0xffff";
    Undef None Load 1 fuzz_smc_1 "smc #1";
    Undef None Load 1 fuzz_dcps1 ".inst 0xd4a00001";
    Undef None Load 1 fuzz_dcps2 ".inst 0xd4a00002";
    Undef None Load 1 fuzz_drps ".inst 0xd6bf03e0";
    Undef None Load 1 fuzz_msr_pan ".inst 0xd500419f";
    Undef None Load 1 fuzz_unalloc_0 ".inst 0x00000000";
    Undef None Load 1 fuzz_unalloc_1 ".inst 0x04000000";
    Undef None Load 1 fuzz_unalloc_2 ".inst 0xffffffff";
    Undef None Load 1 fuzz_ldadd ".inst 0xf8200020";
    Undef None Load 1 fuzz_sys_unalloc "sys #7, c15, c15, #7, x0";
    Undef None Load 1 fuzz_sysl_unalloc "sysl x0, #7, c15, c15, #7";

    // SGIs.
    Sgi Sgi Load 1 fuzz_sgi1r "msr icc_sgi1r_el1, x0\nisb";
    Sgi Sgi Load 1 fuzz_asgi1r "msr icc_asgi1r_el1, x0\nisb";
    Sgi Sgi Load 1 fuzz_sgi0r "msr icc_sgi0r_el1, x0\nisb";
}
