//! The list-register passes: [`VgicState::flush`] fills a vCPU's list
//! registers before it enters the guest, [`VgicState::fold`] reads back what
//! the guest did with them after it exits.

use axvcpu::virq::lr;
use axvcpu::{ListRegs, MAX_LIST_REGS};

use super::regs::{INTIDS_PER_WORD, NR_PRIVATE};
use super::state::{Held, Irq, IrqFlags, Op, VgicState, bits};

/// A list-register candidate; the derived order is the order of delivery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    /// 0 for an active interrupt (it must stay in a list register until it
    /// is deactivated), 1 for a pending one.
    rank: u8,
    /// Lower first.
    priority: u8,
    /// Lower first among equal priorities.
    intid: u32,
}

/// The best `capacity` candidates offered, in order.
struct Picker {
    chosen: [Candidate; MAX_LIST_REGS],
    len: usize,
    capacity: usize,
    /// A candidate did not fit.
    overflow: bool,
}

impl Picker {
    /// An empty picker for `capacity` (at most [`MAX_LIST_REGS`]) slots.
    fn new(capacity: usize) -> Self {
        Self {
            chosen: [Candidate::default(); MAX_LIST_REGS],
            len: 0,
            capacity: capacity.min(MAX_LIST_REGS),
            overflow: false,
        }
    }

    /// Offers interrupt `intid`: taken if it is active or deliverable (and
    /// better than the worst one chosen when full).
    fn offer(&mut self, intid: u32, irq: &Irq, ctlr: u32) {
        let rank = if irq.has(IrqFlags::ACTIVE) {
            0
        } else if irq.deliverable(ctlr) {
            1
        } else {
            return;
        };
        let candidate = Candidate {
            rank,
            priority: irq.priority,
            intid,
        };
        let Some(at) = self
            .chosen
            .get(..self.len)
            .map(|c| c.partition_point(|c| *c < candidate))
        else {
            return;
        };
        if self.len < self.capacity {
            self.len += 1;
        } else {
            // Full: the worst one falls off the end, or the candidate does.
            self.overflow = true;
        }
        // Insert in order, shifting the worse ones up.
        let Some(tail) = self.chosen.get_mut(at..self.len).filter(|t| !t.is_empty()) else {
            return;
        };
        tail.rotate_right(1);
        if let Some(slot) = tail.first_mut() {
            *slot = candidate;
        }
    }

    /// The chosen INTIDs, in order.
    fn intids(&self) -> impl Iterator<Item = u32> + '_ {
        self.chosen.iter().take(self.len).map(|c| c.intid)
    }
}

impl VgicState {
    /// Rebuilds `lrs.lr[..lrs.count]` for `vcpu`: its active interrupts
    /// first, then its deliverable ones by priority; sets
    /// `lrs.underflow_exit` when some did not fit. Returns whether it put
    /// anything in.
    pub(super) fn flush(&mut self, vcpu: usize, lrs: &mut ListRegs) -> bool {
        let count = lrs.count.min(MAX_LIST_REGS);
        if count == 0 || vcpu >= self.nr_vcpus() {
            return false;
        }
        let kicks = self.noted_kicks();
        if self.cpus.get(vcpu).is_some_and(|cpu| cpu.held_count > 0) {
            // Flushed twice without a sync in between: fold first, so that
            // nothing the guest did is lost.
            self.fold_lrs(vcpu, lrs);
        }
        self.disown_inactive(vcpu);
        let mut picker = Picker::new(count);
        let ctlr = self.ctlr;
        for (intid, irq) in self.candidates(vcpu) {
            picker.offer(intid, irq, ctlr);
        }
        let mut intids = picker.intids();
        for (slot, value) in lrs.lr.iter_mut().take(count).enumerate() {
            *value = match intids.next() {
                Some(intid) => self.place(vcpu, slot, intid),
                None => 0,
            };
        }
        lrs.underflow_exit = picker.overflow;
        if let Some(cpu) = self.cpus.get_mut(vcpu) {
            cpu.held_count = picker.len;
        }
        self.unkick(vcpu, kicks);
        picker.len > 0
    }

