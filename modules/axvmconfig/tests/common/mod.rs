//! Shared helpers of the integration tests.
#![allow(dead_code)]

use axvmconfig::{AxVMCrateConfig, ConfigError, ErrorKind, ValidateContext};

/// The good configuration in the named form.
pub const GOOD_NAMED: &str = include_str!("../data/good_named.toml");
/// The same configuration in the positional form.
pub const GOOD_POSITIONAL: &str = include_str!("../data/good_positional.toml");

/// Physical CPUs of the test machine.
pub const PHYS_CPUS: usize = 4;

/// Image sizes of the good configuration.
pub fn sizes(path: &str) -> Option<u64> {
    match path {
        "images/Image" => Some(0x80_0000),
        "images/linux.dtb" => Some(0x1_0000),
        "images/initrd.gz" => Some(0x40_0000),
        "images/bios.bin" => Some(0x1_0000),
        _ => None,
    }
}

/// `GOOD_NAMED` with `from` replaced by `to`; `from` must occur exactly once,
/// so a test cannot silently stop exercising what it means to.
pub fn named_with(edits: &[(&str, &str)]) -> String {
    let mut text = GOOD_NAMED.to_owned();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
        text = text.replace(from, to);
    }
    text
}

/// Parses `text`, which must be valid.
pub fn parse(text: &str) -> AxVMCrateConfig {
    AxVMCrateConfig::parse(text).unwrap_or_else(|e| panic!("parse failed: {e:#?}"))
}

/// The parse errors of `text`, which must be invalid.
pub fn parse_errors(text: &str) -> Vec<ConfigError> {
    match AxVMCrateConfig::parse(text) {
        Ok(_) => panic!("parse unexpectedly succeeded"),
        Err(errors) => errors,
    }
}

/// The validation errors of `text` (which must parse) on the test machine.
pub fn validate_errors(text: &str) -> Vec<ConfigError> {
    validate_errors_with(text, PHYS_CPUS, &sizes)
}

/// Validation errors of `text` for an x86_64 hypervisor.
#[allow(dead_code)]
pub fn validate_errors_x86(text: &str) -> Vec<ConfigError> {
    let ctx = ValidateContext::new(PHYS_CPUS, &sizes).with_arch(axvmconfig::TargetArch::X86_64);
    match parse(text).validate(&ctx) {
        Ok(()) => Vec::new(),
        Err(errors) => errors,
    }
}

pub fn validate_errors_with(text: &str, phys_cpus: usize, sizes: &dyn Fn(&str) -> Option<u64>) -> Vec<ConfigError> {
    let config = parse(text);
    match config.validate(&ValidateContext::new(phys_cpus, &sizes)) {
        Ok(()) => Vec::new(),
        Err(errors) => errors,
    }
}

/// Asserts that exactly one error names `field`, that it is of `kind` and
/// that its problem contains `needle`; returns it.
#[track_caller]
pub fn expect<'a>(errors: &'a [ConfigError], field: &str, kind: ErrorKind, needle: &str) -> &'a ConfigError {
    let found: Vec<_> = errors.iter().filter(|e| e.field() == field).collect();
    assert_eq!(found.len(), 1, "expected one error on `{field}`, got: {errors:#?}");
    let e = found[0];
    assert_eq!(e.kind(), kind, "wrong kind: {e:#?}");
    assert!(
        e.problem().contains(needle),
        "problem of `{field}` should contain `{needle}`: {e}"
    );
    e
}

/// Asserts the validation of `text` fails with exactly one error, on
/// `field`, of `kind`, mentioning `needle`.
#[track_caller]
pub fn expect_only(errors: &[ConfigError], field: &str, kind: ErrorKind, needle: &str) {
    assert_eq!(errors.len(), 1, "expected a single error, got: {errors:#?}");
    expect(errors, field, kind, needle);
}
