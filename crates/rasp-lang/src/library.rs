//! The standard library, as RASP source embedded in the binary.

/// `RASP_support/rasplib.rasp` of our own writing (semantics.md §5).
pub(crate) const SOURCE: &str = include_str!("library/rasplib.rasp");
