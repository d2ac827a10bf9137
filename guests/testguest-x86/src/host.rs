//! What the guest runs on: the hypervisor, or bare (emulated) hardware,
//! where the hypercall, test device and hypervisor CPUID checks SKIP.

use crate::cpuid;
use crate::testdev::{TEST_DEVICE_MAGIC, TestDevice};

/// What the guest runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// Under the hypervisor: the contract's hypercalls, test device and
    /// CPUID filter are expected.
    Hypervisor,
    /// On bare (emulated) hardware, for the reason given.
    Bare(&'static str),
}

impl Host {
    /// Decides, in order: the `bare` feature says bare; a clear CPUID
    /// hypervisor bit says bare; a hypervisor signature of QEMU's own says
    /// bare unless the test device answers its magic (then the hypervisor
    /// is there and leaks QEMU's leaf, which its CPUID check reports);
    /// anything else is the hypervisor.
    pub fn detect() -> Self {
        if cfg!(feature = "bare") {
            return Host::Bare("built with the bare feature");
        }
        if !cpuid::hypervisor_bit() {
            return Host::Bare("CPUID hypervisor bit clear");
        }
        let (_, signature) = cpuid::hypervisor_leaf();
        // On QEMU without the hypervisor the device page reads as zeros.
        if cpuid::is_foreign(&signature) && TestDevice.magic() != TEST_DEVICE_MAGIC {
            return Host::Bare("CPUID signature is QEMU's own, no test device");
        }
        Host::Hypervisor
    }

    /// Why the hypervisor checks are skipped, or `None` under the
    /// hypervisor.
    pub fn bare_reason(self) -> Option<&'static str> {
        match self {
            Host::Hypervisor => None,
            Host::Bare(why) => Some(why),
        }
    }
}
