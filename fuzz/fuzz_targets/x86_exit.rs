//! The SVM and VMX exit decoders for any raw exit fields: every exit code,
//! qualification and information word a guest (or a confused CPU) can
//! produce.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use x86_vcpu::svm::exit_map::{SvmRawExit, decode_exit as svm_decode};
use x86_vcpu::vmx::exit_map::{VmxRawExit, decode_exit as vmx_decode};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((code, info1, info2, rip)) = <(u64, u64, u64, u64)>::arbitrary(&mut u) else {
        return;
    };
    // Most SVM codes of interest are small: steer half the inputs there.
    let exit_code = if code & 1 == 0 { (code >> 1) & 0x4ff } else { code };
    let _ = svm_decode(&SvmRawExit {
        exit_code,
        exit_info_1: info1,
        exit_info_2: info2,
        rip,
    });
    let Ok((reason, len, interrupt_info)) = <(u32, u32, u32)>::arbitrary(&mut u) else {
        return;
    };
    let reason = if reason & 1 == 0 { (reason >> 1) & 0x7f } else { reason };
    let _ = vmx_decode(&VmxRawExit {
        reason,
        qualification: info1,
        instruction_len: len,
        guest_physical: info2,
        interrupt_info,
    });
});
