//! The greeting over the PL011 UART.

use super::Report;
use crate::cpu;

/// Prints the greeting; reaching the next line means the UART works.
pub fn run(report: &mut Report) {
    println!("testguest: hello from vCPU {}", cpu::index());
    report.pass(format_args!("uart"));
}
