//! The model's state: every interrupt of the VM ([`Irq`]), what each vCPU's
//! list registers hold ([`CpuState`]), and the one place interrupts change
//! ([`VgicState::update`]), which notes the vCPUs to kick.

use alloc::vec;
use alloc::vec::Vec;

use axvcpu::MAX_LIST_REGS;
use bitflags::bitflags;

use super::regs::{INTIDS_PER_WORD, MAX_VCPUS, NR_PRIVATE, NR_SGIS, gicd};

/// The number of words of an INTID bitmap (INTIDs 0..1023).
const BITMAP_WORDS: usize = 32;

/// "No vCPU" in [`Irq::target`] and [`Irq::owner`].
pub(super) const NO_VCPU: u8 = u8::MAX;

bitflags! {
    /// The one-bit state of an interrupt.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(super) struct IrqFlags: u8 {
        /// Enabled (`ISENABLER`).
        const ENABLED = 1 << 0;
        /// The pending latch: an edge, an `ISPENDR` write or an SGI.
        const LATCH = 1 << 1;
        /// The input line is high.
        const LEVEL = 1 << 2;
        /// Active (acknowledged by the guest, not yet deactivated).
        const ACTIVE = 1 << 3;
        /// Edge-triggered (`ICFGR`); level-sensitive when clear.
        const EDGE = 1 << 4;
        /// Group 1 (`IGROUPR`); Group 0 when clear.
        const GROUP1 = 1 << 5;
        /// A physical SPI the host forwards ([`Vgic::set_forwarded`](super::Vgic::set_forwarded)).
        const FORWARDED = 1 << 6;
        /// Delivered through a list register linked to the physical
        /// interrupt of the same INTID (HW bit): the guest's deactivation
        /// deactivates it in the physical GIC, with no exit. A forwarded
        /// SPI ([`Vgic::set_hw_linked`](super::Vgic::set_hw_linked)) or a
        /// line of the vCPU's own timers
        /// ([`Vgic::set_local_level`](super::Vgic::set_local_level)).
        const HW_LINKED = 1 << 7;
    }
}

/// One interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Irq {
    /// Its one-bit state.
    pub flags: IrqFlags,
    /// `IPRIORITYR`: lower is more urgent.
    pub priority: u8,
    /// SPIs: `GICD_IROUTER` (masked to its stored bits).
    pub route: u64,
    /// SPIs: the vCPU that [`route`](Self::route) selects, or [`NO_VCPU`].
    pub target: u8,
    /// SPIs: the vCPU whose list registers hold it, or where it is active,
    /// or [`NO_VCPU`]. It stays there until it is no longer active.
    pub owner: u8,
}

impl Irq {
    /// An interrupt after reset: disabled, Group 0, priority 0, routed to
    /// vCPU 0, edge-triggered or not.
    const fn reset(edge: bool) -> Self {
        Self {
            flags: if edge { IrqFlags::EDGE } else { IrqFlags::empty() },
            priority: 0,
            route: 0,
            target: 0,
            owner: NO_VCPU,
        }
    }

    /// Whether `flag` is set.
    pub(super) fn has(&self, flag: IrqFlags) -> bool {
        self.flags.contains(flag)
    }

    /// The pending state: the latch, or for a level-sensitive interrupt a
    /// high line while it is not active. The line is sampled again when
    /// the guest deactivates the interrupt (the list register's EOI
    /// maintenance; for a linked one, the physical interrupt firing again
    /// or the next exit), not while it is active.
    pub(super) fn pending(&self) -> bool {
        self.has(IrqFlags::LATCH)
            || (!self.has(IrqFlags::EDGE) && self.has(IrqFlags::LEVEL) && !self.has(IrqFlags::ACTIVE))
    }

    /// Whether its group is enabled in `GICD_CTLR` value `ctlr`.
    fn group_enabled(&self, ctlr: u32) -> bool {
        let enable = if self.has(IrqFlags::GROUP1) {
            gicd::CTLR_ENABLE_GRP1
        } else {
            gicd::CTLR_ENABLE_GRP0
        };
        ctlr & enable != 0
    }

    /// Pending, enabled, its group enabled and not active: the guest can
    /// take it.
    pub(super) fn deliverable(&self, ctlr: u32) -> bool {
        self.for_list_register(ctlr) && !self.has(IrqFlags::ACTIVE)
    }

    /// Pending, enabled and its group enabled, active or not: a list
    /// register must show it pending (pending and active while the guest
    /// handles its previous occurrence, which it takes next without an exit
    /// once it deactivates that one).
    fn for_list_register(&self, ctlr: u32) -> bool {
        self.pending() && self.has(IrqFlags::ENABLED) && self.group_enabled(ctlr)
    }

