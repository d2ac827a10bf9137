//! [`VLapic`]: an emulated local APIC (xAPIC register page) for one x86
//! vCPU.
//!
//! # What it models
//!
//! | offset | register | behaviour |
//! |--------|----------|-----------|
//! | `0x020` | ID | the vCPU id in bits 24-31 (read-only) |
//! | `0x030` | version | `0x0005_0014`: an integrated APIC with six LVT entries |
//! | `0x080` | TPR | read/write; raises the priority floor |
//! | `0x0A0` | PPR | the higher of TPR and the in-service class |
//! | `0x0B0` | EOI | a write ends the highest in-service interrupt |
//! | `0x0D0`, `0x0E0` | LDR, DFR | read/write (flat logical mode) |
//! | `0x0F0` | SVR | read/write; bit 8 enables the APIC (reset `0xFF`: disabled) |
//! | `0x100`-`0x170`, `0x180`-`0x1F0`, `0x200`-`0x270` | ISR, TMR, IRR | read-only bitmaps |
//! | `0x280` | ESR | reads 0 |
//! | `0x300`, `0x310` | ICR | a write of the low half sends: fixed IPIs, INIT and STARTUP ([`Ipi`]) |
//! | `0x320`-`0x370` | LVT timer, thermal, perf, LINT0, LINT1, error | read/write; only the timer's is used |
//! | `0x380`, `0x390`, `0x3E0` | timer initial count, current count, divide | the timer below |
//!
//! Every register is 32 bits at a 16-byte aligned offset; other accesses
//! read zero and are ignored (logged once).
//!
//! # Timer
//!
//! The timer counts down at [`VLAPIC_TIMER_HZ`] divided by the divide
//! configuration, on the host's clock: the model is given the host time in
//! ticks (`now`) on every call and the host's tick rate when created, and
//! it reports when it next fires ([`VLapic::timer_deadline`]) so the host
//! can wake up then. One-shot and periodic modes; TSC-deadline mode is not
//! offered (CPUID does not announce it) and never fires. A periodic timer
//! that fell behind fires once and catches up, as the interrupt stays
//! pending in IRR until taken.
//!
//! # Delivery
//!
//! Interrupts become pending in IRR (the timer, IPIs from other vCPUs
//! through [`VLapic::accept`]). [`VLapic::take_deliverable`] moves the
//! highest one whose priority class is above PPR into ISR and returns it;
//! the VM layer injects that vector into the vCPU. EOI clears the highest
//! ISR bit. Vectors 0-15 are illegal and ignored.

use kspin::SpinNoIrq;

use crate::UnhandledAccessLog;
use axvcpu::AccessWidth;

/// The size of the register page.
pub const VLAPIC_SIZE: usize = 0x1000;
/// The guest-physical address of the xAPIC register page on a PC.
pub const VLAPIC_BASE: usize = 0xfee0_0000;
/// The rate the timer counts at before its divider (1 GHz, as QEMU's
/// emulated APIC).
pub const VLAPIC_TIMER_HZ: u64 = 1_000_000_000;

/// Register offsets.
pub mod regs {
    /// Local APIC ID.
    pub const ID: usize = 0x020;
    /// Version.
    pub const VERSION: usize = 0x030;
    /// Task priority.
    pub const TPR: usize = 0x080;
    /// Arbitration priority.
    pub const APR: usize = 0x090;
    /// Processor priority.
    pub const PPR: usize = 0x0a0;
    /// End of interrupt.
    pub const EOI: usize = 0x0b0;
    /// Logical destination.
    pub const LDR: usize = 0x0d0;
    /// Destination format.
    pub const DFR: usize = 0x0e0;
    /// Spurious interrupt vector.
    pub const SVR: usize = 0x0f0;
    /// In-service register, 8 words.
    pub const ISR: usize = 0x100;
    /// Trigger mode register, 8 words.
    pub const TMR: usize = 0x180;
    /// Interrupt request register, 8 words.
    pub const IRR: usize = 0x200;
    /// Error status.
    pub const ESR: usize = 0x280;
    /// Interrupt command, low half.
    pub const ICR_LOW: usize = 0x300;
    /// Interrupt command, high half (destination).
    pub const ICR_HIGH: usize = 0x310;
    /// LVT timer.
    pub const LVT_TIMER: usize = 0x320;
    /// LVT error (the last LVT entry).
    pub const LVT_ERROR: usize = 0x370;
    /// Timer initial count.
    pub const TIMER_INITIAL: usize = 0x380;
    /// Timer current count.
    pub const TIMER_CURRENT: usize = 0x390;
    /// Timer divide configuration.
    pub const TIMER_DIVIDE: usize = 0x3e0;
}

