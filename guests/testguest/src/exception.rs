//! EL1 exception vectors and the handler.
//!
//! Three exceptions are expected, each only while a check has armed the
//! handler for it:
//!
//! - the synchronous external abort the hypervisor injects for a load from
//!   the unmapped address ([`expect_abort`] for that address);
//! - the Undefined Instruction exception the hypervisor injects for a
//!   system register write it does not emulate ([`expect_undefined`] for
//!   the address of that instruction). The handler takes any synchronous
//!   exception whose `ELR_EL1` is that instruction, or the `NOP` the
//!   instruction is followed by (a hypervisor that advanced the PC first),
//!   so that the check, not the handler, judges the syndrome and reports
//!   what it was;
//! - the instruction abort the hypervisor injects for a branch to an
//!   unmapped address, from EL1 or EL0 ([`expect_fetch_abort`] for that
//!   address). The handler takes any synchronous exception whose `ELR_EL1`
//!   is that address, on the current EL (SP_ELx) or the lower EL (AArch64)
//!   vector, and resumes at the `X30` of the branch, at EL1h with the
//!   interrupt masks of the arming; the check judges the syndrome and the
//!   vector.
//!
//! The handler resumes after the faulting instruction (or where the armed
//! fetch says), records the exception and returns; one exception per
//! arming. In the fuzz mode, the exceptions of the fuzzed instructions
//! are counted and skipped first (`fuzz::trap`). IRQs (taken at EL1h
//! while a check unmasks them) go to [`irq::dispatch`]. Anything else
//! prints `FAIL exception ESR=... FAR=... ELR=...` and powers the VM off.
//! (The crash mode clears `VBAR_EL1` first, so its abort never gets here.)

use core::arch::global_asm;
use core::mem::{offset_of, size_of};

use aarch64_cpu::registers::{DAIF, ESR_EL1, FAR_EL1, Readable, SPSR_EL1};
use tock_registers::LocalRegisterCopy;
use tock_registers::register_bitfields;

use crate::shared::SharedWord;
use crate::{cpu, irq, psci};

register_bitfields! {u64,
    /// The ISS of a data abort (ESR_ELx.EC 0x24 / 0x25).
    DATA_ABORT_ISS [
        /// Data fault status code.
        DFSC OFFSET(0) NUMBITS(6) [
            /// Synchronous external abort, not on a translation table walk.
            SynchronousExternalAbort = 0b01_0000
        ]
    ]
}

/// Registers saved on exception entry; `elr` and `spsr` are written back
/// on return.
#[repr(C)]
pub struct TrapFrame {
    /// `X0..X30`.
    pub x: [u64; 31],
    /// `ELR_EL1`: where the exception returns to.
    pub elr: u64,
    /// `SPSR_EL1`.
    pub spsr: u64,
    /// Keeps the frame a multiple of 16 bytes (the stack alignment).
    _pad: u64,
}

const _: () = assert!(size_of::<TrapFrame>().is_multiple_of(16));
// The vector code stores X0..X30 at 8 * n and X30 at 240, just below ELR.
const _: () = assert!(offset_of!(TrapFrame, x) == 0 && offset_of!(TrapFrame, elr) == 248);

/// Size of an A64 instruction: how far the handler moves `ELR_EL1` to skip
/// the faulting instruction.
const INSTRUCTION_SIZE: u64 = 4;

/// The 16 vectors, in table order.
const VECTOR_NAMES: [&str; 16] = [
    "current EL SP0 sync",
    "current EL SP0 IRQ",
    "current EL SP0 FIQ",
    "current EL SP0 SError",
    "current EL SPx sync",
    "current EL SPx IRQ",
    "current EL SPx FIQ",
    "current EL SPx SError",
    "lower EL AArch64 sync",
    "lower EL AArch64 IRQ",
    "lower EL AArch64 FIQ",
    "lower EL AArch64 SError",
    "lower EL AArch32 sync",
    "lower EL AArch32 IRQ",
    "lower EL AArch32 FIQ",
    "lower EL AArch32 SError",
];
/// The vector this guest (EL1h) takes synchronous exceptions on.
pub const VECTOR_CURRENT_SPX_SYNC: u64 = 4;
/// The vector of synchronous exceptions from EL0 (AArch64).
pub const VECTOR_LOWER_A64_SYNC: u64 = 8;
/// The vector this guest (EL1h) takes IRQs on.
const VECTOR_CURRENT_SPX_IRQ: u64 = 5;

/// Nothing is expected at this address.
const NOT_ARMED: u64 = u64::MAX;