    /// Whether a list-register pass must look at it (for SPIs).
    fn live(&self) -> bool {
        self.flags
            .intersects(IrqFlags::LATCH | IrqFlags::LEVEL | IrqFlags::ACTIVE)
            || self.owner != NO_VCPU
    }
}

/// A change to one interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// The input line goes to this level (a rising edge latches an
    /// edge-triggered interrupt).
    Line(bool),
    /// As [`Line`](Self::Line), for a line of the vCPU's own hardware
    /// whose physical interrupt the guest deactivates through the list
    /// register: marks it [`IrqFlags::HW_LINKED`] too.
    LocalLine(bool),
    /// Latch pending.
    SetPending,
    /// Clear the latch.
    ClearPending,
    /// Make active.
    SetActive,
    /// Deactivate.
    ClearActive,
    /// Enable or disable.
    Enable(bool),
    /// Group 1 or Group 0.
    Group(bool),
    /// Set the priority.
    Priority(u8),
    /// Edge-triggered or level-sensitive.
    Edge(bool),
    /// Route an SPI: the `IROUTER` value and the vCPU it selects.
    Route {
        /// `GICD_IROUTER`, masked.
        route: u64,
        /// The selected vCPU or [`NO_VCPU`].
        target: u8,
    },
    /// Mark as forwarded from a physical SPI, or not.
    Forward(bool),
    /// Deliver it through a list register linked to the physical
    /// interrupt, or not.
    HwLinked(bool),
    /// No vCPU holds it any more.
    Disown,
}

impl Op {
    /// Applies the change; returns whether the guest ended the interrupt
    /// (deactivated it, or cleared its pending state while not active),
    /// which for a forwarded SPI means that the host may unmask it.
    fn apply(self, irq: &mut Irq) -> bool {
        match self {
            Self::LocalLine(level) => {
                irq.flags.insert(IrqFlags::HW_LINKED);
                return Self::Line(level).apply(irq);
            }
            Self::Line(level) => {
                if level && irq.has(IrqFlags::EDGE) && !irq.has(IrqFlags::LEVEL) {
                    irq.flags.insert(IrqFlags::LATCH);
                }
                irq.flags.set(IrqFlags::LEVEL, level);
            }
            Self::SetPending => irq.flags.insert(IrqFlags::LATCH),
            Self::ClearPending => {
                let ended = irq.pending() && !irq.has(IrqFlags::ACTIVE);
                irq.flags.remove(IrqFlags::LATCH);
                return ended;
            }
            Self::SetActive => irq.flags.insert(IrqFlags::ACTIVE),
            Self::ClearActive => {
                let ended = irq.has(IrqFlags::ACTIVE);
                irq.flags.remove(IrqFlags::ACTIVE);
                return ended;
            }
            Self::Enable(on) => irq.flags.set(IrqFlags::ENABLED, on),
            Self::Group(group1) => irq.flags.set(IrqFlags::GROUP1, group1),
            Self::Priority(priority) => irq.priority = priority,
            Self::Edge(edge) => irq.flags.set(IrqFlags::EDGE, edge),
            Self::Route { route, target } => {
                irq.route = route;
                irq.target = target;
            }
            Self::Forward(on) => irq.flags.set(IrqFlags::FORWARDED, on),
            Self::HwLinked(on) => irq.flags.set(IrqFlags::HW_LINKED, on),
            Self::Disown => irq.owner = NO_VCPU,
        }
        false
    }
}

/// A list register the last flush filled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Held {
    /// The interrupt in it.
    pub intid: u32,
    /// Whether the flush moved the pending latch into the list register
    /// (it is given back if the guest has not acknowledged the interrupt).
    pub latched: bool,
}

/// The per-vCPU state besides its private interrupts.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CpuState {
    /// `GICR_WAKER.ProcessorSleep`.
    pub asleep: bool,
    /// What the last flush put into `lr[..held_count]`.
    pub held: [Held; MAX_LIST_REGS],
    /// How many list registers the last flush filled; zero once they have
    /// been synced.
    pub held_count: usize,
    /// Its private interrupts a flush must look at ([`Irq::live`]), bit `n`
    /// for INTID `n`: a flush visits only these, not all 32.
    pub live_private: u32,
}

impl CpuState {
    /// After reset: the redistributor asleep (`GICR_WAKER.ProcessorSleep`
    /// set), no list register held.
    fn reset() -> Self {
        Self {
            asleep: true,
            ..Self::default()
        }
    }
}

