//! The PSCI/SMCCC dispatch and the hypervisor's hypercall decoding, for any
//! function id and arguments a guest can put in X0..X6.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use arm_vcpu::{decode_hypercall, handle_psci};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((func, args)) = <(u64, [u64; 6])>::arbitrary(&mut u) else {
        return;
    };
    let _ = handle_psci(func, [args[0], args[1], args[2]]);
    // The hypercall range is a small window of function ids: steer half of
    // the inputs into it.
    let nr = if func & 1 == 0 {
        func
    } else {
        0xC600_0000 | (func >> 1) & 0xff
    };
    let _ = decode_hypercall(nr, &args);
});
