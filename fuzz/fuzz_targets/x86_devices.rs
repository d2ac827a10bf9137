//! The x86 device models a guest drives: the local APIC (register accesses
//! at any offset and width, its timer against a clock the fuzzer advances,
//! interrupt acceptance) and the 16550 UART on its ports.
#![no_main]

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use axdevice::{BaseDeviceOps, DeviceContext, Uart16550, VLapic};
use axvcpu::Port;
use hv_fuzz::{NullConsole, offset, span, width};
use libfuzzer_sys::fuzz_target;

/// The local APIC's register page.
const LAPIC_SIZE: usize = 0x1000;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let lapic = VLapic::new(u.int_in_range(0..=3u32).unwrap_or(0), 1_000_000_000);
    let ctx = DeviceContext::new("fuzz", Arc::new(NullConsole));
    let uart = Uart16550::new("com1", Port::new(0x3f8), &ctx);
    let uart_size = span(&uart);
    let mut now = 0u64;
    while !u.is_empty() {
        now = now.saturating_add(u64::from(u.int_in_range(0..=100_000u32).unwrap_or(0)));
        match u.int_in_range(0..=6u8).unwrap_or(0) {
            0 => {
                let _ = lapic.read(offset(&mut u, LAPIC_SIZE), width(&mut u), now);
            }
            1 => {
                let (off, w) = (offset(&mut u, LAPIC_SIZE), width(&mut u));
                let _ = lapic.write(off, w, u32::arbitrary(&mut u).unwrap_or(0), now);
            }
            2 => lapic.accept(u8::arbitrary(&mut u).unwrap_or(0)),
            3 => {
                let _ = lapic.take_deliverable(now);
                let _ = lapic.timer_deadline();
            }
            4 => {
                let _ = uart.handle_read(offset(&mut u, uart_size), width(&mut u));
            }
            5 => {
                let (off, w) = (offset(&mut u, uart_size), width(&mut u));
                let _ = uart.handle_write(off, w, u64::arbitrary(&mut u).unwrap_or(0));
            }
            _ => {
                let _ = uart.push_rx(u8::arbitrary(&mut u).unwrap_or(0));
            }
        }
    }
});