/// What a change asks of the [`Vgic`](super::Vgic) once it has been made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Notes {
    /// vCPUs with a newly deliverable interrupt.
    pub kicks: u32,
    /// vCPUs whose next flush has something to look at.
    pub work: u32,
    /// vCPUs with nothing to look at (set by their own flush).
    pub idle: u32,
    /// A forwarded SPI was queued for unmasking.
    pub unmask: bool,
}

/// The state of every interrupt of a VM.
#[derive(Debug)]
pub(super) struct VgicState {
    /// `GICD_CTLR`'s writable bits.
    pub ctlr: u32,
    nr_vcpus: usize,
    /// INTIDs 0..31 of each vCPU, vCPU after vCPU.
    private: Vec<Irq>,
    /// INTIDs 32.. .
    spis: Vec<Irq>,
    /// SPIs a flush must look at ([`Irq::live`]), by INTID.
    live: [u32; BITMAP_WORDS],
    /// Bit `w` set when word `w` of [`live`](Self::live) is not zero, so
    /// that a flush skips the empty words without reading them.
    live_words: u32,
    /// Each vCPU's list registers and redistributor state.
    pub cpus: Vec<CpuState>,
    /// Forwarded SPIs the guest ended, by INTID, for the host to unmask.
    unmask: [u32; BITMAP_WORDS],
    /// What the changes since the last [`take_notes`](Self::take_notes) ask.
    notes: Notes,
}

/// The bit of `vcpu` in a vCPU mask (0 for a vCPU beyond the mask).
pub(super) fn vcpu_bit(vcpu: usize) -> u32 {
    u32::try_from(vcpu).ok().and_then(|v| 1u32.checked_shl(v)).unwrap_or(0)
}

/// The bit of `intid` in its bitmap word: `(word, mask)`.
fn intid_bit(intid: u32) -> (usize, u32) {
    let word = usize::try_from(intid / INTIDS_PER_WORD).unwrap_or(usize::MAX);
    (word, 1u32 << (intid % INTIDS_PER_WORD))
}

/// The vCPU whose list registers an interrupt goes to: its own vCPU for a
/// private one; for an SPI, the vCPU that holds it, else its route target.
fn home(vcpu: usize, intid: u32, irq: &Irq) -> Option<usize> {
    if intid < NR_PRIVATE {
        return Some(vcpu);
    }
    let vcpu = if irq.owner != NO_VCPU { irq.owner } else { irq.target };
    (vcpu != NO_VCPU).then_some(usize::from(vcpu))
}

impl VgicState {
    /// The state after reset of `nr_vcpus` vCPUs (at most [`MAX_VCPUS`])
    /// and `nr_spis` SPIs. All the memory the model uses is allocated here.
    pub(super) fn new(nr_vcpus: usize, nr_spis: u32) -> Self {
        let nr_vcpus = nr_vcpus.min(MAX_VCPUS);
        let mut private = Vec::with_capacity(nr_vcpus.saturating_mul(32));
        for _ in 0..nr_vcpus {
            for intid in 0..NR_PRIVATE {
                private.push(Irq::reset(intid < NR_SGIS));
            }
        }
        Self {
            ctlr: 0,
            nr_vcpus,
            private,
            spis: vec![Irq::reset(false); usize::try_from(nr_spis).unwrap_or(0)],
            live: [0; BITMAP_WORDS],
            live_words: 0,
            cpus: vec![CpuState::reset(); nr_vcpus],
            unmask: [0; BITMAP_WORDS],
            notes: Notes::default(),
        }
    }

    /// The number of vCPUs.
    pub(super) fn nr_vcpus(&self) -> usize {
        self.nr_vcpus
    }

    /// Interrupt `intid` of `vcpu` (`vcpu` only matters below INTID 32), if
    /// it is implemented.
    pub(super) fn irq(&self, vcpu: usize, intid: u32) -> Option<&Irq> {
        match intid.checked_sub(NR_PRIVATE) {
            None if vcpu < self.nr_vcpus => self.private.get(Self::private_index(vcpu, intid)?),
            None => None,
            Some(spi) => self.spis.get(usize::try_from(spi).ok()?),
        }
    }

    /// [`irq`](Self::irq), mutable.
    fn irq_mut(&mut self, vcpu: usize, intid: u32) -> Option<&mut Irq> {
        match intid.checked_sub(NR_PRIVATE) {
            None if vcpu < self.nr_vcpus => self.private.get_mut(Self::private_index(vcpu, intid)?),
            None => None,
            Some(spi) => self.spis.get_mut(usize::try_from(spi).ok()?),
        }
    }