/// Version register: version 0x14, max LVT entry 5.
const VERSION_VALUE: u32 = 0x0005_0014;
/// SVR: APIC software enable.
const SVR_ENABLE: u32 = 1 << 8;
/// LVT: masked.
const LVT_MASKED: u32 = 1 << 16;
/// LVT timer mode field (bits 17-18): one-shot 0, periodic 1, TSC deadline 2.
const LVT_TIMER_MODE_SHIFT: u32 = 17;
const LVT_TIMER_MODE_MASK: u32 = 0b11;
const TIMER_PERIODIC: u32 = 1;
/// The bits of an LVT entry software may write (vector, delivery mode,
/// polarity, trigger, mask, timer mode).
const LVT_WRITABLE: u32 = 0x0007_a7ff;
/// ICR fields.
const ICR_VECTOR_MASK: u32 = 0xff;
const ICR_DELIVERY_SHIFT: u32 = 8;
const ICR_DELIVERY_MASK: u32 = 0b111;
const ICR_LOGICAL: u32 = 1 << 11;
const ICR_LEVEL_ASSERT: u32 = 1 << 14;
const ICR_SHORTHAND_SHIFT: u32 = 18;
const ICR_SHORTHAND_MASK: u32 = 0b11;
/// The bits of ICR low software may write (the delivery status bit 12 is
/// read-only and always idle here).
const ICR_LOW_WRITABLE: u32 = 0x000c_cfff;
/// Delivery modes.
const DELIVERY_FIXED: u32 = 0;
const DELIVERY_LOWEST: u32 = 1;
const DELIVERY_INIT: u32 = 5;
const DELIVERY_STARTUP: u32 = 6;
/// The first legal interrupt vector.
const FIRST_VECTOR: u8 = 16;

/// What an IPI does at its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpiKind {
    /// Make interrupt `vector` pending (fixed or lowest-priority delivery).
    Fixed(u8),
    /// INIT: the target waits for a STARTUP.
    Init,
    /// STARTUP: the target starts in real mode at `vector << 12`.
    Startup(u8),
}

/// Where an IPI goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpiDest {
    /// The APIC whose ID is this (physical destination mode); 0xFF is
    /// every APIC.
    Physical(u8),
    /// The APICs whose logical ID (LDR bits 24-31, flat model) shares a
    /// bit with this mask.
    Logical(u8),
    /// The sender itself.
    SelfOnly,
    /// Every APIC, the sender included.
    AllIncludingSelf,
    /// Every APIC but the sender.
    AllExcludingSelf,
}

/// An IPI the guest sent through ICR, for the VM layer to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipi {
    /// What it does.
    pub kind: IpiKind,
    /// Where it goes.
    pub dest: IpiDest,
}

impl Ipi {
    /// Whether the APIC with `id` and logical ID `ldr` is a destination of
    /// this IPI sent by `sender`.
    pub fn targets(&self, sender: u32, id: u32, ldr: u32) -> bool {
        match self.dest {
            IpiDest::Physical(0xff) => true,
            IpiDest::Physical(d) => u32::from(d) == id,
            IpiDest::Logical(mask) => (ldr >> 24) & u32::from(mask) != 0,
            IpiDest::SelfOnly => id == sender,
            IpiDest::AllIncludingSelf => true,
            IpiDest::AllExcludingSelf => id != sender,
        }
    }
}

