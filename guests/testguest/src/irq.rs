//! Taking interrupts: each vCPU's handlers for its SGIs and PPIs, the
//! handlers of the first [`SPI_HANDLER_SLOTS`] SPIs (shared by the vCPUs:
//! an SPI goes to the one vCPU it is routed to), the dispatch the IRQ
//! vector calls, and masking IRQs at `PSTATE`.
//!
//! IRQs are masked (`PSTATE.I`) except while a check or benchmark waits
//! for one ([`unmask`] / [`mask`]). The dispatch acknowledges with
//! `ICC_IAR1_EL1`, calls the handler set for that INTID on this vCPU and
//! ends it with `ICC_EOIR1_EL1`; a special INTID (1023: nothing pending
//! any more) ends the dispatch. An interrupt nobody handles is disabled at
//! the GIC and counted ([`unexpected`]), so that it can neither storm nor
//! go unnoticed. Handlers run with IRQs masked, on the interrupted vCPU's
//! stack.

use core::arch::asm;

use crate::cpu;
use crate::gic::{self, FIRST_SPI};
use crate::platform::NUM_VCPUS;
use crate::shared::SharedWord;

/// An interrupt handler; it gets the INTID it was called for and must
/// quiesce a level-sensitive source before it returns.
pub type Handler = fn(intid: u32);

/// Number of private INTIDs per vCPU (SGIs and PPIs).
const PRIVATE_INTIDS: usize = FIRST_SPI as usize;
/// How many SPIs, from the first, can have a handler (INTIDs 32..63: the
/// RTC's SPI is among them).
pub const SPI_HANDLER_SLOTS: usize = 32;
/// Most interrupts one IRQ exception handles before returning.
const MAX_PER_EXCEPTION: usize = 16;
/// A handler slot with no handler.
const NO_HANDLER: u64 = 0;

/// Per vCPU, per private INTID: the address of its [`Handler`], or
/// [`NO_HANDLER`]. Only [`set_handler`] writes a slot.
static HANDLERS: [[SharedWord; PRIVATE_INTIDS]; NUM_VCPUS] =
    [const { [const { SharedWord::new(NO_HANDLER) }; PRIVATE_INTIDS] }; NUM_VCPUS];
/// Per SPI from [`FIRST_SPI`]: the address of its [`Handler`], or
/// [`NO_HANDLER`]. Only [`set_handler`] writes a slot.
static SPI_HANDLERS: [SharedWord; SPI_HANDLER_SLOTS] = [const { SharedWord::new(NO_HANDLER) }; SPI_HANDLER_SLOTS];
/// Per vCPU: interrupts taken that had no handler.
static UNEXPECTED_COUNT: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];
/// Per vCPU: the INTID of the last interrupt taken that had no handler.
static UNEXPECTED_LAST: [SharedWord; NUM_VCPUS] = [const { SharedWord::new(0) }; NUM_VCPUS];

/// This vCPU's index, which the boot code keeps below [`NUM_VCPUS`].
fn this_cpu() -> usize {
    cpu::index() as usize
}

/// The handler slot of `intid`: this vCPU's for an SGI or PPI, the shared
/// one for an SPI; `None` for an SPI beyond [`SPI_HANDLER_SLOTS`].
fn slot(intid: u32) -> Option<&'static SharedWord> {
    let intid = usize::try_from(intid).ok()?;
    match intid.checked_sub(PRIVATE_INTIDS) {
        None => HANDLERS.get(this_cpu())?.get(intid),
        Some(spi) => SPI_HANDLERS.get(spi),
    }
}

/// Sets (or with `None` removes) the handler for `intid`: this vCPU's for
/// an SGI or PPI, that of every vCPU for an SPI. Call it with IRQs masked
/// or the INTID disabled. Returns false for an INTID that cannot have a
/// handler (an SPI beyond [`SPI_HANDLER_SLOTS`]).
pub fn set_handler(intid: u32, handler: Option<Handler>) -> bool {
    let Some(slot) = slot(intid) else {
        return false;
    };
    slot.store(handler.map_or(NO_HANDLER, |h| h as usize as u64));
    true
}

/// The handler for `intid` on this vCPU, if any.
fn handler(intid: u32) -> Option<Handler> {
    let raw = slot(intid)?.load();
    if raw == NO_HANDLER {
        return None;
    }
    // SAFETY: only `set_handler` writes a slot, with NO_HANDLER or the
    // address of a `Handler`; a function address fits in usize and a `fn`
    // pointer has the same size.
    Some(unsafe { core::mem::transmute::<usize, Handler>(raw as usize) })
}

/// How many interrupts without a handler vCPU `cpu` took, and the INTID of
/// the last one.
pub fn unexpected(cpu: usize) -> (u64, u64) {
    match (UNEXPECTED_COUNT.get(cpu), UNEXPECTED_LAST.get(cpu)) {
        (Some(count), Some(last)) => (count.load(), last.load()),
        _ => (0, 0),
    }
}

/// Handles the interrupts pending at this vCPU; called by the IRQ vector.
pub fn dispatch() {
    for _ in 0..MAX_PER_EXCEPTION {
        let Some(intid) = gic::acknowledge() else {
            return;
        };
        match handler(intid) {
            Some(handle) => handle(intid),
            None => {
                // Nobody wants it: keep it from coming back, and count it.
                let _ = gic::disable(intid);
                let cpu = this_cpu();
                if let (Some(count), Some(last)) = (UNEXPECTED_COUNT.get(cpu), UNEXPECTED_LAST.get(cpu)) {
                    count.store(count.load() + 1);
                    last.store(u64::from(intid));
                }
            }
        }
        gic::end_of_interrupt(intid);
    }
}

/// Lets IRQs in (`PSTATE.I` = 0); one already pending is taken before
/// this returns.
pub fn unmask() {
    // SAFETY: the vectors and the GIC are set up; only PSTATE.I changes.
    // Not `nomem`: memory accesses must not move across it.
    unsafe { asm!("msr daifclr, #2", "isb", options(nostack, preserves_flags)) };
}

/// Keeps IRQs out (`PSTATE.I` = 1).
pub fn mask() {
    // SAFETY: only PSTATE.I changes. Not `nomem`, as in `unmask`.
    unsafe { asm!("msr daifset, #2", options(nostack, preserves_flags)) };
}
