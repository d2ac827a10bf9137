//! Build-machine helpers (feature `std`): files, path resolution, image sizes.
#![cfg(feature = "std")]

mod common;

use std::path::{Path, PathBuf};

use axvmconfig::{AxVMCrateConfig, ErrorKind, FsImageSizes, ValidateContext};
use common::*;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

#[test]
fn relative_paths_become_relative_to_the_config_dir() {
    let mut config = parse(&named_with(&[(
        "ramdisk_path = \"images/initrd.gz\"",
        "ramdisk_path = \"/srv/initrd.gz\"",
    )]));
    config.resolve_image_paths(Path::new("/cfg/vms"));
    assert_eq!(config.kernel.kernel_path, "/cfg/vms/images/Image");
    assert_eq!(config.kernel.dtb_path.as_deref(), Some("/cfg/vms/images/linux.dtb"));
    // Absolute paths are kept.
    assert_eq!(config.kernel.ramdisk_path.as_deref(), Some("/srv/initrd.gz"));
    assert_eq!(config.kernel.bios_path, None);
}

#[test]
fn paths_on_the_target_filesystem_are_kept() {
    let mut config = parse(&named_with(&[(
        "image_location = \"memory\"",
        "image_location = \"fs\"",
    )]));
    config.resolve_image_paths(Path::new("/cfg/vms"));
    assert_eq!(config.kernel.kernel_path, "images/Image");
}

#[test]
fn from_file_resolves_paths_and_validates_against_real_files() {
    let file = data_dir().join("good_named.toml");
    let config = AxVMCrateConfig::from_file(&file).unwrap();
    assert_eq!(Path::new(&config.kernel.kernel_path), data_dir().join("images/Image"));
    config
        .validate(&ValidateContext::new(PHYS_CPUS, &FsImageSizes))
        .unwrap();

    // Run from another directory, the written relative path would not be found.
    let mut unresolved = parse(GOOD_NAMED);
    unresolved.kernel.kernel_path = "no/such/Image".into();
    let errors = unresolved
        .validate(&ValidateContext::new(PHYS_CPUS, &FsImageSizes))
        .unwrap_err();
    expect(&errors, "kernel.kernel_path", ErrorKind::MissingImage, "no/such/Image");
}

#[test]
fn from_file_names_the_file() {
    let missing = data_dir().join("no_such.toml");
    let e = AxVMCrateConfig::from_file(&missing).unwrap_err();
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].kind(), ErrorKind::Io);
    assert!(
        e.to_string()
            .starts_with(&format!("{}: cannot read", missing.display())),
        "{e}"
    );

    let e = AxVMCrateConfig::from_file(&data_dir().join("broken.toml")).unwrap_err();
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // In source order: the missing key is placed at its table's header.
    assert!(
        lines[0].ends_with("broken.toml:3:1: base.cpu_num: is required but missing"),
        "{text}"
    );
    assert!(
        lines[1].ends_with(
            "broken.toml:4:1: base.cpu_count: unknown key `cpu_count` \
             (expected one of: id, name, vm_type, cpu_num, phys_cpu_ids, phys_cpu_sets, autostart)"
        ),
        "{text}"
    );
}

#[test]
fn fs_image_sizes_are_file_lengths() {
    let sizes = FsImageSizes;
    use axvmconfig::ImageSizes;
    let dtb = data_dir().join("images/linux.dtb");
    assert_eq!(sizes.image_size(dtb.to_str().unwrap()), Some(3));
    // A directory is not an image.
    assert_eq!(sizes.image_size(data_dir().to_str().unwrap()), None);
    assert_eq!(sizes.image_size("/no/such/file"), None);
}