/// A 256-bit vector set (IRR, ISR).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct VectorSet([u32; 8]);

impl VectorSet {
    fn set(&mut self, v: u8) {
        self.0[usize::from(v / 32)] |= 1 << (v % 32);
    }
    fn clear(&mut self, v: u8) {
        self.0[usize::from(v / 32)] &= !(1 << (v % 32));
    }
    fn highest(&self) -> Option<u8> {
        (0..8)
            .rev()
            .find(|&i| self.0[i] != 0)
            .map(|i| (i * 32) as u8 + (31 - self.0[i].leading_zeros()) as u8)
    }
    fn word(&self, i: usize) -> u32 {
        self.0.get(i).copied().unwrap_or(0)
    }
}

/// The timer's state.
#[derive(Debug, Clone, Copy)]
struct Timer {
    lvt: u32,
    initial: u32,
    divide_config: u32,
    /// Host tick at which the current period started, while it counts.
    start: Option<u64>,
}

impl Timer {
    fn divide(&self) -> u64 {
        // DCR bits 0, 1 and 3 make a 3-bit value; 0b111 is divide by 1,
        // n otherwise divide by 2^(n+1).
        let v = (self.divide_config & 0b11) | ((self.divide_config >> 1) & 0b100);
        if v == 0b111 { 1 } else { 2 << v }
    }
    fn mode(&self) -> u32 {
        (self.lvt >> LVT_TIMER_MODE_SHIFT) & LVT_TIMER_MODE_MASK
    }
}

/// The registers.
#[derive(Debug, Clone)]
struct State {
    tpr: u32,
    ldr: u32,
    dfr: u32,
    svr: u32,
    irr: VectorSet,
    isr: VectorSet,
    icr_low: u32,
    icr_high: u32,
    /// LVT thermal, perf, LINT0, LINT1, error (the timer's is in `timer`).
    lvt: [u32; 5],
    timer: Timer,
}

impl State {
    fn new() -> Self {
        Self {
            tpr: 0,
            ldr: 0,
            dfr: u32::MAX,
            svr: 0xff,
            irr: VectorSet::default(),
            isr: VectorSet::default(),
            icr_low: 0,
            icr_high: 0,
            lvt: [LVT_MASKED; 5],
            timer: Timer {
                lvt: LVT_MASKED,
                initial: 0,
                divide_config: 0,
                start: None,
            },
        }
    }

    fn enabled(&self) -> bool {
        self.svr & SVR_ENABLE != 0
    }

    fn ppr(&self) -> u32 {
        let isr = self.isr.highest().map_or(0, |v| u32::from(v) & 0xf0);
        let tpr = self.tpr & 0xff;
        if (tpr & 0xf0) >= isr { tpr } else { isr }
    }
}

/// The local APIC of one vCPU; see the [module docs](self).
pub struct VLapic {
    id: u32,
    /// Host ticks per second (the clock `now` is counted in).
    host_hz: u64,
    state: SpinNoIrq<State>,
    unhandled: UnhandledAccessLog,
}

impl VLapic {
    /// The APIC of the vCPU with APIC ID `id`, on a host clock of `host_hz`
    /// ticks per second. Reset state: software-disabled, every LVT masked.
    pub fn new(id: u32, host_hz: u64) -> Self {
        Self {
            id,
            host_hz: host_hz.max(1),
            state: SpinNoIrq::new(State::new()),
            unhandled: UnhandledAccessLog::new(),
        }
    }

    /// The APIC ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The logical destination register.
    pub fn ldr(&self) -> u32 {
        self.state.lock().ldr
    }

    /// Host ticks of one period of `timer`.
    fn period_ticks(&self, t: &Timer) -> u64 {
        let counts = u128::from(t.initial) * u128::from(t.divide());
        let ticks = counts * u128::from(self.host_hz) / u128::from(VLAPIC_TIMER_HZ);
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }

