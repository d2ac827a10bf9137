//! The interrupt registers common to the distributor and the
//! redistributors' `SGI_base` frames (`IGROUPR` .. `NSACR`), and the access
//! rules of 32- and 64-bit registers.
//!
//! The distributor serves the words of INTIDs 32 and up ([`Bank::Shared`];
//! the words of INTIDs 0..31 are RAZ/WI there, since affinity routing puts
//! them in the redistributors); a redistributor serves its vCPU's INTIDs
//! 0..31 ([`Bank::Private`]). A register none of whose INTIDs is
//! implemented is not handled (the caller logs it and reads zero); within a
//! word, the bits of unimplemented INTIDs read zero and ignore writes.

use axvcpu::AccessWidth;

use super::regs::{INTIDS_PER_CFG_WORD, INTIDS_PER_WORD, NR_PRIVATE, NR_SGIS, REG32, REG64, irq as r};
use super::state::{Irq, IrqFlags, Op, VgicState};
use crate::width::Window;

/// Which interrupts a frame serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bank {
    /// The distributor: the SPIs.
    Shared,
    /// A redistributor: the SGIs and PPIs of this vCPU.
    Private(usize),
}

/// A one-bit-per-INTID register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bitmap {
    Group,
    SetEnable,
    ClearEnable,
    SetPending,
    ClearPending,
    SetActive,
    ClearActive,
}

impl Bitmap {
    /// The register array that starts `index` arrays after `IGROUPR`.
    fn from_index(index: usize) -> Option<Self> {
        Some(match index {
            0 => Self::Group,
            1 => Self::SetEnable,
            2 => Self::ClearEnable,
            3 => Self::SetPending,
            4 => Self::ClearPending,
            5 => Self::SetActive,
            6 => Self::ClearActive,
            _ => return None,
        })
    }

    /// The bit an interrupt reads as.
    fn read(self, irq: &Irq) -> bool {
        match self {
            Self::Group => irq.has(IrqFlags::GROUP1),
            Self::SetEnable | Self::ClearEnable => irq.has(IrqFlags::ENABLED),
            Self::SetPending | Self::ClearPending => irq.pending(),
            Self::SetActive | Self::ClearActive => irq.has(IrqFlags::ACTIVE),
        }
    }

    /// The change a write of `bit` makes.
    fn op(self, bit: bool) -> Option<Op> {
        match (self, bit) {
            (Self::Group, group1) => Some(Op::Group(group1)),
            (_, false) => None,
            (Self::SetEnable, true) => Some(Op::Enable(true)),
            (Self::ClearEnable, true) => Some(Op::Enable(false)),
            (Self::SetPending, true) => Some(Op::SetPending),
            (Self::ClearPending, true) => Some(Op::ClearPending),
            (Self::SetActive, true) => Some(Op::SetActive),
            (Self::ClearActive, true) => Some(Op::ClearActive),
        }
    }
}

/// The register an offset addresses, with the index of its word (or byte
/// for the byte-per-INTID registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reg {
    Bitmap(Bitmap, u32),
    Priority(u32),
    Targets,
    Config(u32),
    GroupMod(u32),
    Nsacr(u32),
}

impl Reg {
    /// Decodes an access of `width` at `offset`; `None` for an offset
    /// outside these registers, a width they do not allow or a misaligned
    /// access.
    fn decode(offset: usize, width: AccessWidth) -> Option<Self> {
        let word = |base: usize| u32::try_from(offset.checked_sub(base)? / REG32).ok();
        let byte_or_word =
            matches!(width, AccessWidth::Byte) || (matches!(width, AccessWidth::Dword) && offset.is_multiple_of(REG32));
        let reg32 = is_reg32(offset, width);
        match offset {
            r::IGROUPR..r::BITMAP_END if reg32 => {
                let rel = offset.checked_sub(r::IGROUPR)?;
                let kind = Bitmap::from_index(rel / r::BITMAP_SIZE)?;
                let index = u32::try_from((rel % r::BITMAP_SIZE) / REG32).ok()?;
                Some(Self::Bitmap(kind, index))
            }
            r::IPRIORITYR..r::IPRIORITYR_END if byte_or_word => {
                Some(Self::Priority(u32::try_from(offset.checked_sub(r::IPRIORITYR)?).ok()?))
            }
            r::ITARGETSR..r::ITARGETSR_END if byte_or_word => Some(Self::Targets),
            r::ICFGR..r::ICFGR_END if reg32 => Some(Self::Config(word(r::ICFGR)?)),
            r::IGRPMODR..r::IGRPMODR_END if reg32 => Some(Self::GroupMod(word(r::IGRPMODR)?)),
            r::NSACR..r::NSACR_END if reg32 => Some(Self::Nsacr(word(r::NSACR)?)),
            _ => None,
        }
    }
}

