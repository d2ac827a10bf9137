//! Platform facts read from the flattened device tree the loader passes in.
//!
//! Portable code (no hardware access), so it is tested on the build machine
//! against device trees dumped from QEMU (`testdata/`). Uses the `fdt` crate
//! (maintained, `no_std`, no allocation) for the parsing itself; this module
//! only picks out what the host kernel needs and checks it.

use core::fmt;
use fdt::Fdt;

/// Most RAM banks / reserved ranges kept.
pub const MAX_RANGES: usize = 8;
/// Most CPUs recorded from `/cpus`.
pub const MAX_CPUS: usize = 16;

/// A physical address range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysRange {
    /// First byte.
    pub base: usize,
    /// Length in bytes.
    pub size: usize,
}

impl PhysRange {
    /// One past the last byte, or `None` if that overflows.
    pub fn end(&self) -> Option<usize> {
        self.base.checked_add(self.size)
    }
}

/// A small fixed-capacity list, usable before the heap exists.
#[derive(Clone, Copy, Debug)]
pub struct List<T: Copy + Default, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy + Default, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        Self {
            items: [T::default(); N],
            len: 0,
        }
    }
}

impl<T: Copy + Default, const N: usize> List<T, N> {
    /// Appends; returns `false` (and drops the item) when full.
    pub fn push(&mut self, item: T) -> bool {
        if self.len == N {
            return false;
        }
        self.items[self.len] = item;
        self.len += 1;
        true
    }
    /// The items held.
    pub fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }
    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }
    /// No items.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// How PSCI calls reach the firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PsciMethod {
    /// `smc #0` (firmware at EL3, or QEMU's built-in PSCI with EL2 on).
    #[default]
    Smc,
    /// `hvc #0` (firmware at EL2: not usable by a hypervisor).
    Hvc,
}

impl PsciMethod {
    /// Parses the `method` property of the `/psci` node.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "smc" => Some(Self::Smc),
            "hvc" => Some(Self::Hvc),
            _ => None,
        }
    }
}

/// What the host kernel learns from the device tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlatformInfo {
    /// RAM banks (`/memory` nodes).
    pub ram: List<PhysRange, MAX_RANGES>,
    /// Ranges not to touch: `/reserved-memory` children with `reg` and the
    /// memory reservation block.
    pub reserved: List<PhysRange, MAX_RANGES>,
    /// MPIDR affinity of each CPU in `/cpus`, in tree order (logical id =
    /// index).
    pub cpus: List<u64, MAX_CPUS>,
    /// The console UART (an `arm,pl011`).
    pub uart: Option<PhysRange>,
    /// GICv3 distributor.
    pub gicd: Option<PhysRange>,
    /// GICv3 redistributor region (one frame pair per CPU).
    pub gicr: Option<PhysRange>,
    /// PSCI conduit, if the tree has a `/psci` node with a known method.
    pub psci: Option<PsciMethod>,
    /// INTID of the EL2 (hypervisor) physical timer, from the timer node.
    pub hyp_timer_intid: Option<u32>,
    /// The device tree blob itself.
    pub dtb: PhysRange,
}

/// Why a device tree could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtbError {
    /// The blob does not parse (bad magic, truncated, bad structure).
    Malformed,
    /// A node the kernel cannot do without is missing or unusable.
    Missing(&'static str),
}

impl fmt::Display for DtbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("the device tree is malformed"),
            Self::Missing(what) => write!(f, "the device tree has no usable {what}"),
        }
    }
}

/// PPI numbers of the `arm,armv8-timer` node's interrupts, in order: secure
/// physical, non-secure physical, virtual, hypervisor physical.
const TIMER_HYP_INDEX: usize = 3;
/// PPIs start at INTID 16.
const PPI_BASE: u32 = 16;

