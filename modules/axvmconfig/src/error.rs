//! Errors of parsing and validation.
//!
//! Every problem is one [`ConfigError`]: the dotted path of the field it is
//! about (`kernel.memory_regions[1].size`), what is wrong with it, and, when it
//! was found while reading the TOML text, the line and column. The build script
//! wraps the errors of one file into a [`ConfigFileError`], which prints one
//! `file:line:column: field: problem` line per error.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// What sort of problem a [`ConfigError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not valid TOML.
    Syntax,
    /// The configuration file could not be read.
    Io,
    /// A required key or table is absent.
    MissingKey,
    /// A key that the schema does not know.
    UnknownKey,
    /// A value of the wrong TOML type, or a positional array of the wrong length.
    WrongType,
    /// A value of the right type that is not allowed: an unknown name, a
    /// negative or too large number, a zero size, an empty string.
    InvalidValue,
    /// The vCPU count or the vCPU placement does not fit the machine.
    Cpu,
    /// An address or size that is not aligned to the page size.
    Misaligned,
    /// `start + size` does not fit in the address space.
    Overflow,
    /// Two ranges (memory regions, devices, images) overlap.
    Overlap,
    /// An address or image that lies outside the memory region it must be in.
    OutsideMemory,
    /// An image file named by the configuration does not exist.
    MissingImage,
}

/// A position in the TOML text, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` of `src` (clamped to the end of `src`).
    pub fn of_offset(src: &str, offset: usize) -> Self {
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self { line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem in a VM configuration.
///
/// `Display` prints `field: problem`, e.g.
/// `kernel.memory_regions[1].size: must not be zero`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ErrorKind,
    field: String,
    problem: String,
    location: Option<Location>,
}

impl ConfigError {
    /// A new error about `field` (a dotted path; empty for the whole file).
    pub fn new(kind: ErrorKind, field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            kind,
            field: field.into(),
            problem: problem.into(),
            location: None,
        }
    }

    /// The same error, placed at `location` in the TOML text.
    #[must_use]
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// What sort of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The dotted path of the field, e.g. `kernel.memory_regions[1].size`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with the field.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// Where in the TOML text the problem was found, if it was found while reading it.
    pub fn location(&self) -> Option<Location> {
        self.location
    }

    /// This error as the only error of the configuration file `file`.
    pub fn with_file(self, file: impl Into<String>) -> ConfigFileError {
        ConfigFileError::new(file, alloc::vec![self])
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

impl core::error::Error for ConfigError {}

/// All the problems of one configuration file.
///
/// `Display` prints one line per error: `file:line:column: field: problem`,
/// or `file: field: problem` when the error has no position in the text (the
/// problems found by validation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFileError {
    /// The file name as it should be shown to the user.
    pub file: String,
    /// The problems, in the order they were found.
    pub errors: Vec<ConfigError>,
}

impl ConfigFileError {
    /// The errors `errors` of the file `file`.
    pub fn new(file: impl Into<String>, errors: Vec<ConfigError>) -> Self {
        Self {
            file: file.into(),
            errors,
        }
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match error.location {
                Some(location) => write!(f, "{}:{}: {}", self.file, location, error)?,
                None => write!(f, "{}: {}", self.file, error)?,
            }
        }
        Ok(())
    }
}

impl core::error::Error for ConfigFileError {}

/// Builds the error for a TOML syntax error reported by the `toml` crate.
pub(crate) fn syntax_error(src: &str, error: &toml::de::Error) -> ConfigError {
    let message = error.message().trim().to_string();
    let e = ConfigError::new(ErrorKind::Syntax, "", alloc::format!("invalid TOML: {message}"));
    match error.span() {
        Some(span) => e.at(Location::of_offset(src, span.start)),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters_from_one() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(Location::of_offset(src, 0), Location { line: 1, column: 1 });
        assert_eq!(Location::of_offset(src, 6), Location { line: 2, column: 1 });
        // `é` is two bytes but one column.
        let eq = src.rfind('=').unwrap();
        assert_eq!(Location::of_offset(src, eq), Location { line: 2, column: 4 });
        // Past the end and inside a character are clamped.
        assert_eq!(Location::of_offset(src, 100).line, 3);
        assert_eq!(Location::of_offset(src, 8), Location { line: 2, column: 2 });
    }

    #[test]
    fn display_forms() {
        let e = ConfigError::new(ErrorKind::InvalidValue, "base.cpu_num", "must be at least 1");
        assert_eq!(e.to_string(), "base.cpu_num: must be at least 1");
        let located = e.clone().at(Location { line: 4, column: 2 });
        let file = ConfigFileError::new("vm.toml", alloc::vec![located, e]);
        assert_eq!(
            file.to_string(),
            "vm.toml:4:2: base.cpu_num: must be at least 1\nvm.toml: base.cpu_num: must be at least 1"
        );
        let whole = ConfigError::new(ErrorKind::Io, "", "cannot read").with_file("x.toml");
        assert_eq!(whole.to_string(), "x.toml: cannot read");
    }
}