/// Whether an access is a 4-byte access at a multiple of 4.
pub(super) fn is_reg32(offset: usize, width: AccessWidth) -> bool {
    matches!(width, AccessWidth::Dword) && offset.is_multiple_of(REG32)
}

/// The part of a 64-bit register at `offset` from its start that an access
/// covers: all 8 bytes, or either 4-byte half. Any other access is `None`.
pub(super) fn reg64_window(byte: usize, width: AccessWidth) -> Option<Window> {
    let allowed = match width {
        AccessWidth::Qword => byte == 0,
        AccessWidth::Dword => byte == 0 || byte == REG32,
        AccessWidth::Byte | AccessWidth::Word => false,
    };
    if allowed { Window::new(byte, width, REG64) } else { None }
}

/// What an access to a register word means in a bank.
enum Target {
    /// RAZ/WI, handled.
    Ignored,
    /// The interrupts of this vCPU (only those that exist).
    Irqs(usize),
    /// Not handled.
    Unhandled,
}

impl Bank {
    /// The meaning of a register whose first INTID is `first`: the
    /// distributor ignores INTIDs 0..31, a redistributor has only those.
    fn target(self, first: u32) -> Target {
        match self {
            Self::Shared if first < NR_PRIVATE => Target::Ignored,
            Self::Shared => Target::Irqs(0),
            Self::Private(vcpu) if first < NR_PRIVATE => Target::Irqs(vcpu),
            Self::Private(_) => Target::Unhandled,
        }
    }

    /// RAZ/WI registers (`ITARGETSR`, `IGRPMODR`, `NSACR`): the whole
    /// range in the distributor, word 0 in a redistributor (which has no
    /// `ITARGETSR`).
    fn razwi(self, word: Option<u32>) -> Option<u32> {
        match (self, word) {
            (Self::Shared, _) | (Self::Private(_), Some(0)) => Some(0),
            (Self::Private(_), _) => None,
        }
    }
}

impl VgicState {
    /// The value of the interrupt register of `bank` at `offset`, or `None`
    /// when the access is not handled.
    pub(super) fn read_irq_reg(&self, bank: Bank, offset: usize, width: AccessWidth) -> Option<u32> {
        match Reg::decode(offset, width)? {
            Reg::Bitmap(kind, word) => self.read_bits(bank, word.checked_mul(INTIDS_PER_WORD)?, |irq| kind.read(irq)),
            Reg::Priority(byte) => self.read_bytes(bank, byte, width),
            Reg::Config(word) => {
                let first = word.checked_mul(INTIDS_PER_CFG_WORD)?;
                if bank != Bank::Shared && first < NR_SGIS {
                    // ICFGR0: the SGIs are always edge-triggered.
                    return Some(r::CFG_ALL_EDGE);
                }
                if bank != Bank::Shared && first < NR_PRIVATE {
                    // ICFGR1: the PPIs are always level-sensitive.
                    return Some(r::CFG_ALL_LEVEL);
                }
                self.read_config(bank, first)
            }
            Reg::Targets => bank.razwi(None),
            Reg::GroupMod(word) | Reg::Nsacr(word) => bank.razwi(Some(word)),
        }
    }