    /// Fires the timer if it is due at `now` (IRR, unless masked).
    fn poll_timer(&self, s: &mut State, now: u64) {
        let Some(start) = s.timer.start else { return };
        let period = self.period_ticks(&s.timer);
        let elapsed = now.saturating_sub(start);
        if elapsed < period {
            return;
        }
        let masked = s.timer.lvt & LVT_MASKED != 0 || !s.enabled();
        let [vector, ..] = s.timer.lvt.to_le_bytes();
        if !masked && vector >= FIRST_VECTOR {
            s.irr.set(vector);
        }
        s.timer.start = if s.timer.mode() == TIMER_PERIODIC {
            Some(start.saturating_add(elapsed / period * period))
        } else {
            None
        };
    }

    /// The timer's current count at `now`.
    fn current_count(&self, s: &State, now: u64) -> u32 {
        let Some(start) = s.timer.start else { return 0 };
        let elapsed = u128::from(now.saturating_sub(start));
        let counts = elapsed * u128::from(VLAPIC_TIMER_HZ) / (u128::from(self.host_hz) * u128::from(s.timer.divide()));
        let initial = u128::from(s.timer.initial);
        let left = if s.timer.mode() == TIMER_PERIODIC && initial != 0 {
            initial - counts % initial
        } else {
            initial.saturating_sub(counts)
        };
        u32::try_from(left).unwrap_or(0)
    }

    /// When the timer next fires, in host ticks (`None` when it does not
    /// count, or is masked).
    pub fn timer_deadline(&self) -> Option<u64> {
        let s = self.state.lock();
        let start = s.timer.start?;
        if s.timer.lvt & LVT_MASKED != 0 || !s.enabled() {
            return None;
        }
        Some(start.saturating_add(self.period_ticks(&s.timer)))
    }

    /// Makes interrupt `vector` pending (an IPI, a device). Illegal
    /// vectors (0-15) and a software-disabled APIC drop it.
    pub fn accept(&self, vector: u8) {
        let mut s = self.state.lock();
        if vector >= FIRST_VECTOR && s.enabled() {
            s.irr.set(vector);
        }
    }

    /// Whether an interrupt can be delivered at `now` (fires a due timer
    /// first).
    pub fn has_deliverable(&self, now: u64) -> bool {
        let mut s = self.state.lock();
        self.poll_timer(&mut s, now);
        Self::deliverable(&s).is_some()
    }

    fn deliverable(s: &State) -> Option<u8> {
        let v = s.irr.highest()?;
        (s.enabled() && u32::from(v) & 0xf0 > s.ppr() & 0xf0).then_some(v)
    }

    /// Takes the interrupt to deliver at `now`, if one can be: it moves
    /// from IRR to ISR, and the caller injects it.
    pub fn take_deliverable(&self, now: u64) -> Option<u8> {
        let mut s = self.state.lock();
        self.poll_timer(&mut s, now);
        let v = Self::deliverable(&s)?;
        s.irr.clear(v);
        s.isr.set(v);
        Some(v)
    }

    /// Reads the 32-bit register at `offset` at host time `now`; an access
    /// that is not a whole register reads 0.
    pub fn read(&self, offset: usize, width: AccessWidth, now: u64) -> u32 {
        if width != AccessWidth::Dword || !offset.is_multiple_of(16) {
            self.unhandled.read("vlapic", offset, width);
            return 0;
        }
        let mut s = self.state.lock();
        self.poll_timer(&mut s, now);
        let word = (offset >> 4) & 7;
        match offset {
            regs::ID => self.id << 24,
            regs::VERSION => VERSION_VALUE,
            regs::TPR => s.tpr,
            regs::APR => 0,
            regs::PPR => s.ppr(),
            regs::LDR => s.ldr,
            regs::DFR => s.dfr,
            regs::SVR => s.svr,
            o if (regs::ISR..regs::TMR).contains(&o) => s.isr.word(word),
            o if (regs::TMR..regs::IRR).contains(&o) => 0,
            o if (regs::IRR..regs::ESR).contains(&o) => s.irr.word(word),
            regs::ICR_LOW => s.icr_low,
            regs::ICR_HIGH => s.icr_high,
            regs::LVT_TIMER => s.timer.lvt,
            o if (regs::LVT_TIMER + 0x10..=regs::LVT_ERROR).contains(&o) => {
                s.lvt.get((o - regs::LVT_TIMER - 0x10) >> 4).copied().unwrap_or(0)
            }
            regs::TIMER_INITIAL => s.timer.initial,
            regs::TIMER_CURRENT => self.current_count(&s, now),
            regs::TIMER_DIVIDE => s.timer.divide_config,
            _ => 0,
        }
    }

