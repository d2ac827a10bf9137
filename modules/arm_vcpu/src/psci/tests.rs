use super::*;

/// Upper halves that a 32-bit call must ignore.
const JUNK: u64 = 0xa5a5_a5a5_0000_0000;

fn ret_of(action: PsciAction) -> i64 {
    match action {
        PsciAction::Return(value) => value as i64,
        other => panic!("not an answer: {other:?}"),
    }
}

#[test]
fn function_ids_match_the_psci_spec() {
    // DEN 0022, table "PSCI function IDs": SMC32 0x8400_00nn,
    // SMC64 0xC400_00nn.
    let pairs: &[(u32, Option<u32>, u32)] = &[
        (PSCI_VERSION, None, 0x00),
        (PSCI_CPU_SUSPEND_32, Some(PSCI_CPU_SUSPEND_64), 0x01),
        (PSCI_CPU_OFF, None, 0x02),
        (PSCI_CPU_ON_32, Some(PSCI_CPU_ON_64), 0x03),
        (PSCI_AFFINITY_INFO_32, Some(PSCI_AFFINITY_INFO_64), 0x04),
        (PSCI_MIGRATE_32, Some(PSCI_MIGRATE_64), 0x05),
        (PSCI_MIGRATE_INFO_TYPE, None, 0x06),
        (PSCI_MIGRATE_INFO_UP_CPU_32, Some(PSCI_MIGRATE_INFO_UP_CPU_64), 0x07),
        (PSCI_SYSTEM_OFF, None, 0x08),
        (PSCI_SYSTEM_RESET, None, 0x09),
        (PSCI_FEATURES, None, 0x0A),
    ];
    for &(id32, id64, n) in pairs {
        assert_eq!(id32, 0x8400_0000 | n);
        if let Some(id64) = id64 {
            assert_eq!(id64, 0xC400_0000 | n);
        }
    }
    assert_eq!(SMCCC_VERSION, 0x8000_0000);
    assert_eq!(SMCCC_ARCH_FEATURES, 0x8000_0001);
}

#[test]
fn return_codes() {
    let codes = [
        (SUCCESS, 0),
        (NOT_SUPPORTED, -1),
        (INVALID_PARAMETERS, -2),
        (DENIED, -3),
        (ALREADY_ON, -4),
        (ON_PENDING, -5),
        (INTERNAL_FAILURE, -6),
        (NOT_PRESENT, -7),
        (DISABLED, -8),
        (INVALID_ADDRESS, -9),
    ];
    for (code, value) in codes {
        assert_eq!(code, value);
        assert_eq!(ret(code) as i64, i64::from(value));
    }
    assert_eq!(ret(NOT_SUPPORTED), 0xffff_ffff_ffff_ffff);
    assert_eq!(ret(INVALID_ADDRESS), 0xffff_ffff_ffff_fff7);
}

#[test]
fn versions() {
    assert_eq!(handle_psci(0x8400_0000, [0; 3]), PsciAction::Return(0x0001_0001));
    assert_eq!(handle_psci(0x8000_0000, [0; 3]), PsciAction::Return(0x0001_0001));
    // The upper half of X0 is not part of the function id.
    assert_eq!(
        handle_psci(0xffff_ffff_8400_0000, [0; 3]),
        PsciAction::Return(0x0001_0001)
    );
}

#[test]
fn cpu_on_both_conventions() {
    for id in [0x8400_0003u64, 0xC400_0003] {
        assert_eq!(
            handle_psci(id, [0x101, 0x4008_0000, 0xcafe]),
            PsciAction::CpuOn {
                target_mpidr: 0x101,
                entry: GuestPhysAddr::from(0x4008_0000),
                context: 0xcafe,
            }
        );
    }
}

#[test]
fn cpu_on_32_truncates_its_arguments() {
    assert_eq!(
        handle_psci(0x8400_0003, [JUNK | 0x3, JUNK | 0x4000_1000, JUNK | 0x77]),
        PsciAction::CpuOn {
            target_mpidr: 0x3,
            entry: GuestPhysAddr::from(0x4000_1000),
            context: 0x77,
        }
    );
    assert_eq!(
        handle_psci(0xC400_0003, [JUNK | 0x3, JUNK | 0x4000_1000, JUNK | 0x77]),
        PsciAction::CpuOn {
            target_mpidr: JUNK | 0x3,
            entry: GuestPhysAddr::from((JUNK | 0x4000_1000) as usize),
            context: JUNK | 0x77,
        }
    );
}

#[test]
fn cpu_on_rejects_unaligned_entry() {
    for id in [0x8400_0003u64, 0xC400_0003] {
        for entry in [0x4000_0001u64, 0x4000_0002, 0x4000_0003, u64::MAX] {
            assert_eq!(ret_of(handle_psci(id, [1, entry, 0])), -9, "{id:#x} {entry:#x}");
        }
    }
    // Only the truncated entry counts for the 32-bit call.
    assert!(matches!(
        handle_psci(0x8400_0003, [1, 0x3_4000_0000, 0]),
        PsciAction::CpuOn { .. }
    ));
}