    /// Writes the interrupt register of `bank` at `offset`; false when the
    /// access is not handled.
    pub(super) fn write_irq_reg(&mut self, bank: Bank, offset: usize, width: AccessWidth, value: u32) -> bool {
        let Some(reg) = Reg::decode(offset, width) else {
            return false;
        };
        match reg {
            Reg::Bitmap(kind, word) => word
                .checked_mul(INTIDS_PER_WORD)
                .is_some_and(|first| self.write_each(bank, first, INTIDS_PER_WORD, |i| kind.op(value & (1 << i) != 0))),
            Reg::Priority(byte) => {
                let bytes = value.to_le_bytes();
                let n = u32::try_from(width.size()).unwrap_or(0);
                self.write_each(bank, byte, n, |i| {
                    bytes.get(usize::try_from(i).ok()?).map(|p| Op::Priority(*p))
                })
            }
            Reg::Config(word) => {
                let Some(first) = word.checked_mul(INTIDS_PER_CFG_WORD) else {
                    return false;
                };
                if bank != Bank::Shared && first < NR_SGIS {
                    // ICFGR0: the SGIs are always edge-triggered (read-only).
                    return false;
                }
                if bank != Bank::Shared && first < NR_PRIVATE {
                    // ICFGR1: the PPIs are always level-sensitive; the
                    // architecture lets their configuration be fixed, and
                    // it must be here: the lines behind them (the timers)
                    // are levels the model only samples at exits, so it
                    // could miss an edge (the line going low and high
                    // again between two samples) and lose the interrupt.
                    // Writes are ignored, as a fixed configuration is.
                    return true;
                }
                self.write_each(bank, first, INTIDS_PER_CFG_WORD, |i| {
                    let field = value.checked_shr(i * r::CFG_BITS).unwrap_or(0);
                    Some(Op::Edge(field & r::CFG_EDGE != 0))
                })
            }
            Reg::Targets => bank.razwi(None).is_some(),
            Reg::GroupMod(word) | Reg::Nsacr(word) => bank.razwi(Some(word)).is_some(),
        }
    }

    /// A one-bit-per-INTID word from INTID `first`.
    fn read_bits(&self, bank: Bank, first: u32, bit: impl Fn(&Irq) -> bool) -> Option<u32> {
        self.gather(bank, first, INTIDS_PER_WORD, |irq| u32::from(bit(irq)), 1)
    }

    /// Priority bytes from INTID `first`, as many as `width`.
    fn read_bytes(&self, bank: Bank, first: u32, width: AccessWidth) -> Option<u32> {
        let n = u32::try_from(width.size()).ok()?;
        self.gather(bank, first, n, |irq| u32::from(irq.priority), 8)
    }

    /// An `ICFGR` word from INTID `first`.
    fn read_config(&self, bank: Bank, first: u32) -> Option<u32> {
        let field = |irq: &Irq| if irq.has(IrqFlags::EDGE) { r::CFG_EDGE } else { 0 };
        self.gather(bank, first, INTIDS_PER_CFG_WORD, field, r::CFG_BITS)
    }

    /// Packs `field(irq)` of INTIDs `first..first + n` into a word, `bits`
    /// bits each; `None` when none of them exists.
    fn gather(&self, bank: Bank, first: u32, n: u32, field: impl Fn(&Irq) -> u32, bits: u32) -> Option<u32> {
        let vcpu = match bank.target(first) {
            Target::Ignored => return Some(0),
            Target::Irqs(vcpu) => vcpu,
            Target::Unhandled => return None,
        };
        let mut value = 0u32;
        let mut any = false;
        for i in 0..n {
            let Some(irq) = first.checked_add(i).and_then(|intid| self.irq(vcpu, intid)) else {
                continue;
            };
            any = true;
            value |= field(irq).checked_shl(i.saturating_mul(bits)).unwrap_or(0);
        }
        any.then_some(value)
    }

    /// Applies `op(i)` to each existing INTID `first + i` for `i` in
    /// `0..n`; false when none of them exists.
    fn write_each(&mut self, bank: Bank, first: u32, n: u32, op: impl Fn(u32) -> Option<Op>) -> bool {
        let vcpu = match bank.target(first) {
            Target::Ignored => return true,
            Target::Irqs(vcpu) => vcpu,
            Target::Unhandled => return false,
        };
        let mut any = false;
        for i in 0..n {
            let Some(intid) = first.checked_add(i) else {
                break;
            };
            if self.irq(vcpu, intid).is_none() {
                continue;
            }
            any = true;
            if let Some(op) = op(i) {
                self.update(vcpu, intid, op);
            }
        }
        any
    }
}