    /// Reads back the list registers the last flush of `vcpu` filled:
    /// active and pending state, and deactivations of forwarded SPIs.
    pub(super) fn fold(&mut self, vcpu: usize, lrs: &ListRegs) {
        let kicks = self.noted_kicks();
        self.fold_lrs(vcpu, lrs);
        self.unkick(vcpu, kicks);
    }

    /// [`fold`](Self::fold) without the kick bookkeeping.
    fn fold_lrs(&mut self, vcpu: usize, lrs: &ListRegs) {
        let Some(cpu) = self.cpus.get_mut(vcpu) else {
            return;
        };
        let count = core::mem::take(&mut cpu.held_count);
        // Entry by entry (fold_one does not change them), not a copy of
        // the whole array.
        for slot in 0..count {
            let Some(entry) = self.cpus.get(vcpu).and_then(|cpu| cpu.held.get(slot)).copied() else {
                break;
            };
            let value = if slot < lrs.count {
                lrs.lr.get(slot).copied().unwrap_or(0)
            } else {
                0
            };
            let state = value & lr::STATE_MASK;
            let active = state & lr::STATE_ACTIVE != 0;
            let pending = state & lr::STATE_PENDING != 0;
            self.fold_one(vcpu, entry, active, pending);
        }
    }

    /// The value of list register `slot` for interrupt `intid` of `vcpu`;
    /// records it as held and moves the pending latch into it.
    fn place(&mut self, vcpu: usize, slot: usize, intid: u32) -> u64 {
        let Some(irq) = self.irq(vcpu, intid).copied() else {
            return 0;
        };
        // A linked one is never pending and active at once: its next
        // occurrence waits in the model (a level line: in the physical
        // GIC) until the guest has deactivated this one.
        let pending = irq.pending() && !(irq.has(IrqFlags::HW_LINKED) && irq.has(IrqFlags::ACTIVE));
        let mut value = (u64::from(intid) & lr::VINTID_MASK) | (u64::from(irq.priority) << lr::PRIORITY_SHIFT);
        if irq.has(IrqFlags::GROUP1) {
            value |= lr::GROUP1;
        }
        if irq.has(IrqFlags::HW_LINKED) {
            // The guest's deactivation goes to the physical interrupt.
            value |= lr::HW | ((u64::from(intid) & lr::PINTID_MASK) << lr::PINTID_SHIFT);
        } else if !irq.has(IrqFlags::EDGE) || irq.has(IrqFlags::FORWARDED) {
            // Exit on deactivation, so that the line is sampled again.
            value |= lr::EOI;
        }
        if irq.has(IrqFlags::ACTIVE) {
            value |= lr::STATE_ACTIVE;
        }
        if pending {
            value |= lr::STATE_PENDING;
        }
        let latched = pending && irq.has(IrqFlags::LATCH);
        if latched {
            self.move_latch(vcpu, intid);
        }
        if let Some(entry) = self.cpus.get_mut(vcpu).and_then(|cpu| cpu.held.get_mut(slot)) {
            *entry = Held { intid, latched };
        }
        self.take_ownership(vcpu, intid);
        value
    }

    /// Releases the SPIs `vcpu` holds that are no longer active (their list
    /// registers are rewritten now), so that they go to their route target.
    fn disown_inactive(&mut self, vcpu: usize) {
        let Ok(owner) = u8::try_from(vcpu) else {
            return;
        };
        // Word by word, each read before the updates below change it.
        for word in bits(self.live_words()) {
            let first = word * INTIDS_PER_WORD;
            for intid in bits(self.live_word(word)).map(|bit| first + bit) {
                let release = self
                    .irq(vcpu, intid)
                    .is_some_and(|irq| intid >= NR_PRIVATE && irq.owner == owner && !irq.has(IrqFlags::ACTIVE));
                if release {
                    self.update(vcpu, intid, Op::Disown);
                }
            }
        }
    }
}