#[test]
fn cpu_suspend_off_and_system_calls() {
    for id in [0x8400_0001u64, 0xC400_0001] {
        assert_eq!(
            handle_psci(id, [0x1_0000, 0x4000_0000, 5]),
            PsciAction::CpuSuspend {
                power_state: 0x1_0000,
                entry: 0x4000_0000,
                context: 5,
            }
        );
    }
    assert_eq!(
        handle_psci(0x8400_0001, [JUNK | 1, JUNK | 2, JUNK | 3]),
        PsciAction::CpuSuspend {
            power_state: 1,
            entry: 2,
            context: 3,
        }
    );
    assert_eq!(handle_psci(0x8400_0002, [0; 3]), PsciAction::CpuOff);
    assert_eq!(handle_psci(0x8400_0008, [0; 3]), PsciAction::SystemOff);
    assert_eq!(handle_psci(0x8400_0009, [0; 3]), PsciAction::SystemReset);
}

#[test]
fn affinity_info() {
    for id in [0x8400_0004u64, 0xC400_0004] {
        assert_eq!(
            handle_psci(id, [0x0102, 0, 0]),
            PsciAction::AffinityInfo {
                target_mpidr: 0x0102,
                level: 0,
            }
        );
        for level in [1u64, 2, 3, 0xffff_ffff] {
            assert_eq!(ret_of(handle_psci(id, [0x0102, level, 0])), -2, "level {level}");
        }
    }
    // The 32-bit call sees only the low half of the level: 0.
    assert_eq!(
        handle_psci(0x8400_0004, [JUNK | 7, JUNK, 0]),
        PsciAction::AffinityInfo {
            target_mpidr: 7,
            level: 0,
        }
    );
    // The 64-bit call sees all of it.
    assert_eq!(ret_of(handle_psci(0xC400_0004, [7, JUNK, 0])), -2);
}

#[test]
fn migration_is_not_needed() {
    assert_eq!(handle_psci(0x8400_0006, [0; 3]), PsciAction::Return(2));
    for id in [0x8400_0005u64, 0xC400_0005, 0x8400_0007, 0xC400_0007] {
        assert_eq!(ret_of(handle_psci(id, [0; 3])), -1, "{id:#x}");
    }
}

#[test]
fn smc32_only_functions_have_no_smc64_form() {
    for n in [0x00u64, 0x02, 0x06, 0x08, 0x09, 0x0A] {
        assert_eq!(ret_of(handle_psci(0xC400_0000 | n, [0; 3])), -1, "{n:#x}");
    }
}

#[test]
fn psci_features() {
    let implemented = [
        0x8400_0000u64,
        0x8400_0001,
        0xC400_0001,
        0x8400_0002,
        0x8400_0003,
        0xC400_0003,
        0x8400_0004,
        0xC400_0004,
        0x8400_0006,
        0x8400_0008,
        0x8400_0009,
        0x8400_000A,
        0x8000_0000,
    ];
    for id in implemented {
        assert_eq!(ret_of(handle_psci(0x8400_000A, [id, 0, 0])), 0, "{id:#x}");
        // PSCI_FEATURES is an SMC32 call: the upper half of X1 is ignored.
        assert_eq!(ret_of(handle_psci(0x8400_000A, [JUNK | id, 0, 0])), 0);
    }
    let not_implemented = [
        0x8400_0005u64,
        0xC400_0005,
        0x8400_0007,
        0x8400_000B,
        0x8400_000E,
        0x8400_0012,
        0xC400_0012,
        0xC400_0000,
        0xC400_0008,
        0x8000_0001,
        0x8000_8000,
        0xC600_0000,
        0,
    ];
    for id in not_implemented {
        assert_eq!(ret_of(handle_psci(0x8400_000A, [id, 0, 0])), -1, "{id:#x}");
    }
}

#[test]
fn smccc_arch_features() {
    assert_eq!(ret_of(handle_psci(0x8000_0001, [0x8000_0000, 0, 0])), 0);
    assert_eq!(ret_of(handle_psci(0x8000_0001, [0x8000_0001, 0, 0])), 0);
    // ARCH_WORKAROUND_1/2/3 and anything else: not offered.
    for id in [0x8000_8000u64, 0x8000_7fff, 0x8000_3fff, 0x8400_0000] {
        assert_eq!(ret_of(handle_psci(0x8000_0001, [id, 0, 0])), -1, "{id:#x}");
    }
}

#[test]
fn other_calls_of_owned_services_are_not_supported() {
    // TRNG_VERSION, SYSTEM_RESET2, an ARCH_WORKAROUND call, SOC_ID.
    for id in [0x8400_0050u64, 0x8400_0012, 0x8000_8000, 0x8000_0002, 0xC400_FFFF] {
        assert_eq!(ret_of(handle_psci(id, [0; 3])), -1, "{id:#x}");
    }
}

#[test]
fn everything_else_is_not_psci() {
    for id in [
        0u64,
        1,
        0x1234,
        // Yielding (not fast) call with owner 4.
        0x0400_0000,
        // SiP, OEM, standard hypervisor, vendor hypervisor services.
        0x8200_0000,
        0x8300_0000,
        0x8500_0000,
        0xC600_0000,
        0x8600_ff01,
        // Trusted OS range.
        0xB200_0000,
    ] {
        assert_eq!(handle_psci(id, [0; 3]), PsciAction::NotPsci, "{id:#x}");
    }
}
