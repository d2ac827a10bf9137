//! The PL011 model under a stream of guest register accesses (any offset
//! and width), received bytes and interrupt-line checks, with its line
//! connected to a virtual GIC as in a VM.
#![no_main]

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use axdevice::{BaseDeviceOps, DeviceContext, Pl011, Vgic, VgicLayout};
use axvcpu::GuestPhysAddr;
use hv_fuzz::{NullConsole, offset, span, width};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let ctx = DeviceContext::new("fuzz", Arc::new(NullConsole));
    let uart = Pl011::new("uart", GuestPhysAddr::from(0x0900_0000), Some(33), &ctx);
    if bool::arbitrary(&mut u).unwrap_or(false) {
        let layout = VgicLayout {
            gicd_base: GuestPhysAddr::from(0x0800_0000),
            gicr_base: GuestPhysAddr::from(0x080A_0000),
            nr_vcpus: 1,
            nr_spis: 32,
        };
        if let Ok(vgic) = Vgic::new(layout) {
            uart.connect_irq(vgic);
        }
    }
    let size = span(&uart);
    while !u.is_empty() {
        match u.int_in_range(0..=3u8).unwrap_or(0) {
            0 => {
                let _ = uart.handle_read(offset(&mut u, size), width(&mut u));
            }
            1 => {
                let (off, w) = (offset(&mut u, size), width(&mut u));
                let _ = uart.handle_write(off, w, u64::arbitrary(&mut u).unwrap_or(0));
            }
            2 => {
                let _ = uart.push_rx(u8::arbitrary(&mut u).unwrap_or(0));
            }
            _ => {
                let _ = uart.pending_irq();
            }
        }
    }
});