    /// Writes the 32-bit register at `offset` at host time `now`. A write
    /// of ICR's low half returns the IPI it sends, for the VM layer to
    /// deliver.
    pub fn write(&self, offset: usize, width: AccessWidth, value: u32, now: u64) -> Option<Ipi> {
        if width != AccessWidth::Dword || !offset.is_multiple_of(16) {
            self.unhandled.write("vlapic", offset, width, u64::from(value));
            return None;
        }
        let mut s = self.state.lock();
        self.poll_timer(&mut s, now);
        match offset {
            regs::TPR => s.tpr = value & 0xff,
            regs::EOI => {
                if let Some(v) = s.isr.highest() {
                    s.isr.clear(v);
                }
            }
            regs::LDR => s.ldr = value & 0xff00_0000,
            regs::DFR => s.dfr = value | 0x0fff_ffff,
            regs::SVR => {
                s.svr = value & 0x1ff;
                if !s.enabled() {
                    // Software disable masks every LVT entry.
                    s.timer.lvt |= LVT_MASKED;
                    for l in &mut s.lvt {
                        *l |= LVT_MASKED;
                    }
                }
            }
            regs::ESR => {}
            regs::ICR_HIGH => s.icr_high = value & 0xff00_0000,
            regs::ICR_LOW => {
                s.icr_low = value & ICR_LOW_WRITABLE;
                return decode_icr(s.icr_low, s.icr_high);
            }
            regs::LVT_TIMER => {
                let masked = if s.enabled() { 0 } else { LVT_MASKED };
                let old_mode = s.timer.mode();
                s.timer.lvt = (value & LVT_WRITABLE) | masked;
                if s.timer.mode() != old_mode {
                    // A mode change stops the count (SDM 11.5.4).
                    s.timer.start = None;
                }
            }
            o if (regs::LVT_TIMER + 0x10..=regs::LVT_ERROR).contains(&o) => {
                let masked = if s.enabled() { 0 } else { LVT_MASKED };
                if let Some(l) = s.lvt.get_mut((o - regs::LVT_TIMER - 0x10) >> 4) {
                    *l = (value & LVT_WRITABLE) | masked;
                }
            }
            regs::TIMER_INITIAL => {
                s.timer.initial = value;
                s.timer.start = (value != 0).then_some(now);
            }
            regs::TIMER_DIVIDE => s.timer.divide_config = value & 0b1011,
            _ => {
                self.unhandled.write("vlapic", offset, width, u64::from(value));
            }
        }
        None
    }
}

