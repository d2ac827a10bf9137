//! The greeting over the 16550 UART, then the UART's own registers.

use super::Report;
use crate::host::Host;
use crate::{hypercall, tsc};
use crate::uart::{LSR_THRE, Uart};

/// The index of the vCPU the checks run on.
const BOOT_VCPU: u32 = 0;
/// Bytes written to the scratch register and read back.
const SCRATCH_PATTERNS: [u8; 2] = [0x5A, 0xA5];

/// Prints the greeting (reaching the next line means the UART transmits),
/// what the guest runs on, and checks that the line status register shows
/// the transmitter empty (a bounded wait) and that the scratch register
/// keeps a byte.
pub fn run(report: &mut Report, host: Host) {
    println!("testguest-x86: hello from vCPU {} (long mode)", BOOT_VCPU);
    match host.bare_reason() {
        None => println!("testguest-x86: under a hypervisor, hypercalls by {}", hypercall::instruction()),
        Some(why) => println!("testguest-x86: no hypervisor ({}): its checks SKIP", why),
    }

    let mut uart = Uart;
    if !tsc::wait_until(|| uart.line_status() & LSR_THRE != 0) {
        report.fail(
            format_args!("uart"),
            format_args!("LSR {:#04x}: the transmitter never empties", uart.line_status()),
        );
        return;
    }
    for pattern in SCRATCH_PATTERNS {
        uart.set_scratch(pattern);
        let got = uart.scratch();
        if got != pattern {
            report.fail(
                format_args!("uart"),
                format_args!("scratch register read {:#04x} after writing {:#04x}", got, pattern),
            );
            return;
        }
    }
    report.pass(format_args!("uart"));
}