    /// The index of a private interrupt in `private`.
    fn private_index(vcpu: usize, intid: u32) -> Option<usize> {
        vcpu.checked_mul(32)?.checked_add(usize::try_from(intid).ok()?)
    }

    /// Takes what the changes since the last call ask of the caller.
    pub(super) fn take_notes(&mut self) -> Notes {
        core::mem::take(&mut self.notes)
    }

    /// Notes that `vcpu` has nothing to deliver or sync.
    pub(super) fn note_idle(&mut self, vcpu: usize) {
        self.notes.idle |= vcpu_bit(vcpu);
    }

    /// The kicks noted so far.
    pub(super) fn noted_kicks(&self) -> u32 {
        self.notes.kicks
    }

    /// Drops the kicks of `vcpu` noted since `kicks` was the kick mask: the
    /// vCPU is in its own list-register pass and sees them anyway.
    pub(super) fn unkick(&mut self, vcpu: usize, kicks: u32) {
        self.notes.kicks &= kicks | !vcpu_bit(vcpu);
    }

    /// Applies `op` to interrupt `intid` of `vcpu` (`vcpu` only matters for
    /// INTIDs below 32), and notes the vCPU that must look at it, and kicks
    /// it when the interrupt became deliverable to it. An unimplemented
    /// interrupt is ignored.
    pub(super) fn update(&mut self, vcpu: usize, intid: u32, op: Op) {
        let Some(irq) = self.irq_mut(vcpu, intid) else {
            return;
        };
        let before = *irq;
        let ended = op.apply(irq) && irq.has(IrqFlags::FORWARDED);
        if ended {
            irq.flags.remove(IrqFlags::LEVEL);
        }
        let after = *irq;
        if ended {
            self.queue_unmask(intid);
        }
        self.changed(vcpu, intid, &before, &after);
    }

    /// Folds a list register's state back into interrupt `intid` of
    /// `vcpu`; see [`fold`](Self::fold).
    pub(super) fn fold_one(&mut self, vcpu: usize, held: Held, active: bool, pending: bool) {
        let intid = held.intid;
        let Some(irq) = self.irq_mut(vcpu, intid) else {
            return;
        };
        let before = *irq;
        irq.flags.set(IrqFlags::ACTIVE, active);
        if pending && held.latched {
            irq.flags.insert(IrqFlags::LATCH);
        }
        // An invalid list register: the guest acknowledged and deactivated it.
        let ended = !active && !pending && irq.has(IrqFlags::FORWARDED);
        if ended {
            irq.flags.remove(IrqFlags::LEVEL);
        }
        if !active {
            irq.owner = NO_VCPU;
        }
        let after = *irq;
        // A linked one was deactivated in the physical GIC by the guest.
        if ended && !after.has(IrqFlags::HW_LINKED) {
            self.queue_unmask(intid);
        }
        self.changed(vcpu, intid, &before, &after);
    }

    /// Records that `vcpu` holds SPI `intid` in a list register.
    pub(super) fn take_ownership(&mut self, vcpu: usize, intid: u32) {
        if intid < NR_PRIVATE {
            return;
        }
        let owner = u8::try_from(vcpu).unwrap_or(NO_VCPU);
        if let Some(irq) = self.irq_mut(vcpu, intid) {
            irq.owner = owner;
        }
        self.set_live(intid, true);
    }

    /// Clears the pending latch of interrupt `intid` of `vcpu`, which a
    /// flush moved into a list register.
    pub(super) fn move_latch(&mut self, vcpu: usize, intid: u32) {
        if let Some(irq) = self.irq_mut(vcpu, intid) {
            irq.flags.remove(IrqFlags::LATCH);
            let irq = *irq;
            self.note_live(vcpu, intid, &irq);
        }
    }

    /// Notes a change of interrupt `intid` of `vcpu` from `before` to
    /// `after`: the vCPU it goes to must look at it, and is kicked when it
    /// became pending there for a list register, active or not (an
    /// interrupt pending again while the guest handles it must reach the
    /// list register too: a vCPU that waits in the guest would not see it
    /// otherwise).
    fn changed(&mut self, vcpu: usize, intid: u32, before: &Irq, after: &Irq) {
        if before == after {
            return;
        }
        self.note_live(vcpu, intid, after);
        let Some(to) = home(vcpu, intid, after) else {
            return;
        };
        let bit = vcpu_bit(to);
        self.notes.work |= bit;
        let moved = home(vcpu, intid, before) != Some(to);
        if after.for_list_register(self.ctlr) && (moved || !before.for_list_register(self.ctlr)) {
            self.notes.kicks |= bit;
        }
    }

