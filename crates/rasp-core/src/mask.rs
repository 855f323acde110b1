//! Attention masks: which keys a query position may see (semantics.md §6,
//! "Decoder mode"). An extension of rasp, not reference RASP: the reference
//! is an encoder language, where every query sees every key, and that is
//! the default here.
//!
//! Every mask this type can express makes the visible keys of query `q` a
//! prefix `0..visible_keys(q, n)` of the positions, which is what lets the
//! plain evaluator clear a row's tail, the structured engine add one
//! interval dimension, and the compiler add a single additive bias.

use std::fmt;

/// Which keys each query position may attend to. Applied to the value of
/// every selector, so everything built on selectors follows: `length` at
/// position `i` is `i + 1` under [`AttentionMask::Causal`], and
/// `selector_width` counts only the visible keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AttentionMask {
    /// Every query sees every key: reference RASP (an encoder).
    #[default]
    Bidirectional,
    /// Query `q` sees keys `0..=q` (a decoder).
    Causal,
    /// Prefix-LM: the first `length` positions see each other (and nothing
    /// after them); a later query `q` sees keys `0..=q`.
    Prefix {
        /// How many leading positions attend bidirectionally.
        length: usize,
    },
}

impl AttentionMask {
    /// The mask the command-line options `--causal` and `--prefix-len N`
    /// name: a prefix length implies causal attention after the prefix.
    pub fn from_options(causal: bool, prefix_len: Option<usize>) -> AttentionMask {
        match (causal, prefix_len) {
            (_, Some(length)) => AttentionMask::Prefix { length },
            (true, None) => AttentionMask::Causal,
            (false, None) => AttentionMask::Bidirectional,
        }
    }

    /// How many keys query `query` sees on an input of `n` positions: the
    /// visible keys are exactly `0..visible_keys(query, n)`.
    pub fn visible_keys(self, query: usize, n: usize) -> usize {
        match self {
            AttentionMask::Bidirectional => n,
            AttentionMask::Causal => (query + 1).min(n),
            AttentionMask::Prefix { length } => (query + 1).max(length).min(n),
        }
    }

    /// Whether query `query` may see key `key` (on an input longer than both).
    pub fn allows(self, query: usize, key: usize) -> bool {
        match self {
            AttentionMask::Bidirectional => true,
            AttentionMask::Causal => key <= query,
            AttentionMask::Prefix { length } => key <= query || key < length,
        }
    }

    /// Whether this is the reference's (encoder) semantics.
    pub fn is_bidirectional(self) -> bool {
        self == AttentionMask::Bidirectional
    }

    /// Whether the mask hides anything on inputs of `n` positions.
    pub fn hides_any(self, n: usize) -> bool {
        (0..n).any(|q| self.visible_keys(q, n) < n)
    }

    /// The `"causal"` field of model.json: whether any query is restricted.
    pub fn is_causal(self) -> bool {
        !self.is_bidirectional()
    }

    /// The `"prefix_len"` field of model.json.
    pub fn prefix_len(self) -> Option<usize> {
        match self {
            AttentionMask::Prefix { length } => Some(length),
            AttentionMask::Bidirectional | AttentionMask::Causal => None,
        }
    }
}

/// `bidirectional`, `causal`, `prefix-LM (prefix length N)`.
impl fmt::Display for AttentionMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttentionMask::Bidirectional => write!(f, "bidirectional"),
            AttentionMask::Causal => write!(f, "causal"),
            AttentionMask::Prefix { length } => write!(f, "prefix-LM (prefix length {length})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AttentionMask;

    #[test]
    fn visible_keys_agree_with_allows() {
        let masks = [
            AttentionMask::Bidirectional,
            AttentionMask::Causal,
            AttentionMask::Prefix { length: 0 },
            AttentionMask::Prefix { length: 3 },
            AttentionMask::Prefix { length: 9 },
        ];
        for mask in masks {
            for n in 0..7 {
                for q in 0..n {
                    let visible = mask.visible_keys(q, n);
                    for k in 0..n {
                        assert_eq!(k < visible, mask.allows(q, k), "{mask} q={q} k={k} n={n}");
                    }
                }
            }
        }
    }

    #[test]
    fn prefix_is_bidirectional_inside_and_causal_after() {
        let mask = AttentionMask::Prefix { length: 3 };
        // Written out by hand for n = 5: rows are queries.
        let want = [3, 3, 3, 4, 5];
        for (q, w) in want.iter().enumerate() {
            assert_eq!(mask.visible_keys(q, 5), *w);
        }
        assert_eq!(AttentionMask::Causal.visible_keys(2, 5), 3);
        assert!(!AttentionMask::Causal.hides_any(1));
        assert!(AttentionMask::Causal.hides_any(2));
        assert!(!AttentionMask::Prefix { length: 4 }.hides_any(4));
    }
}