/// The address whose injected abort is expected, or [`NOT_ARMED`].
static EXPECTED_FAR: SharedWord = SharedWord::new(NOT_ARMED);
/// The address of the instruction whose injected Undefined Instruction
/// exception is expected, or [`NOT_ARMED`].
static EXPECTED_UNDEFINED_PC: SharedWord = SharedWord::new(NOT_ARMED);
/// The address whose instruction fetch abort is expected, or
/// [`NOT_ARMED`].
static EXPECTED_FETCH_PC: SharedWord = SharedWord::new(NOT_ARMED);
/// The PSTATE the expected fetch abort resumes with: EL1h, the DAIF of the
/// arming.
static FETCH_RESUME_SPSR: SharedWord = SharedWord::new(0);
/// Expected exceptions taken since the last arming.
static TAKEN: SharedWord = SharedWord::new(0);
/// `ESR_EL1` of the last expected exception.
static TAKEN_ESR: SharedWord = SharedWord::new(0);
/// `FAR_EL1` of the last expected exception.
static TAKEN_FAR: SharedWord = SharedWord::new(0);
/// `ELR_EL1` of the last expected exception, as it was taken.
static TAKEN_ELR: SharedWord = SharedWord::new(0);
/// The vector number of the last expected exception.
static TAKEN_VECTOR: SharedWord = SharedWord::new(0);
/// Set once a fatal exception is being reported, so a second one (say, the
/// power-off call faulting) parks instead of recursing.
static FATAL: SharedWord = SharedWord::new(0);

/// What the handler recorded about expected exceptions.
#[derive(Clone, Copy, Debug)]
pub struct ExceptionRecord {
    /// How many were taken.
    pub count: u64,
    /// `ESR_EL1` of the last one.
    pub esr: u64,
    /// `FAR_EL1` of the last one.
    pub far: u64,
    /// `ELR_EL1` of the last one, as it was taken.
    pub elr: u64,
    /// The vector it was taken on (0..16, in table order).
    pub vector: u64,
}

/// Arms the handler to accept one synchronous external abort at `addr`
/// (injected by the hypervisor as a data abort from the current EL).
pub fn expect_abort(addr: usize) {
    TAKEN.store(0);
    EXPECTED_FAR.store(addr as u64);
}

/// Arms the handler to accept one synchronous exception taken at the
/// instruction at `pc` (or at the `NOP` right after it), which must be
/// followed by a `NOP`; the handler resumes after that instruction.
pub fn expect_undefined(pc: u64) {
    TAKEN.store(0);
    EXPECTED_UNDEFINED_PC.store(pc);
}

/// Arms the handler to accept one synchronous exception taken at the
/// instruction fetch from `addr`, from EL1 or EL0 (`ELR_EL1` = `addr`). It
/// resumes at the `X30` the exception was taken with, at EL1h with the
/// current interrupt masks: the branch there must leave its return address
/// in `X30`.
pub fn expect_fetch_abort(addr: u64) {
    TAKEN.store(0);
    FETCH_RESUME_SPSR.store(DAIF.get() | SPSR_EL1::M::EL1h.value);
    EXPECTED_FETCH_PC.store(addr);
}

/// Disarms the handler and returns what it recorded since the last
/// [`expect_abort`], [`expect_undefined`] or [`expect_fetch_abort`].
pub fn take_record() -> ExceptionRecord {
    disarm();
    ExceptionRecord {
        count: TAKEN.load(),
        esr: TAKEN_ESR.load(),
        far: TAKEN_FAR.load(),
        elr: TAKEN_ELR.load(),
        vector: TAKEN_VECTOR.load(),
    }
}

/// Disarms every expected exception.
fn disarm() {
    EXPECTED_FAR.store(NOT_ARMED);
    EXPECTED_UNDEFINED_PC.store(NOT_ARMED);
    EXPECTED_FETCH_PC.store(NOT_ARMED);
}

/// Whether `esr`/`far` describe the abort a check armed for.
fn is_expected_abort(esr: LocalRegisterCopy<u64, ESR_EL1::Register>, far: u64) -> bool {
    let expected = EXPECTED_FAR.load();
    let iss = LocalRegisterCopy::<u64, DATA_ABORT_ISS::Register>::new(esr.read(ESR_EL1::ISS));
    expected != NOT_ARMED
        && far == expected
        && esr.matches_all(ESR_EL1::EC::DataAbortCurrentEL)
        && iss.matches_all(DATA_ABORT_ISS::DFSC::SynchronousExternalAbort)
}

/// Where to resume after a synchronous exception taken at `elr` while
/// [`expect_undefined`] is armed: after the armed instruction if `elr` is
/// that instruction or the `NOP` after it, else `None` (not expected).
fn expected_undefined_resume(elr: u64) -> Option<u64> {
    let expected = EXPECTED_UNDEFINED_PC.load();
    let resume = expected.wrapping_add(INSTRUCTION_SIZE);
    (expected != NOT_ARMED && (elr == expected || elr == resume)).then_some(resume)
}

/// Whether a synchronous exception taken at `elr` on `vector` is the
/// fetch abort [`expect_fetch_abort`] armed for.
fn is_expected_fetch(vector: u64, elr: u64) -> bool {
    let expected = EXPECTED_FETCH_PC.load();
    expected != NOT_ARMED && elr == expected && (vector == VECTOR_CURRENT_SPX_SYNC || vector == VECTOR_LOWER_A64_SYNC)
}