/// The IPI an ICR write sends, if it sends one the model delivers (SMI,
/// NMI, INIT de-assert and reserved modes are dropped).
fn decode_icr(low: u32, high: u32) -> Option<Ipi> {
    let [vector, ..] = (low & ICR_VECTOR_MASK).to_le_bytes();
    let kind = match (low >> ICR_DELIVERY_SHIFT) & ICR_DELIVERY_MASK {
        DELIVERY_FIXED | DELIVERY_LOWEST => IpiKind::Fixed(vector),
        DELIVERY_INIT if low & ICR_LEVEL_ASSERT != 0 => IpiKind::Init,
        DELIVERY_STARTUP => IpiKind::Startup(vector),
        _ => return None,
    };
    let [.., dest] = high.to_le_bytes();
    let dest = match (low >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK {
        0 if low & ICR_LOGICAL != 0 => IpiDest::Logical(dest),
        0 => IpiDest::Physical(dest),
        1 => IpiDest::SelfOnly,
        2 => IpiDest::AllIncludingSelf,
        _ => IpiDest::AllExcludingSelf,
    };
    Some(Ipi { kind, dest })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DW: AccessWidth = AccessWidth::Dword;
    /// A host clock of 1 GHz: one tick per timer count at divide by 1.
    const HZ: u64 = 1_000_000_000;

    fn enabled(id: u32) -> VLapic {
        let l = VLapic::new(id, HZ);
        l.write(regs::SVR, DW, 0x1ff, 0);
        l
    }

    #[test]
    fn id_version_and_reset_values() {
        let l = VLapic::new(3, HZ);
        assert_eq!(l.read(regs::ID, DW, 0), 3 << 24);
        assert_eq!(l.read(regs::VERSION, DW, 0), 0x0005_0014);
        assert_eq!(l.read(regs::SVR, DW, 0), 0xff);
        assert_eq!(l.read(regs::LVT_TIMER, DW, 0), LVT_MASKED);
        assert_eq!(l.read(regs::DFR, DW, 0), u32::MAX);
        // Not a whole register.
        assert_eq!(l.read(regs::ID, AccessWidth::Byte, 0), 0);
        assert_eq!(l.read(regs::ID + 4, DW, 0), 0);
        // ID is read-only.
        l.write(regs::ID, DW, 7 << 24, 0);
        assert_eq!(l.read(regs::ID, DW, 0), 3 << 24);
    }

    #[test]
    fn one_shot_timer_counts_down_fires_once_and_eoi_ends_it() {
        let l = enabled(0);
        l.write(regs::TIMER_DIVIDE, DW, 0b1011, 0); // divide by 1
        l.write(regs::LVT_TIMER, DW, 0x40, 0);
        l.write(regs::TIMER_INITIAL, DW, 1000, 100);
        assert_eq!(l.timer_deadline(), Some(1100));
        assert_eq!(l.read(regs::TIMER_CURRENT, DW, 600), 500);
        assert!(!l.has_deliverable(1099));
        assert!(l.has_deliverable(1100));
        assert_eq!(l.read(regs::TIMER_CURRENT, DW, 1200), 0);
        assert_eq!(l.timer_deadline(), None);
        assert_eq!(l.take_deliverable(1200), Some(0x40));
        assert_eq!(l.read(regs::ISR + 0x20, DW, 1200), 1);
        assert_eq!(l.read(regs::PPR, DW, 1200), 0x40);
        assert_eq!(l.take_deliverable(5000), None);
        l.write(regs::EOI, DW, 0, 5000);
        assert_eq!(l.read(regs::ISR + 0x20, DW, 5000), 0);
    }

    #[test]
    fn periodic_timer_with_divider_rearms() {
        let l = enabled(0);
        l.write(regs::TIMER_DIVIDE, DW, 0b0011, 0); // divide by 16
        l.write(regs::LVT_TIMER, DW, (TIMER_PERIODIC << LVT_TIMER_MODE_SHIFT) | 0x30, 0);
        l.write(regs::TIMER_INITIAL, DW, 100, 0);
        assert_eq!(l.timer_deadline(), Some(1600));
        assert_eq!(l.read(regs::TIMER_CURRENT, DW, 800), 50);
        assert_eq!(l.take_deliverable(1600), Some(0x30));
        assert_eq!(l.timer_deadline(), Some(3200));
        l.write(regs::EOI, DW, 0, 1700);
        // Far behind: one interrupt, the next deadline after now.
        assert_eq!(l.take_deliverable(10_000), Some(0x30));
        assert_eq!(l.timer_deadline(), Some(11_200));
        assert_eq!(l.take_deliverable(10_000), None);
    }

    #[test]
    fn host_clock_rate_scales_the_deadline() {
        // 100 MHz host ticks, divide by 2 (reset value 0): 1000 counts =
        // 2 µs = 200 ticks.
        let l = VLapic::new(0, 100_000_000);
        l.write(regs::SVR, DW, 0x100, 0);
        l.write(regs::LVT_TIMER, DW, 0x20, 0);
        l.write(regs::TIMER_INITIAL, DW, 1000, 0);
        assert_eq!(l.timer_deadline(), Some(200));
    }

    #[test]
    fn masked_or_disabled_timer_does_not_interrupt() {
        let l = enabled(0);
        l.write(regs::LVT_TIMER, DW, LVT_MASKED | 0x40, 0);
        l.write(regs::TIMER_INITIAL, DW, 10, 0);
        assert_eq!(l.timer_deadline(), None);
        assert!(!l.has_deliverable(1000));
        let d = VLapic::new(0, HZ); // software-disabled
        d.write(regs::LVT_TIMER, DW, 0x40, 0);
        assert_eq!(d.read(regs::LVT_TIMER, DW, 0) & LVT_MASKED, LVT_MASKED);
        d.accept(0x50);
        assert!(!d.has_deliverable(0));
    }

    #[test]
    fn priority_tpr_and_nesting() {
        let l = enabled(0);
        l.accept(0x31);
        l.accept(0x52);
        l.accept(5); // illegal, dropped
        l.write(regs::TPR, DW, 0x60, 0);
        assert!(!l.has_deliverable(0));
        l.write(regs::TPR, DW, 0x40, 0);
        assert_eq!(l.take_deliverable(0), Some(0x52));
        // 0x31 is below the in-service class 0x50.
        assert_eq!(l.take_deliverable(0), None);
        l.write(regs::TPR, DW, 0, 0);
        l.write(regs::EOI, DW, 0, 0);
        assert_eq!(l.take_deliverable(0), Some(0x31));
        assert_eq!(l.read(regs::IRR + 0x10, DW, 0), 0);
    }

    #[test]
    fn icr_decodes_fixed_init_and_startup() {
        let l = enabled(0);
        l.write(regs::ICR_HIGH, DW, 1 << 24, 0);
        assert_eq!(
            l.write(regs::ICR_LOW, DW, 0x4500, 0),
            Some(Ipi {
                kind: IpiKind::Init,
                dest: IpiDest::Physical(1)
            })
        );
        // INIT level de-assert: nothing.
        assert_eq!(l.write(regs::ICR_LOW, DW, 0x8500, 0), None);
        assert_eq!(
            l.write(regs::ICR_LOW, DW, 0x0608, 0),
            Some(Ipi {
                kind: IpiKind::Startup(8),
                dest: IpiDest::Physical(1)
            })
        );
        let all_but_self = l.write(regs::ICR_LOW, DW, (3 << 18) | 0x41, 0).unwrap();
        assert_eq!(all_but_self.kind, IpiKind::Fixed(0x41));
        assert!(all_but_self.targets(0, 1, 0));
        assert!(!all_but_self.targets(0, 0, 0));
        let logical = l.write(regs::ICR_LOW, DW, ICR_LOGICAL | 0x41, 0).unwrap();
        assert_eq!(logical.dest, IpiDest::Logical(1));
        assert!(logical.targets(0, 5, 1 << 24));
        assert!(!logical.targets(0, 5, 2 << 24));
        // NMI and SMI are not modelled; delivery status reads idle.
        assert_eq!(l.write(regs::ICR_LOW, DW, 0x0400, 0), None);
        assert_eq!(l.read(regs::ICR_LOW, DW, 0) & (1 << 12), 0);
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let l = enabled(0);
        for off in (0..VLAPIC_SIZE).step_by(4) {
            for v in [0, u32::MAX, 0x8000_0000] {
                let _ = l.write(off, DW, v, u64::MAX);
                let _ = l.read(off, DW, u64::MAX);
                let _ = l.read(off, DW, 0);
            }
        }
        l.write(regs::TIMER_INITIAL, DW, u32::MAX, u64::MAX - 1);
        let _ = l.has_deliverable(0);
        let _ = l.timer_deadline();
    }
}