    /// Records whether interrupt `intid` of `vcpu`, now `irq`, is one a
    /// flush must look at.
    fn note_live(&mut self, vcpu: usize, intid: u32, irq: &Irq) {
        if intid >= NR_PRIVATE {
            self.set_live(intid, irq.live());
        } else if let Some(cpu) = self.cpus.get_mut(vcpu) {
            let bit = 1u32 << intid;
            if irq.live() {
                cpu.live_private |= bit;
            } else {
                cpu.live_private &= !bit;
            }
        }
    }

    /// Marks SPI `intid` as one a flush must look at, or not.
    fn set_live(&mut self, intid: u32, live: bool) {
        let (word, bit) = intid_bit(intid);
        if let Some(w) = self.live.get_mut(word) {
            if live {
                *w |= bit;
            } else {
                *w &= !bit;
            }
            let summary = 1u32 << (word % 32);
            if *w != 0 {
                self.live_words |= summary;
            } else {
                self.live_words &= !summary;
            }
        }
    }

    /// The SPIs a flush must look at.
    pub(super) fn live_spis(&self) -> impl Iterator<Item = u32> + '_ {
        bits(self.live_words).flat_map(move |word| {
            let first = word * INTIDS_PER_WORD;
            let value = self.live.get(word as usize).copied().unwrap_or(0);
            bits(value).map(move |bit| first + bit)
        })
    }

    /// Word `word` of the live SPI bitmap.
    pub(super) fn live_word(&self, word: u32) -> u32 {
        self.live.get(word as usize).copied().unwrap_or(0)
    }

    /// Which words of the live SPI bitmap are not empty.
    pub(super) fn live_words(&self) -> u32 {
        self.live_words
    }

    /// The interrupts that can go to `vcpu`'s list registers: its live
    /// private ones and the live SPIs whose home it is.
    pub(super) fn candidates(&self, vcpu: usize) -> impl Iterator<Item = (u32, &Irq)> + '_ {
        let live_private = self.cpus.get(vcpu).map_or(0, |cpu| cpu.live_private);
        let private = bits(live_private).filter_map(move |intid| Some((intid, self.irq(vcpu, intid)?)));
        let spis = self
            .live_spis()
            .filter_map(move |intid| Some((intid, self.irq(vcpu, intid)?)))
            .filter(move |(intid, irq)| home(vcpu, *intid, irq) == Some(vcpu));
        private.chain(spis)
    }

    /// Whether an interrupt is deliverable to `vcpu`.
    pub(super) fn has_deliverable(&self, vcpu: usize) -> bool {
        let ctlr = self.ctlr;
        self.candidates(vcpu).any(|(_, irq)| irq.deliverable(ctlr))
    }

    /// Writes `GICD_CTLR`: a group that gets enabled kicks every vCPU with
    /// an interrupt pending for a list register (active or not, as
    /// `changed` kicks).
    pub(super) fn set_ctlr(&mut self, value: u32) {
        let old = self.ctlr;
        self.ctlr = value & gicd::CTLR_WRITABLE;
        if old == self.ctlr {
            return;
        }
        let enabled = self.ctlr & !old != 0;
        for vcpu in 0..self.nr_vcpus {
            let bit = vcpu_bit(vcpu);
            self.notes.work |= bit;
            if enabled && self.candidates(vcpu).any(|(_, irq)| irq.for_list_register(self.ctlr)) {
                self.notes.kicks |= bit;
            }
        }
    }

    /// Queues forwarded SPI `intid` for the host to unmask.
    fn queue_unmask(&mut self, intid: u32) {
        let (word, bit) = intid_bit(intid);
        if let Some(w) = self.unmask.get_mut(word) {
            *w |= bit;
            self.notes.unmask = true;
        }
    }

    /// Moves queued unmasks into `out`; returns how many, and whether more
    /// are left.
    pub(super) fn take_unmasks(&mut self, out: &mut [u32]) -> (usize, bool) {
        let mut n = 0;
        for (first, word) in (0..).step_by(32).zip(self.unmask.iter_mut()) {
            while *word != 0 {
                let Some(slot) = out.get_mut(n) else {
                    return (n, true);
                };
                let bit = word.trailing_zeros();
                *word &= !(1 << bit);
                *slot = first + bit;
                n += 1;
            }
        }
        (n, false)
    }
}

/// The numbers of the bits set in `word`, lowest first.
pub(super) fn bits(mut word: u32) -> impl Iterator<Item = u32> {
    core::iter::from_fn(move || {
        (word != 0).then(|| {
            let bit = word.trailing_zeros();
            word &= word - 1;
            bit
        })
    })
}
