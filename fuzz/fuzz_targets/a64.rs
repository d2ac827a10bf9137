//! The A64 load/store decoder and executor the hypervisor uses for guest
//! device accesses without a syndrome: any instruction word, any register
//! values, a guest memory whose translations and accesses fail where the
//! fuzzer says, any fault context.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use arm_vcpu::a64::{AccessFailed, FaultContext, GuestMemory, Registers, decode, execute};
use axvcpu::AccessWidth;
use libfuzzer_sys::fuzz_target;

struct Regs {
    x: [u64; 31],
    sp: u64,
    v: [u128; 32],
}

impl Registers for Regs {
    fn x(&self, n: u8) -> u64 {
        self.x.get(usize::from(n)).copied().unwrap_or(0)
    }
    fn set_x(&mut self, n: u8, value: u64) {
        if let Some(r) = self.x.get_mut(usize::from(n)) {
            *r = value;
        }
    }
    fn sp(&self) -> u64 {
        self.sp
    }
    fn set_sp(&mut self, value: u64) {
        self.sp = value;
    }
    fn v(&self, n: u8) -> u128 {
        self.v.get(usize::from(n)).copied().unwrap_or(0)
    }
    fn set_v(&mut self, n: u8, value: u128) {
        if let Some(r) = self.v.get_mut(usize::from(n)) {
            *r = value;
        }
    }
}

/// Answers from the fuzzer's bytes: each translation or access fails or
/// returns the next value.
struct Mem<'a, 'b>(&'a mut Unstructured<'b>);

impl GuestMemory for Mem<'_, '_> {
    fn translate(&mut self, va: u64, _write: bool) -> Result<u64, AccessFailed> {
        if self.0.ratio(1u8, 4u8).unwrap_or(false) {
            Err(AccessFailed)
        } else {
            Ok(va ^ 0x4000_0000)
        }
    }
    fn access(&mut self, _ipa: u64, _width: AccessWidth, _write: bool, _data: u64) -> Result<u64, AccessFailed> {
        if self.0.ratio(1u8, 8u8).unwrap_or(false) {
            Err(AccessFailed)
        } else {
            Ok(u64::arbitrary(self.0).unwrap_or(0))
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(insn) = u32::arbitrary(&mut u) else { return };
    let Ok(op) = decode(insn) else { return };
    let mut regs = Regs {
        x: [0; 31],
        sp: u64::arbitrary(&mut u).unwrap_or(0),
        v: [0; 32],
    };
    for r in regs.x.iter_mut() {
        *r = u64::arbitrary(&mut u).unwrap_or(0);
    }
    for r in regs.v.iter_mut().take(4) {
        *r = u128::arbitrary(&mut u).unwrap_or(0);
    }
    let ctx = FaultContext {
        pc: u64::arbitrary(&mut u).unwrap_or(0),
        far: u64::arbitrary(&mut u).unwrap_or(0),
        ipa: u64::arbitrary(&mut u).unwrap_or(0),
        zva_block: 4u64 << u.int_in_range(0..=10u32).unwrap_or(4),
    };
    let _ = execute(&op, &ctx, &mut regs, &mut Mem(&mut u));
});
