//! Build-machine helpers (feature `std`): reading a configuration file,
//! resolving image paths against it, and image sizes from the filesystem.

use std::path::Path;

use crate::crate_config::AxVMCrateConfig;
use crate::error::{ConfigError, ConfigFileError, ErrorKind};
use crate::types::ImageLocation;
use crate::validate::ImageSizes;

/// Image sizes read from the filesystem: the length of the regular file at
/// the path, `None` if there is none.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsImageSizes;

impl ImageSizes for FsImageSizes {
    fn image_size(&self, path: &str) -> Option<u64> {
        std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len())
    }

    fn image_head(&self, path: &str) -> Option<Vec<u8>> {
        use std::io::Read;
        let mut head = Vec::with_capacity(crate::Arm64ImageHeader::LEN);
        let file = std::fs::File::open(path).ok()?;
        file.take(crate::Arm64ImageHeader::LEN as u64)
            .read_to_end(&mut head)
            .ok()?;
        Some(head)
    }
}

impl AxVMCrateConfig {
    /// Makes the image paths relative to `config_dir`, the directory of the
    /// configuration file: a relative path becomes `config_dir/path`, an
    /// absolute path is kept.
    ///
    /// Only with `image_location = "memory"`, where the paths name files on the
    /// build machine; with `"fs"` they are paths on the target and stay as written.
    pub fn resolve_image_paths(&mut self, config_dir: &Path) {
        if self.kernel.image_location != ImageLocation::Memory {
            return;
        }
        let resolve = |path: &mut String| {
            if !path.is_empty() && Path::new(path.as_str()).is_relative() {
                *path = config_dir.join(path.as_str()).to_string_lossy().into_owned();
            }
        };
        let kernel = &mut self.kernel;
        resolve(&mut kernel.kernel_path);
        for path in [&mut kernel.bios_path, &mut kernel.dtb_path, &mut kernel.ramdisk_path]
            .into_iter()
            .flatten()
        {
            resolve(path);
        }
    }

    /// Reads and parses the configuration file at `path`, and resolves its
    /// image paths against the file's directory.
    ///
    /// The error names the file and lists every problem found. A build script
    /// would go on to validate the result:
    ///
    /// ```no_run
    /// use std::path::Path;
    /// use axvmconfig::{AxVMConfig, AxVMCrateConfig, ConfigFileError, FsImageSizes, ValidateContext};
    ///
    /// fn check(path: &Path, smp: usize) -> Result<AxVMCrateConfig, ConfigFileError> {
    ///     let config = AxVMCrateConfig::from_file(path)?;
    ///     config
    ///         .validate(&ValidateContext::new(smp, &FsImageSizes))
    ///         .map_err(|errors| ConfigFileError::new(path.display().to_string(), errors))?;
    ///     Ok(config)
    /// }
    /// ```
    pub fn from_file(path: &Path) -> Result<Self, ConfigFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(ErrorKind::Io, "", format!("cannot read the file: {e}")).with_file(&file))?;
        let mut config = Self::parse(&text).map_err(|errors| ConfigFileError::new(&file, errors))?;
        let dir = path.parent().unwrap_or_else(|| Path::new(""));
        config.resolve_image_paths(dir);
        Ok(config)
    }
}
