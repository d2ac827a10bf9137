//! The vendor hypercalls.

use super::Report;
use crate::hvc;

/// An id in the vendor range that the ABI does not define.
const UNDEFINED_ID: u64 = 0xC600_00FF;
/// Printed byte by byte through `HC_PUTCHAR`.
const PUTCHAR_TEXT: &[u8] = b"putchar ok\n";

/// Runs the hypercall checks.
pub fn run(report: &mut Report) {
    let version = hvc::version();
    report.check(
        version == hvc::HC_ABI_VERSION,
        format_args!("hypercall version"),
        format_args!("got {:#x}, want {:#x}", version, hvc::HC_ABI_VERSION),
    );

    let vm_id = hvc::vm_id();
    if vm_id == hvc::NOT_SUPPORTED {
        report.fail(format_args!("hypercall vm id"), format_args!("returned NOT_SUPPORTED"));
    } else {
        report.pass(format_args!("hypercall vm id {}", vm_id));
    }

    let cpu_id = hvc::cpu_id();
    report.check(
        cpu_id == 0,
        format_args!("hypercall cpu id 0"),
        format_args!("got {:#x}", cpu_id),
    );

    let unknown = hvc::query(UNDEFINED_ID);
    report.check(
        unknown == hvc::NOT_SUPPORTED,
        format_args!("hypercall unknown"),
        format_args!(
            "id {:#x} returned {:#x}, want {:#x}",
            UNDEFINED_ID,
            unknown,
            hvc::NOT_SUPPORTED
        ),
    );

    let bad = PUTCHAR_TEXT
        .iter()
        .map(|&b| hvc::putchar(b))
        .find(|&ret| ret != hvc::SUCCESS);
    match bad {
        None => report.pass(format_args!("hypercall putchar")),
        Some(ret) => report.fail(format_args!("hypercall putchar"), format_args!("returned {:#x}", ret)),
    }
}