/// Records an expected exception and disarms the handler: one exception
/// per arming, a second one is a failure.
fn record(esr: u64, far: u64, elr: u64, vector: u64) {
    disarm();
    TAKEN_ESR.store(esr);
    TAKEN_FAR.store(far);
    TAKEN_ELR.store(elr);
    TAKEN_VECTOR.store(vector);
    TAKEN.store(TAKEN.load() + 1);
}

/// Called by the vectors with the saved registers and the vector number.
extern "C" fn handle_exception(frame: *mut TrapFrame, vector: u64) {
    // SAFETY: the vector code passes the frame it just built on this vCPU's
    // stack; nothing else refers to it until this function returns.
    let frame = unsafe { &mut *frame };
    if crate::fuzz::absorb(frame, vector) {
        return;
    }
    if vector == VECTOR_CURRENT_SPX_IRQ {
        irq::dispatch();
        return;
    }
    let esr = ESR_EL1.extract();
    let far = FAR_EL1.get();
    if is_expected_fetch(vector, frame.elr) {
        // X30 is the return address of the branch to the unmapped address.
        let resume_spsr = FETCH_RESUME_SPSR.load();
        record(esr.get(), far, frame.elr, vector);
        frame.elr = frame.x[30];
        frame.spsr = resume_spsr;
        return;
    }
    if vector == VECTOR_CURRENT_SPX_SYNC {
        if is_expected_abort(esr, far) {
            record(esr.get(), far, frame.elr, vector);
            frame.elr = frame.elr.wrapping_add(INSTRUCTION_SIZE);
            return;
        }
        if let Some(resume) = expected_undefined_resume(frame.elr) {
            record(esr.get(), far, frame.elr, vector);
            frame.elr = resume;
            return;
        }
    }
    fatal(frame, vector, esr.get(), far)
}

/// Reports an unexpected exception and powers the VM off.
fn fatal(frame: &TrapFrame, vector: u64, esr: u64, far: u64) -> ! {
    if FATAL.load() != 0 {
        cpu::halt();
    }
    FATAL.store(1);
    println!("FAIL exception ESR={:#x} FAR={:#x} ELR={:#x}", esr, far, frame.elr);
    let name = usize::try_from(vector)
        .ok()
        .and_then(|v| VECTOR_NAMES.get(v))
        .unwrap_or(&"?");
    println!(
        "testguest: vCPU {} took an unexpected exception: vector {} ({}), SPSR={:#x}",
        cpu::index(),
        vector,
        name,
        frame.spsr
    );
    let ret = psci::system_off();
    println!("FAIL system_off returned {}", ret);
    cpu::halt()
}

global_asm!(
    r#"
.macro TESTGUEST_VECTOR kind
    .balign 0x80
    sub     sp, sp, #{frame_size}
    stp     x0, x1, [sp]
    mov     x0, #\kind
    b       .Lvector_common
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global testguest_vectors
testguest_vectors:
    TESTGUEST_VECTOR 0
    TESTGUEST_VECTOR 1
    TESTGUEST_VECTOR 2
    TESTGUEST_VECTOR 3
    TESTGUEST_VECTOR 4
    TESTGUEST_VECTOR 5
    TESTGUEST_VECTOR 6
    TESTGUEST_VECTOR 7
    TESTGUEST_VECTOR 8
    TESTGUEST_VECTOR 9
    TESTGUEST_VECTOR 10
    TESTGUEST_VECTOR 11
    TESTGUEST_VECTOR 12
    TESTGUEST_VECTOR 13
    TESTGUEST_VECTOR 14
    TESTGUEST_VECTOR 15

// x0 = vector number; x0/x1 of the interrupted code are at [sp].
.Lvector_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    str     x1, [sp, #{elr}]
    str     x2, [sp, #{spsr}]
    mov     x1, x0
    mov     x0, sp
    bl      {handler}
    ldr     x1, [sp, #{elr}]
    ldr     x2, [sp, #{spsr}]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    ldr     x30, [sp, #240]
    ldp     x28, x29, [sp, #224]
    ldp     x26, x27, [sp, #208]
    ldp     x24, x25, [sp, #192]
    ldp     x22, x23, [sp, #176]
    ldp     x20, x21, [sp, #160]
    ldp     x18, x19, [sp, #144]
    ldp     x16, x17, [sp, #128]
    ldp     x14, x15, [sp, #112]
    ldp     x12, x13, [sp, #96]
    ldp     x10, x11, [sp, #80]
    ldp     x8, x9, [sp, #64]
    ldp     x6, x7, [sp, #48]
    ldp     x4, x5, [sp, #32]
    ldp     x2, x3, [sp, #16]
    ldp     x0, x1, [sp]
    add     sp, sp, #{frame_size}
    eret
    "#,
    frame_size = const size_of::<TrapFrame>(),
    elr = const offset_of!(TrapFrame, elr),
    spsr = const offset_of!(TrapFrame, spsr),
    handler = sym handle_exception,
);
