//! The virtual GICv3 as the guest finds it (`gic identification`), then
//! set up for the interrupt checks that follow.
//!
//! Identification: `GICD_PIDR2.ArchRev` is 3, `GICD_TYPER.ITLinesNumber`
//! at least 1, `GICD_CTLR` has `DS` and `ARE` set; the redistributors,
//! walked from vCPU 0's until one has `GICR_TYPER.Last`, each name their
//! vCPU (`Processor_Number` and `Aff0` = its index, `Aff1..3` = 0), and
//! the walk ends at the last vCPU PSCI knows of (`AFFINITY_INFO` of the
//! next index is refused). A distributor that aborts or is no GICv3 makes
//! the GIC unusable; the interrupt checks then fail as skipped.
//!
//! Set-up (distributor, then vCPU 0's redistributor and CPU interface)
//! prints `FAIL gic init <reason>` only when it fails.

use core::fmt;

use super::Report;
use crate::gic::{self, GICD_CTLR, GICD_PIDR2, GICD_TYPER, GICR_TYPER, GicError};
use crate::platform::{GICD_BASE, NUM_VCPUS};
use crate::psci::{self, AffinityState};

/// `GICD_PIDR2.ArchRev` of a GICv3.
const ARCH_REV_GICV3: u32 = 3;

/// Why the interrupt checks cannot run.
#[derive(Clone, Copy, Debug)]
pub enum Unusable {
    /// Reading the distributor aborted.
    NoDistributor,
    /// The distributor is not a GICv3.
    NotGicv3,
    /// Setting the GIC up failed.
    InitFailed(GicError),
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Unusable::NoDistributor => write!(f, "no distributor at {:#x}", GICD_BASE),
            Unusable::NotGicv3 => write!(f, "the distributor is no GICv3"),
            Unusable::InitFailed(e) => write!(f, "GIC set-up failed: {}", e),
        }
    }
}

/// The first identification problem found.
enum Problem {
    /// `GICD_TYPER.ITLinesNumber` is 0.
    NoSpis { typer: u32 },
    /// `GICD_CTLR` lacks `DS` or `ARE`.
    Control { ctlr: u32 },
    /// Reading the `GICR_TYPER` of the redistributor of vCPU `index`
    /// aborted.
    RedistributorAborted { index: usize },
    /// The redistributor of vCPU `index` names another vCPU.
    WrongVcpu { index: usize, typer: u64 },
    /// None of the first [`NUM_VCPUS`] redistributors has `Last` set.
    NoLast,
    /// PSCI and the redistributors disagree on the number of vCPUs.
    VcpuCount { redistributors: usize, psci: &'static str },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Problem::NoSpis { typer } => write!(f, "GICD_TYPER {:#x}: ITLinesNumber 0", typer),
            Problem::Control { ctlr } => write!(f, "GICD_CTLR {:#x}: want DS and ARE set", ctlr),
            Problem::RedistributorAborted { index } => {
                write!(f, "reading GICR_TYPER of vCPU {}'s redistributor aborted", index)
            }
            Problem::WrongVcpu { index, typer } => write!(
                f,
                "GICR_TYPER {:#x} of vCPU {}'s redistributor: want Processor_Number {} and affinity 0.0.0.{}",
                typer, index, index, index
            ),
            Problem::NoLast => write!(
                f,
                "GICR_TYPER.Last set on none of the first {} redistributors",
                NUM_VCPUS
            ),
            Problem::VcpuCount { redistributors, psci } => write!(
                f,
                "GICR_TYPER.Last on redistributor {} but PSCI AFFINITY_INFO {}",
                redistributors - 1,
                psci
            ),
        }
    }
}

/// Walks the redistributors from vCPU 0's to the one with `Last` set and
/// returns how many there are.
fn redistributors() -> Result<usize, Problem> {
    for index in 0..NUM_VCPUS {
        let typer = gic::probe_redistributor(index).ok_or(Problem::RedistributorAborted { index })?;
        let names_index = typer.read(GICR_TYPER::Processor_Number) == index as u64
            && typer.read(GICR_TYPER::Aff0) == index as u64
            && typer.read(GICR_TYPER::Aff321) == 0;
        if !names_index {
            return Err(Problem::WrongVcpu {
                index,
                typer: typer.get(),
            });
        }
        if typer.is_set(GICR_TYPER::Last) {
            return Ok(index + 1);
        }
    }
    Err(Problem::NoLast)
}

/// Checks that PSCI knows vCPUs `0..count` and no vCPU `count`.
fn matches_psci(count: usize) -> Result<(), Problem> {
    let known = |index: usize| !matches!(psci::affinity_info(index as u64), AffinityState::Error(_));
    if !(0..count).all(known) {
        return Err(Problem::VcpuCount {
            redistributors: count,
            psci: "refuses a vCPU before it",
        });
    }
    if known(count) {
        return Err(Problem::VcpuCount {
            redistributors: count,
            psci: "knows the vCPU after it",
        });
    }
    Ok(())
}

/// Everything identification checks beyond `GICD_PIDR2`.
fn identify() -> Result<usize, Problem> {
    let typer = gic::distributor_type();
    if typer.read(GICD_TYPER::ITLinesNumber) == 0 {
        return Err(Problem::NoSpis { typer: typer.get() });
    }
    let ctlr = gic::distributor_control();
    if !ctlr.is_set(GICD_CTLR::DS) || !ctlr.is_set(GICD_CTLR::ARE) {
        return Err(Problem::Control { ctlr: ctlr.get() });
    }
    let count = redistributors()?;
    matches_psci(count)?;
    Ok(count)
}

/// Runs `gic identification`, then sets the GIC up for this vCPU. Returns
/// why the interrupt checks cannot run, if they cannot.
pub fn run(report: &mut Report) -> Result<(), Unusable> {
    let name = format_args!("gic identification");
    let Some(pidr2) = gic::probe_pidr2() else {
        report.fail(name, format_args!("reading GICD_PIDR2 at {:#x} aborted", GICD_BASE));
        return Err(Unusable::NoDistributor);
    };
    let arch_rev = pidr2.read(GICD_PIDR2::ArchRev);
    if arch_rev != ARCH_REV_GICV3 {
        report.fail(
            name,
            format_args!("GICD_PIDR2 {:#x}: ArchRev {}, want 3", pidr2.get(), arch_rev),
        );
        return Err(Unusable::NotGicv3);
    }
    match identify() {
        Ok(count) => {
            println!("testguest: GICv3 with {} redistributor(s)", count);
            report.pass(name);
        }
        Err(problem) => report.fail(name, format_args!("{}", problem)),
    }
    let init = gic::init_distributor().and_then(|()| gic::init_this_cpu());
    if let Err(e) = init {
        report.fail(format_args!("gic init"), format_args!("{}", e));
        return Err(Unusable::InitFailed(e));
    }
    Ok(())
}
