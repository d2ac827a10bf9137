//! ESR_EL2 syndrome decoding and the exit decision for every raw
//! (ESR, FAR, HPFAR, registers) a guest can cause, then the fault injection
//! for any decision that injects one: none may panic.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use arm_vcpu::{GuestFault, GuestState, access_abort, decode_sync, exit_from_sync, inject_fault, instruction_len};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((esr, far, hpfar)) = <(u64, u64, u64)>::arbitrary(&mut u) else {
        return;
    };
    let mut regs = [0u64; 31];
    for r in regs.iter_mut() {
        *r = u64::arbitrary(&mut u).unwrap_or(0);
    }
    let sync = decode_sync(esr, far, hpfar);
    let _ = instruction_len(esr);
    let _ = exit_from_sync(sync, &regs);
    let fault = access_abort(&sync);
    let state = GuestState {
        pstate: u64::arbitrary(&mut u).unwrap_or(0),
        pc: u64::arbitrary(&mut u).unwrap_or(0),
        vbar_el1: u64::arbitrary(&mut u).unwrap_or(0),
        sctlr_el1: u64::arbitrary(&mut u).unwrap_or(0),
        has_pan: bool::arbitrary(&mut u).unwrap_or(false),
        has_ssbs: bool::arbitrary(&mut u).unwrap_or(false),
    };
    let _ = inject_fault(fault, &state);
    let _ = inject_fault(GuestFault::Undef, &state);
});
