//! The ACPI `\_S5` object: the SLP_TYPa/SLP_TYPb values that put the
//! machine into S5 (soft off). It is a package in the DSDT's AML, usually
//! `Name (_S5, Package () { a, b, ... })`. A full AML interpreter is far
//! more than this needs, so this finds that one declaration in the byte
//! stream and reads its first two integer elements. Portable; tested on
//! the build machine.

/// AML opcodes and prefixes met in the declaration.
const NAME_OP: u8 = 0x08;
const ROOT_PREFIX: u8 = b'\\';
const PACKAGE_OP: u8 = 0x12;
const ZERO_OP: u8 = 0x00;
const ONE_OP: u8 = 0x01;
const BYTE_PREFIX: u8 = 0x0a;
const WORD_PREFIX: u8 = 0x0b;
const DWORD_PREFIX: u8 = 0x0c;

/// `(SLP_TYPa, SLP_TYPb)` of `\_S5` in `aml` (a DSDT's body), or `None`
/// if there is no such declaration or it is not a package of integers.
pub fn sleep_types(aml: &[u8]) -> Option<(u8, u8)> {
    (0..aml.len().saturating_sub(3))
        .filter(|&at| &aml[at..at + 4] == b"_S5_")
        .find_map(|at| declaration_at(aml, at))
}

/// The sleep types if the name at `at` is declared `Name (_S5, Package)`.
fn declaration_at(aml: &[u8], at: usize) -> Option<(u8, u8)> {
    let before = aml.get(..at)?;
    let named = matches!(before, [.., NAME_OP] | [.., NAME_OP, ROOT_PREFIX]);
    if !named {
        return None;
    }
    let rest = aml.get(at + 4..)?;
    let (&op, rest) = rest.split_first()?;
    if op != PACKAGE_OP {
        return None;
    }
    // PkgLength: bits 7-6 of the lead byte count the bytes that follow.
    let (&lead, _) = rest.split_first()?;
    let rest = rest.get(1 + (lead >> 6) as usize..)?;
    let (&count, rest) = rest.split_first()?;
    if count < 2 {
        return None;
    }
    let (a, rest) = integer(rest)?;
    let (b, _) = integer(rest)?;
    // SLP_TYP is a 3-bit field.
    Some(((a & 0x7) as u8, (b & 0x7) as u8))
}

/// One integer data object at the start of `aml` and what follows it.
fn integer(aml: &[u8]) -> Option<(u32, &[u8])> {
    let (&op, rest) = aml.split_first()?;
    let (len, value_of): (usize, fn(&[u8]) -> u32) = match op {
        ZERO_OP => return Some((0, rest)),
        ONE_OP => return Some((1, rest)),
        BYTE_PREFIX => (1, |b| b[0] as u32),
        WORD_PREFIX => (2, |b| u16::from_le_bytes([b[0], b[1]]) as u32),
        DWORD_PREFIX => (4, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => return None,
    };
    let bytes = rest.get(..len)?;
    Some((value_of(bytes), &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::sleep_types;

    #[test]
    fn qemu_declaration() {
        // QEMU's DSDT: Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero })
        let aml = [
            0x10, 0x08, 0x08, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0, 0, 0, 0, 0x5b,
        ];
        assert_eq!(sleep_types(&aml), Some((0, 0)));
    }

    #[test]
    fn byte_prefixed_values_and_root_path() {
        // Name (\_S5, Package () { 0x07, 0x07, Zero, Zero })
        let aml = [
            0x08, b'\\', b'_', b'S', b'5', b'_', 0x12, 0x0a, 0x04, 0x0a, 7, 0x0a, 7, 0, 0,
        ];
        assert_eq!(sleep_types(&aml), Some((7, 7)));
        // A two-byte PkgLength and a One.
        let aml = [
            0x08, b'_', b'S', b'5', b'_', 0x12, 0x46, 0x00, 0x02, 0x01, 0x0b, 0x05, 0x00,
        ];
        assert_eq!(sleep_types(&aml), Some((1, 5)));
    }

    #[test]
    fn absent_or_malformed() {
        assert_eq!(sleep_types(b"no such name"), None);
        // `_S5_` not declared with Name (a method, say).
        assert_eq!(sleep_types(&[0x14, 0x09, b'_', b'S', b'5', b'_', 0x00]), None);
        // A reference first, then the declaration.
        let aml = [
            0x70, b'_', b'S', b'5', b'_', 0x08, b'_', b'S', b'5', b'_', 0x12, 0x04, 0x02, 0x01, 0x01,
        ];
        assert_eq!(sleep_types(&aml), Some((1, 1)));
        // Not a package; truncated; one element only.
        assert_eq!(sleep_types(&[0x08, b'_', b'S', b'5', b'_', 0x0a, 0x05]), None);
        assert_eq!(
            sleep_types(&[0x08, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0x0a]),
            None
        );
        assert_eq!(
            sleep_types(&[0x08, b'_', b'S', b'5', b'_', 0x12, 0x03, 0x01, 0x00]),
            None
        );
    }
}
