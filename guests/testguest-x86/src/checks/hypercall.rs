//! The hypercalls (`VMMCALL` / `VMCALL`); SKIP without the hypervisor.

use super::Report;
use crate::host::Host;
use crate::hypercall;

/// A number in the ABI's range that it does not define.
const UNDEFINED_NUMBER: u64 = 0xC600_00FF;
/// Printed byte by byte through `HC_PUTCHAR`.
const PUTCHAR_TEXT: &[u8] = b"putchar ok\n";
/// The checks' names, for the SKIP lines.
const NAMES: [&str; 5] = [
    "hypercall version",
    "hypercall vm id",
    "hypercall cpu id 0",
    "hypercall unknown",
    "hypercall putchar",
];

/// Runs the hypercall checks.
pub fn run(report: &mut Report, host: Host) {
    if let Some(why) = host.bare_reason() {
        for name in NAMES {
            report.skip(format_args!("{}", name), format_args!("no hypervisor: {}", why));
        }
        return;
    }

    let version = hypercall::version();
    report.check(
        version == hypercall::HC_ABI_VERSION,
        format_args!("hypercall version"),
        format_args!("got {:#x}, want {:#x}", version, hypercall::HC_ABI_VERSION),
    );

    let vm_id = hypercall::vm_id();
    if vm_id == hypercall::NOT_SUPPORTED {
        report.fail(format_args!("hypercall vm id"), format_args!("returned -1"));
    } else {
        report.pass(format_args!("hypercall vm id {}", vm_id));
    }

    let cpu_id = hypercall::cpu_id();
    report.check(
        cpu_id == 0,
        format_args!("hypercall cpu id 0"),
        format_args!("got {:#x}", cpu_id),
    );

    let unknown = hypercall::query(UNDEFINED_NUMBER);
    report.check(
        unknown == hypercall::NOT_SUPPORTED,
        format_args!("hypercall unknown"),
        format_args!("number {:#x} returned {:#x}, want -1", UNDEFINED_NUMBER, unknown),
    );

    let bad = PUTCHAR_TEXT
        .iter()
        .map(|&b| hypercall::putchar(b))
        .find(|&ret| ret != hypercall::SUCCESS);
    match bad {
        None => report.pass(format_args!("hypercall putchar")),
        Some(ret) => report.fail(format_args!("hypercall putchar"), format_args!("returned {:#x}", ret)),
    }
}
