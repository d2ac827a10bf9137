//! The hypervisor's `CPUID` filter: no VMX or SVM, the hypervisor bit set,
//! a signature of its own at leaf `0x4000_0000` (not the one QEMU shows). SKIP without the hypervisor (bare
//! QEMU shows SVM, and its own signature).

use core::fmt;

use super::Report;
use crate::cpuid;
use crate::host::Host;

/// The checks' names, for the SKIP lines.
const NAMES: [&str; 3] = ["cpuid hides svm/vmx", "cpuid hypervisor bit", "cpuid hypervisor leaf"];

/// A hypervisor signature, printed with its NUL padding dropped and other
/// bytes outside printable ASCII as `\xNN`.
struct Signature([u8; 12]);

impl Signature {
    /// Whether it is a signature: printable ASCII, possibly padded at the
    /// end with NULs, and not empty.
    fn is_valid(&self) -> bool {
        let text_len = self.0.iter().position(|&b| b == 0).unwrap_or(self.0.len());
        let (text, padding) = self.0.split_at(text_len);
        text_len > 0 && text.iter().all(|b| b.is_ascii_graphic() || *b == b' ') && padding.iter().all(|&b| b == 0)
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let end = self.0.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        for &b in &self.0[..end] {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{:02x}", b)?;
            }
        }
        Ok(())
    }
}

/// Runs the CPUID checks.
pub fn run(report: &mut Report, host: Host) {
    if let Some(why) = host.bare_reason() {
        for name in NAMES {
            report.skip(format_args!("{}", name), format_args!("no hypervisor: {}", why));
        }
        return;
    }

    let features = cpuid::leaf(cpuid::LEAF_FEATURES);
    let vmx = features.ecx & cpuid::FEATURES_ECX_VMX != 0;
    let ext_max = cpuid::leaf(cpuid::LEAF_EXT_MAX).eax;
    let svm = ext_max >= cpuid::LEAF_EXT_FEATURES
        && cpuid::leaf(cpuid::LEAF_EXT_FEATURES).ecx & cpuid::EXT_FEATURES_ECX_SVM != 0;
    report.check(
        !vmx && !svm,
        format_args!("cpuid hides svm/vmx"),
        format_args!("VMX bit {}, SVM bit {}", vmx as u8, svm as u8),
    );

    report.check(
        features.ecx & cpuid::FEATURES_ECX_HYPERVISOR != 0,
        format_args!("cpuid hypervisor bit"),
        format_args!("leaf 1 ECX {:#x} has bit 31 clear", features.ecx),
    );

    let (max_leaf, signature) = cpuid::hypervisor_leaf();
    let signature = Signature(signature);
    let name = format_args!("cpuid hypervisor leaf");
    if max_leaf < cpuid::LEAF_HYPERVISOR {
        report.fail(name, format_args!("max leaf {:#x} < {:#x}", max_leaf, cpuid::LEAF_HYPERVISOR));
    } else if !signature.is_valid() {
        report.fail(name, format_args!("signature \"{}\" is not printable text", signature));
    } else if cpuid::is_foreign(&signature.0) {
        report.fail(name, format_args!("signature \"{}\" is QEMU's own, not the hypervisor's", signature));
    } else {
        report.pass(format_args!("cpuid hypervisor leaf \"{}\"", signature));
    }
}
