//! The x86 MMIO instruction decoder in every mode, and the path to it: the
//! guest's own page walk over guest memory the fuzzer writes (the page
//! tables included), then the fetch of the instruction bytes.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use x86_vcpu::paging::{GuestPageWalkInfo, HostMemory, fetch_instruction, guest_translate};
use x86_vcpu::{DecodeMode, decode};

/// 16 pages of guest memory at guest physical 0; everything above reads
/// as absent.
struct Memory(Vec<u8>);

impl HostMemory for Memory {
    fn read(&self, hpa: u64, buf: &mut [u8]) -> bool {
        let Ok(start) = usize::try_from(hpa) else { return false };
        let Some(src) = start.checked_add(buf.len()).and_then(|end| self.0.get(start..end)) else {
            return false;
        };
        buf.copy_from_slice(src);
        true
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mode = match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => DecodeMode::Bits16,
        1 => DecodeMode::Bits32,
        _ => DecodeMode::Bits64,
    };
    if bool::arbitrary(&mut u).unwrap_or(true) {
        // The decoder alone, on the rest of the input.
        let _ = decode(u.take_rest(), mode);
        return;
    }
    let Ok((cr0, cr3, cr4, efer, cpl, rip)) = <(u64, u64, u64, u64, u8, u64)>::arbitrary(&mut u) else {
        return;
    };
    let mut mem = vec![0u8; 16 * 4096];
    let _ = u.fill_buffer(&mut mem);
    let mem = Memory(mem);
    // Keep the tables inside the 64 KiB most of the time.
    let cr3 = if cr3 & 1 == 0 { cr3 & 0xf000 } else { cr3 };
    let rip = if rip & 1 == 0 { rip & 0xffff } else { rip };
    let info = GuestPageWalkInfo::for_fetch(cr0, cr3, cr4, efer, cpl & 3);
    let _ = guest_translate(&mem, &info, rip);
    let (bytes, n) = fetch_instruction(&mem, &info, rip);
    let _ = decode(bytes.get(..n).unwrap_or(&[]), mode);
});
