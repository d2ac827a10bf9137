//! Whether a blob is a well-formed flattened device tree, checked before
//! the `fdt` crate reads it.
//!
//! The `fdt` crate checks the header's magic and size and then trusts the
//! rest: a structure block that runs past its end, a property name offset
//! outside the strings block, a name that is not UTF-8, a `#address-cells`
//! shorter than a cell or a tree deeper than its fixed stack make it panic
//! (found by the `dtb` host fuzz target). [`well_formed`] walks the whole
//! blob once, by the Devicetree Specification's layout, and accepts only
//! what that crate reads without panicking:
//!
//! - the header's blocks lie inside the blob and `totalsize`, the structure
//!   block and the memory reservation block 4- and 8-byte aligned;
//! - the reservation list ends with its all-zero entry inside the blob;
//! - the structure block is one root node (empty name) then `FDT_END`;
//!   each node's properties come before its children; names are
//!   NUL-terminated UTF-8; each property's value lies inside the block and
//!   its name offset points at a NUL-terminated UTF-8 string inside the
//!   strings block;
//! - `#address-cells`, `#size-cells` and `#interrupt-cells` are one cell;
//! - nesting is at most [`MAX_DEPTH`] deep;
//! - no `FDT_NOP` tokens (valid, but the crate mishandles some placements;
//!   compilers do not emit them).

use super::DtbError;

/// `magic` of a flattened device tree.
const FDT_MAGIC: u32 = 0xd00d_feed;
/// The header's size in bytes (version 17).
const HEADER_SIZE: usize = 40;
/// Structure block tokens.
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// The deepest nesting accepted (the root is depth 1).
pub const MAX_DEPTH: usize = 32;
/// Properties whose value must be exactly one cell.
const ONE_CELL_PROPERTIES: [&str; 3] = ["#address-cells", "#size-cells", "#interrupt-cells"];

/// The header fields, by their byte offset.
mod header {
    pub const MAGIC: usize = 0;
    pub const TOTALSIZE: usize = 4;
    pub const OFF_DT_STRUCT: usize = 8;
    pub const OFF_DT_STRINGS: usize = 12;
    pub const OFF_MEM_RSVMAP: usize = 16;
    pub const SIZE_DT_STRINGS: usize = 32;
    pub const SIZE_DT_STRUCT: usize = 36;
}

/// Why a blob is not a well-formed device tree: the first problem found,
/// with the byte offset in the blob where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed {
    /// Offset in the blob.
    pub offset: usize,
    /// What is wrong there.
    pub problem: &'static str,
}

/// Checks that `blob` is a device tree the `fdt` crate reads safely.
pub fn well_formed(blob: &[u8]) -> Result<(), DtbError> {
    check(blob).map_err(DtbError::Malformed)
}

fn bad(offset: usize, problem: &'static str) -> Malformed {
    Malformed { offset, problem }
}

/// The big-endian `u32` at `at`.
fn be32(blob: &[u8], at: usize) -> Option<u32> {
    let bytes = blob.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// The header field at `at` as an offset or size.
fn field(blob: &[u8], at: usize) -> Result<usize, Malformed> {
    be32(blob, at)
        .map(|v| v as usize)
        .ok_or(bad(at, "the blob is shorter than a device tree header"))
}

/// `len` bytes from `start`, inside `limit` bytes of `blob`.
fn block<'a>(
    blob: &'a [u8],
    limit: usize,
    start: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], Malformed> {
    start
        .checked_add(len)
        .filter(|&end| end <= limit)
        .and_then(|end| blob.get(start..end))
        .ok_or(bad(start, what))
}

/// The NUL-terminated UTF-8 string at the start of `bytes`, and its length
/// without the NUL.
fn c_str(bytes: &[u8]) -> Option<(&str, usize)> {
    let len = bytes.iter().position(|&b| b == 0)?;
    let s = core::str::from_utf8(bytes.get(..len)?).ok()?;
    Some((s, len))
}

/// `n` rounded up to a multiple of 4.
fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|v| v & !3)
}

