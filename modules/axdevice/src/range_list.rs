//! [`RangeList`]: devices sorted by address, with overlap checks on insertion
//! and binary-search lookup.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use axerrno::{AxError, AxResult};

use crate::BaseDeviceOps;

/// A registered device and the addresses it claims, `first..=last`.
pub(crate) struct Entry {
    first: usize,
    last: usize,
    dev: Arc<dyn BaseDeviceOps>,
    /// `dev.is_interrupt_controller()`, asked once.
    irqchip: bool,
}

/// Devices of one address space, sorted by their first address, with no
/// two ranges overlapping.
#[derive(Default)]
pub(crate) struct RangeList {
    entries: Vec<Entry>,
    /// The index of the entry that served the last access (a guest that
    /// accesses one device many times in a row finds it without the
    /// search). Only a hint: the entry it names is checked like any other.
    last_hit: AtomicUsize,
}

impl RangeList {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            entries: Vec::new(),
            last_hit: AtomicUsize::new(0),
        }
    }

    /// Adds `dev` claiming `first..=last`: [`AxError::InvalidInput`] when
    /// `first > last`, [`AxError::AlreadyExists`] when the range overlaps a
    /// device already there.
    pub(crate) fn insert(&mut self, first: usize, last: usize, dev: Arc<dyn BaseDeviceOps>) -> AxResult {
        if first > last {
            return Err(AxError::InvalidInput);
        }
        // The list is sorted and free of overlaps, so only the neighbours of
        // the insertion point can overlap the new range.
        let idx = self.entries.partition_point(|e| e.first < first);
        let prev = idx.checked_sub(1).and_then(|i| self.entries.get(i));
        if prev.is_some_and(|p| p.last >= first) {
            return Err(AxError::AlreadyExists);
        }
        if self.entries.get(idx).is_some_and(|n| n.first <= last) {
            return Err(AxError::AlreadyExists);
        }
        let irqchip = dev.is_interrupt_controller();
        self.entries.insert(
            idx,
            Entry {
                first,
                last,
                dev,
                irqchip,
            },
        );
        Ok(())
    }

    /// The index of the last entry that starts at or below `addr`.
    fn floor(&self, addr: usize) -> Option<usize> {
        self.entries.partition_point(|e| e.first <= addr).checked_sub(1)
    }

    /// The device whose range holds `addr`.
    pub(crate) fn find(&self, addr: usize) -> Option<&Arc<dyn BaseDeviceOps>> {
        let entry = self.entries.get(self.floor(addr)?)?;
        (addr <= entry.last).then_some(&entry.dev)
    }

    /// The device and offset that serve an access of `size` bytes at `addr`.
    ///
    /// [`AxError::NotFound`] when no device holds any byte of the access;
    /// [`AxError::InvalidInput`] when the access is empty or not fully
    /// inside one device (it crosses a device's end, starts in a hole and
    /// ends in a device, or wraps around the address space).
    pub(crate) fn route(&self, addr: usize, size: usize) -> AxResult<(&Arc<dyn BaseDeviceOps>, usize)> {
        self.route_entry(addr, size).map(|(entry, offset)| (&entry.dev, offset))
    }

    /// [`route`](Self::route) for a device that is no interrupt controller
    /// ([`BaseDeviceOps::is_interrupt_controller`]); `None` otherwise.
    pub(crate) fn route_plain(&self, addr: usize, size: usize) -> Option<(&Arc<dyn BaseDeviceOps>, usize)> {
        match self.route_entry(addr, size) {
            Ok((entry, offset)) if !entry.irqchip => Some((&entry.dev, offset)),
            _ => None,
        }
    }

    /// The entry and offset that serve an access; see [`route`](Self::route).
    #[inline(always)]
    fn route_entry(&self, addr: usize, size: usize) -> AxResult<(&Entry, usize)> {
        let rest = size.checked_sub(1).ok_or(AxError::InvalidInput)?;
        let last = addr.checked_add(rest);
        // The device of the last access, if it holds the whole of this one
        // (ranges do not overlap: the search would find the same).
        let hint = self.last_hit.load(Ordering::Relaxed);
        if let (Some(entry), Some(last)) = (self.entries.get(hint), last)
            && entry.first <= addr
            && last <= entry.last
        {
            return Ok((entry, addr - entry.first));
        }
        let floor = self.floor(addr);
        if let Some(i) = floor
            && let Some(entry) = self.entries.get(i)
            && addr <= entry.last
        {
            return match last {
                Some(last) if last <= entry.last => {
                    let offset = addr.checked_sub(entry.first).ok_or(AxError::InvalidInput)?;
                    self.last_hit.store(i, Ordering::Relaxed);
                    Ok((entry, offset))
                }
                _ => Err(AxError::InvalidInput),
            };
        }
        // `addr` is in a hole; the access may still reach into the next device.
        let next_idx = floor.map_or(0, |i| i.saturating_add(1));
        match self.entries.get(next_idx) {
            Some(next) if next.first <= last.unwrap_or(usize::MAX) => Err(AxError::InvalidInput),
            _ => Err(AxError::NotFound),
        }
    }

    /// The devices in address order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<dyn BaseDeviceOps>> {
        self.entries.iter().map(|e| &e.dev)
    }

    /// The number of devices.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}
