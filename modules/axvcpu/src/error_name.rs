//! [`ErrorName`]: an [`AxError`] written for a message.

use axerrno::{AxError, AxErrorKind};
use core::fmt;

/// An [`AxError`] for a message: `AxErrorKind::NoMemory`, as the error's
/// own `Debug` writes it.
///
/// The error's `Debug` also carries the names of every Linux errno (a
/// 256-entry table of names, about 5 KiB of the hypervisor image) for
/// errors made from a [`LinuxError`](axerrno::LinuxError), which nothing in
/// the hypervisor makes; such an error is written as `Linux errno N`.
#[derive(Clone, Copy)]
pub struct ErrorName(pub AxError);

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.0.code();
        match AxErrorKind::try_from(code) {
            Ok(kind) => write!(f, "AxErrorKind::{kind:?}"),
            Err(_) => write!(f, "Linux errno {}", code.unsigned_abs()),
        }
    }
}

impl fmt::Debug for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axerrno::LinuxError;

    #[test]
    fn an_error_is_named_as_its_debug_names_it() {
        for e in [
            AxError::NoMemory,
            AxError::BadState,
            AxError::InvalidInput,
            AxError::Unsupported,
        ] {
            assert_eq!(std::format!("{}", ErrorName(e)), std::format!("{e:?}"));
        }
    }

    #[test]
    fn a_linux_error_is_named_by_its_number() {
        let e = AxError::from(LinuxError::EINVAL);
        assert_eq!(std::format!("{}", ErrorName(e)), "Linux errno 22");
    }
}