fn check(blob: &[u8]) -> Result<(), Malformed> {
    if blob.len() < HEADER_SIZE {
        return Err(bad(0, "the blob is shorter than a device tree header"));
    }
    if field(blob, header::MAGIC)? as u32 != FDT_MAGIC {
        return Err(bad(header::MAGIC, "bad magic (not 0xd00dfeed)"));
    }
    let total = field(blob, header::TOTALSIZE)?;
    if total > blob.len() || total < HEADER_SIZE {
        return Err(bad(
            header::TOTALSIZE,
            "totalsize is past the end of the blob or smaller than the header",
        ));
    }
    let off_struct = field(blob, header::OFF_DT_STRUCT)?;
    let size_struct = field(blob, header::SIZE_DT_STRUCT)?;
    let off_strings = field(blob, header::OFF_DT_STRINGS)?;
    let size_strings = field(blob, header::SIZE_DT_STRINGS)?;
    let off_rsv = field(blob, header::OFF_MEM_RSVMAP)?;
    if off_struct % 4 != 0 || size_struct % 4 != 0 {
        return Err(bad(header::OFF_DT_STRUCT, "the structure block is not 4-byte aligned"));
    }
    if off_rsv % 8 != 0 {
        return Err(bad(
            header::OFF_MEM_RSVMAP,
            "the memory reservation block is not 8-byte aligned",
        ));
    }
    let structs = block(
        blob,
        total,
        off_struct,
        size_struct,
        "the structure block is outside the tree",
    )?;
    let strings = block(
        blob,
        total,
        off_strings,
        size_strings,
        "the strings block is outside the tree",
    )?;
    check_reservations(blob, total, off_rsv)?;
    check_structure(structs, off_struct, strings)
}

/// The reservation list: 16-byte entries up to an all-zero one.
fn check_reservations(blob: &[u8], total: usize, mut at: usize) -> Result<(), Malformed> {
    loop {
        let entry = block(blob, total, at, 16, "the memory reservation list has no end entry")?;
        if entry.iter().all(|&b| b == 0) {
            return Ok(());
        }
        at += 16;
    }
}

fn check_structure(structs: &[u8], base: usize, strings: &[u8]) -> Result<(), Malformed> {
    let mut at = 0usize;
    let mut depth = 0usize;
    // Whether the current node has had a child: no property may follow.
    let mut had_child = false;
    let mut root_done = false;
    loop {
        let token = be32(structs, at).ok_or(bad(base + at, "the structure block ends without FDT_END"))?;
        let here = base + at;
        at += 4;
        match token {
            FDT_BEGIN_NODE => {
                if root_done {
                    return Err(bad(here, "a second root node"));
                }
                let rest = structs.get(at..).unwrap_or(&[]);
                let (name, len) = c_str(rest).ok_or(bad(here, "a node name is not NUL-terminated UTF-8"))?;
                if depth == 0 && !name.is_empty() {
                    return Err(bad(here, "the root node has a name"));
                }
                if depth > 0 && name.is_empty() {
                    return Err(bad(here, "a node other than the root has no name"));
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(bad(here, "nodes are nested too deep"));
                }
                had_child = false;
                at = align4(at + len + 1).ok_or(bad(here, "a node name runs past the block"))?;
            }
            FDT_END_NODE => {
                if depth == 0 {
                    return Err(bad(here, "FDT_END_NODE outside any node"));
                }
                depth -= 1;
                // The parent has now had a child.
                had_child = true;
                root_done = depth == 0;
            }
            FDT_PROP => {
                if depth == 0 {
                    return Err(bad(here, "a property outside any node"));
                }
                if had_child {
                    return Err(bad(here, "a property after a child node"));
                }
                let len = be32(structs, at).ok_or(bad(here, "a property header runs past the block"))? as usize;
                let name_off =
                    be32(structs, at + 4).ok_or(bad(here, "a property header runs past the block"))? as usize;
                at += 8;
                let value = at
                    .checked_add(len)
                    .and_then(|end| structs.get(at..end))
                    .ok_or(bad(here, "a property value runs past the structure block"))?;
                let name = strings.get(name_off..).and_then(c_str).map(|(s, _)| s).ok_or(bad(
                    here,
                    "a property name is not a NUL-terminated UTF-8 string of the strings block",
                ))?;
                if ONE_CELL_PROPERTIES.contains(&name) && value.len() != 4 {
                    return Err(bad(here, "a #...-cells property is not one cell"));
                }
                at = align4(at + len).ok_or(bad(here, "a property value runs past the block"))?;
            }
            FDT_END => {
                return if root_done {
                    Ok(())
                } else {
                    Err(bad(here, "FDT_END before the root node is complete"))
                };
            }
            FDT_NOP => return Err(bad(here, "FDT_NOP tokens are not accepted")),
            _ => return Err(bad(here, "an unknown structure block token")),
        }
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
