//! Reading typed values out of the spanned TOML tree, with field paths.
//!
//! The [`Reader`] records every problem it meets instead of stopping at the
//! first, and hands back a default value in its place, so that one pass over
//! the document reports all problems. The caller discards the result when
//! [`Reader::finish`] reports errors.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{ConfigError, ErrorKind, Location};

/// A TOML value with its byte range in the text.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// A TOML table being read, with its field path.
pub(crate) struct Table<'a, 'i> {
    entries: &'a DeTable<'i>,
    span: Option<Range<usize>>,
    path: String,
}

impl<'a, 'i> Table<'a, 'i> {
    /// The root table of a document.
    pub(crate) fn root(entries: &'a DeTable<'i>) -> Self {
        Self {
            entries,
            span: None,
            path: String::new(),
        }
    }

    /// The path of the key `key` of this table.
    pub(crate) fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }
}

/// Collects problems while values are read.
pub(crate) struct Reader<'s> {
    src: &'s str,
    errors: Vec<ConfigError>,
}

impl<'s> Reader<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Self {
            src,
            errors: Vec::new(),
        }
    }

    /// Records a problem about `field`, placed at `span` when known.
    pub(crate) fn error(
        &mut self,
        kind: ErrorKind,
        field: impl Into<String>,
        span: Option<&Range<usize>>,
        problem: impl Into<String>,
    ) {
        let mut error = ConfigError::new(kind, field, problem);
        if let Some(span) = span {
            error = error.at(Location::of_offset(self.src, span.start));
        }
        self.errors.push(error);
    }

    /// The errors in source order (errors without a position last), or `Ok` if none.
    pub(crate) fn finish(mut self) -> Result<(), Vec<ConfigError>> {
        if self.errors.is_empty() {
            return Ok(());
        }
        // Stable sort: errors at the same place keep the order they were found in.
        self.errors
            .sort_by_key(|e| e.location().map_or((usize::MAX, usize::MAX), |l| (l.line, l.column)));
        Err(self.errors)
    }

    /// Opens `value` as a table at `path` and reports keys not in `allowed`.
    pub(crate) fn table<'a, 'i>(
        &mut self,
        value: &'a Value<'i>,
        path: String,
        allowed: &[&str],
    ) -> Option<Table<'a, 'i>> {
        let DeValue::Table(entries) = value.get_ref() else {
            self.wrong_type(&path, value, "a table");
            return None;
        };
        let table = Table {
            entries,
            span: Some(value.span()),
            path,
        };
        self.check_keys(&table, allowed);
        Some(table)
    }

    /// Reports every key of `table` that is not in `allowed`.
    pub(crate) fn check_keys(&mut self, table: &Table<'_, '_>, allowed: &[&str]) {
        for (key, _) in table.entries.iter() {
            let name: &str = key.get_ref().as_ref();
            if !allowed.contains(&name) {
                let problem = format!("unknown key `{name}` (expected one of: {})", allowed.join(", "));
                self.error(ErrorKind::UnknownKey, table.field(name), Some(&key.span()), problem);
            }
        }
    }

    /// The value of the required key `key`; reports it if absent.
    pub(crate) fn required<'a, 'i>(&mut self, table: &Table<'a, 'i>, key: &str) -> Option<&'a Value<'i>> {
        let value = table.get(key);
        if value.is_none() {
            self.error(
                ErrorKind::MissingKey,
                table.field(key),
                table.span.as_ref(),
                "is required but missing",
            );
        }
        value
    }

    fn wrong_type(&mut self, field: &str, value: &Value<'_>, expected: &str) {
        let found = value.get_ref().type_str();
        self.error(
            ErrorKind::WrongType,
            field,
            Some(&value.span()),
            format!("expected {expected}, found {found}"),
        );
    }

    /// `value` as an unsigned integer (decimal, `0x`, `0o` or `0b`).
    pub(crate) fn usize(&mut self, value: &Value<'_>, field: &str) -> Option<usize> {
        let DeValue::Integer(int) = value.get_ref() else {
            self.wrong_type(field, value, "an integer");
            return None;
        };
        let parsed = u64::from_str_radix(int.as_str(), int.radix())
            .ok()
            .and_then(|v| usize::try_from(v).ok());
        if parsed.is_none() {
            self.error(
                ErrorKind::InvalidValue,
                field,
                Some(&value.span()),
                format!("{int} is not an unsigned integer that fits in usize"),
            );
        }
        parsed
    }

    /// `value` as a string.
    pub(crate) fn string(&mut self, value: &Value<'_>, field: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(String::from(s.as_ref())),
            _ => {
                self.wrong_type(field, value, "a string");
                None
            }
        }
    }

    /// `value` as a boolean.
    pub(crate) fn bool(&mut self, value: &Value<'_>, field: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(field, value, "true or false");
                None
            }
        }
    }

    /// `value` as an array.
    pub(crate) fn array<'a, 'i>(&mut self, value: &'a Value<'i>, field: &str) -> Option<&'a [Value<'i>]> {
        match value.get_ref() {
            DeValue::Array(items) => Some(items),
            _ => {
                self.wrong_type(field, value, "an array");
                None
            }
        }
    }

    /// `value` as an array of unsigned integers.
    pub(crate) fn usize_list(&mut self, value: &Value<'_>, field: &str) -> Option<Vec<usize>> {
        let items = self.array(value, field)?;
        let mut list = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            list.push(self.usize(item, &format!("{field}[{i}]"))?);
        }
        Some(list)
    }

    /// `value` as a name or a number, mapped by `by_name` / `by_number`.
    ///
    /// `what` describes the accepted values in the error message.
    pub(crate) fn named<T>(
        &mut self,
        value: &Value<'_>,
        field: &str,
        by_name: impl Fn(&str) -> Option<T>,
        by_number: Option<&dyn Fn(usize) -> Option<T>>,
        what: &str,
    ) -> Option<T> {
        let (found, shown) = match (value.get_ref(), by_number) {
            (DeValue::String(s), _) => (by_name(s), format!("\"{s}\"")),
            (DeValue::Integer(_), Some(by_number)) => {
                let n = self.usize(value, field)?;
                (by_number(n), format!("{n:#x}"))
            }
            (_, Some(_)) => {
                self.wrong_type(field, value, "a string or an integer");
                return None;
            }
            (_, None) => {
                self.wrong_type(field, value, "a string");
                return None;
            }
        };
        if found.is_none() {
            self.error(
                ErrorKind::InvalidValue,
                field,
                Some(&value.span()),
                format!("unknown value {shown} (expected one of: {what})"),
            );
        }
        found
    }

    /// The required unsigned integer `key` of `table` (0 if absent or bad).
    pub(crate) fn req_usize(&mut self, table: &Table<'_, '_>, key: &str) -> usize {
        self.required(table, key)
            .and_then(|v| self.usize(v, &table.field(key)))
            .unwrap_or_default()
    }

    /// The optional unsigned integer `key` of `table`.
    pub(crate) fn opt_usize(&mut self, table: &Table<'_, '_>, key: &str) -> Option<usize> {
        table.get(key).and_then(|v| self.usize(v, &table.field(key)))
    }

    /// The required string `key` of `table` (empty if absent or bad).
    pub(crate) fn req_string(&mut self, table: &Table<'_, '_>, key: &str) -> String {
        self.required(table, key)
            .and_then(|v| self.string(v, &table.field(key)))
            .unwrap_or_default()
    }

    /// The optional boolean `key` of `table`.
    pub(crate) fn opt_bool(&mut self, table: &Table<'_, '_>, key: &str) -> Option<bool> {
        table.get(key).and_then(|v| self.bool(v, &table.field(key)))
    }

    /// The optional string `key` of `table`.
    pub(crate) fn opt_string(&mut self, table: &Table<'_, '_>, key: &str) -> Option<String> {
        table.get(key).and_then(|v| self.string(v, &table.field(key)))
    }
}
