//! `second vcpu started`: INIT and SIPI to APIC ID 1 start a vCPU in real
//! mode at the trampoline; it reaches long mode, prints `testguest-x86:
//! vCPU 1 up` and reports its APIC ID (and, under the hypervisor, its
//! `HC_CPU_ID`, which must be 1).

use super::Report;
use crate::host::Host;
use crate::platform::SECOND_APIC_ID;
use crate::smp::{self, StartError};

/// Runs the check.
pub fn run(report: &mut Report, host: Host) {
    let name = format_args!("second vcpu started");
    let ask_cpu_id = host.bare_reason().is_none();
    match smp::start_second(ask_cpu_id) {
        Err(StartError::Init) => report.fail(name, format_args!("the INIT IPI stayed pending in the ICR")),
        Err(StartError::Startup) => report.fail(name, format_args!("the SIPI stayed pending in the ICR")),
        Err(StartError::Timeout) => report.fail(name, format_args!("no report from the vCPU after INIT and SIPI")),
        Ok(arrival) if arrival.apic_id != SECOND_APIC_ID => report.fail(
            name,
            format_args!("it reports APIC ID {}, want {}", arrival.apic_id, SECOND_APIC_ID),
        ),
        Ok(arrival) => match arrival.cpu_id {
            Some(id) if id != 1 => report.fail(name, format_args!("its HC_CPU_ID returned {:#x}, want 1", id)),
            _ => report.pass(name),
        },
    }
}