/// Reads the platform facts from a device tree blob at `addr`.
///
/// Only RAM and CPUs are required; everything else is optional and the
/// caller falls back to the platform constants.
pub fn parse(blob: &[u8], addr: usize) -> Result<PlatformInfo, DtbError> {
    let fdt = Fdt::new(blob).map_err(|_| DtbError::Malformed)?;
    let mut info = PlatformInfo {
        dtb: PhysRange {
            base: addr,
            size: fdt.total_size(),
        },
        ..Default::default()
    };

    for region in fdt.memory().regions() {
        if let Some(size) = region.size.filter(|s| *s > 0) {
            info.ram.push(PhysRange {
                base: region.starting_address as usize,
                size,
            });
        }
    }
    if info.ram.is_empty() {
        return Err(DtbError::Missing("/memory node"));
    }
    for r in fdt.memory_reservations() {
        info.reserved.push(PhysRange {
            base: r.address() as usize,
            size: r.size(),
        });
    }
    if let Some(node) = fdt.find_node("/reserved-memory") {
        for child in node.children() {
            for r in child.reg().into_iter().flatten() {
                if let Some(size) = r.size {
                    info.reserved.push(PhysRange {
                        base: r.starting_address as usize,
                        size,
                    });
                }
            }
        }
    }
    for cpu in fdt.cpus() {
        if let Some(mpidr) = cpu.property("reg").and_then(|p| p.as_usize()) {
            info.cpus.push(mpidr as u64);
        }
    }
    if info.cpus.is_empty() {
        return Err(DtbError::Missing("/cpus node"));
    }

    info.uart = first_reg(&fdt, "arm,pl011", 0);
    info.gicd = first_reg(&fdt, "arm,gic-v3", 0);
    info.gicr = first_reg(&fdt, "arm,gic-v3", 1);
    info.psci = fdt
        .find_node("/psci")
        .and_then(|n| n.property("method"))
        .and_then(|p| p.as_str())
        .and_then(PsciMethod::from_name);
    info.hyp_timer_intid = fdt
        .find_compatible(&["arm,armv8-timer"])
        .and_then(|n| n.property("interrupts"))
        .and_then(|p| cell(p.value, TIMER_HYP_INDEX * 3 + 1))
        .map(|ppi| ppi + PPI_BASE);
    Ok(info)
}

/// The `index`-th `reg` entry of the first node compatible with `compat`.
fn first_reg(fdt: &Fdt, compat: &str, index: usize) -> Option<PhysRange> {
    let r = fdt.find_compatible(&[compat])?.reg()?.nth(index)?;
    Some(PhysRange {
        base: r.starting_address as usize,
        size: r.size?,
    })
}

/// The `index`-th big-endian 32-bit cell of a property value.
fn cell(value: &[u8], index: usize) -> Option<u32> {
    let start = index.checked_mul(4)?;
    let bytes = value.get(start..start.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMP4: &[u8] = include_bytes!("../testdata/qemu-virt-gicv3-smp4-2g.dtb");
    const SMP1: &[u8] = include_bytes!("../testdata/qemu-virt-gicv3-smp1-512m.dtb");

    #[test]
    fn qemu_virt_four_cpus_two_gib() {
        let info = parse(SMP4, 0x4800_0000).unwrap();
        assert_eq!(
            info.ram.as_slice(),
            &[PhysRange {
                base: 0x4000_0000,
                size: 0x8000_0000
            }]
        );
        assert_eq!(info.cpus.as_slice(), &[0, 1, 2, 3]);
        assert_eq!(
            info.uart,
            Some(PhysRange {
                base: 0x0900_0000,
                size: 0x1000
            })
        );
        assert_eq!(
            info.gicd,
            Some(PhysRange {
                base: 0x0800_0000,
                size: 0x1_0000
            })
        );
        assert_eq!(
            info.gicr,
            Some(PhysRange {
                base: 0x080a_0000,
                size: 0xf6_0000
            })
        );
        assert_eq!(info.psci, Some(PsciMethod::Smc));
        assert_eq!(info.hyp_timer_intid, Some(26));
        assert_eq!(info.dtb.base, 0x4800_0000);
        assert_eq!(info.dtb.size, SMP4.len());
    }

    #[test]
    fn qemu_virt_one_cpu_half_gib() {
        let info = parse(SMP1, 0).unwrap();
        assert_eq!(
            info.ram.as_slice(),
            &[PhysRange {
                base: 0x4000_0000,
                size: 0x2000_0000
            }]
        );
        assert_eq!(info.cpus.as_slice(), &[0]);
    }

    #[test]
    fn garbage_and_truncation_are_rejected() {
        assert_eq!(parse(&[0u8; 64], 0).unwrap_err(), DtbError::Malformed);
        assert_eq!(parse(&SMP4[..32], 0).unwrap_err(), DtbError::Malformed);
    }

    #[test]
    fn psci_methods_and_cells() {
        assert_eq!(PsciMethod::from_name("hvc"), Some(PsciMethod::Hvc));
        assert_eq!(PsciMethod::from_name("spin-table"), None);
        assert_eq!(cell(&[0, 0, 0, 1, 0, 0, 0, 2], 1), Some(2));
        assert_eq!(cell(&[0, 0, 0, 1], 1), None);
        assert_eq!(cell(&[0; 4], usize::MAX), None);
    }

    #[test]
    fn list_keeps_capacity() {
        let mut l: List<u8, 2> = List::default();
        assert!(l.push(1) && l.push(2));
        assert!(!l.push(3));
        assert_eq!(l.as_slice(), &[1, 2]);
    }
}
