//! The look-ahead check of decoder mode (semantics.md §6), with the selects
//! it blames named by file, line, column and text.

use crate::program::Program;
use rasp_compile::{LookaheadOptions, LookaheadReport};
use rasp_core::NodeId;
use rasp_lang::Location;

/// A `select` that reads ahead, and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectSite {
    /// The select's node.
    pub node: NodeId,
    /// Where the `select(...)` expression is (`None` for the full selector
    /// of `atom in s-op`, which no `select` spells).
    pub location: Option<Location>,
    /// Its text, e.g. `select(indices, length - indices - 1, ==)`.
    pub text: String,
    /// Whether it is written in the built-in library (reached through a
    /// library function such as `length`) rather than the program's files.
    pub in_library: bool,
}

/// The result of [`Program::check_lookahead`].
#[derive(Debug, Clone, PartialEq)]
pub struct Lookahead {
    /// The s-op checked.
    pub sop: String,
    /// What was run and what differed.
    pub report: LookaheadReport,
    /// The selects that read ahead on the differing input, in the order
    /// the program made them (empty when nothing differed).
    pub selects: Vec<SelectSite>,
}

impl Lookahead {
    /// The select the warning names: the first one written in the
    /// program's own files, else the first one (in the library).
    pub fn blamed(&self) -> Option<&SelectSite> {
        self.selects.iter().find(|s| !s.in_library).or_else(|| self.selects.first())
    }

    /// Whether the masked output equals the bidirectional one on every
    /// checked input.
    pub fn agrees(&self) -> bool {
        self.report.difference.is_none()
    }

    /// How much was checked: "all 340 inputs up to length 4" or "5000
    /// random inputs per length".
    pub fn coverage(&self) -> String {
        if self.report.exhaustive {
            format!("all {} inputs", self.report.inputs_checked)
        } else {
            format!(
                "{} inputs ({} random ones per length where there are more)",
                self.report.inputs_checked, self.report.sample_per_length
            )
        }
    }

    /// The warning `compile --causal` prints on stderr, or `None` when the
    /// outputs agree.
    pub fn warning(&self) -> Option<String> {
        let difference = self.report.difference.as_ref()?;
        let mut text = format!(
            "warning: {} reads later positions: under the {} mask its output differs from the bidirectional one\n  \
             on input {}: bidirectional {}, {} {}\n",
            self.sop,
            self.report.mask,
            show_word(&difference.input),
            difference.bidirectional,
            self.report.mask,
            difference.masked
        );
        match self.blamed() {
            Some(site) => {
                text.push_str(&format!("  first select reading ahead: {}\n", describe(site)));
                for other in self.selects.iter().filter(|s| s.node != site.node) {
                    text.push_str(&format!("  also reading ahead: {}\n", describe(other)));
                }
            }
            None => text.push_str("  (no single select reads ahead on that input)\n"),
        }
        text.push_str("  a decoder compiled from it computes the masked output, which verify checks against\n");
        Some(text)
    }

    /// The record in model.json (`compiler.lookahead`, docs/json.md).
    pub fn to_json(&self) -> serde_json::Value {
        let site = |s: &SelectSite| {
            serde_json::json!({
                "location": s.location.as_ref().map(ToString::to_string),
                "text": s.text,
                "in_library": s.in_library,
            })
        };
        serde_json::json!({
            "mask": self.report.mask.to_string(),
            "inputs_checked": self.report.inputs_checked,
            "exhaustive": self.report.exhaustive,
            "agrees": self.agrees(),
            "input": self.report.difference.as_ref().map(|d| d.input.clone()),
            "bidirectional": self.report.difference.as_ref().map(|d| d.bidirectional.clone()),
            "masked": self.report.difference.as_ref().map(|d| d.masked.clone()),
            "select": self.blamed().map(site),
            "selects": self.selects.iter().map(site).collect::<Vec<_>>(),
        })
    }
}

fn show_word(word: &[String]) -> String {
    if word.iter().all(|t| t.chars().count() == 1) {
        format!("{:?}", word.concat())
    } else {
        format!("[{}]", word.join(", "))
    }
}

fn describe(site: &SelectSite) -> String {
    match &site.location {
        Some(location) => format!("{location}: {}", site.text),
        None => site.text.clone(),
    }
}

impl Program {
    /// Whether `sop` computes the same under the program's mask as without
    /// one, on every word over `vocab` of 1 to `max_len` tokens (after `bos`
    /// when given), or on a seeded sample per length when there are more
    /// words than `options` allow; and if not, on which input and through
    /// which selects.
    pub fn check_lookahead(
        &self,
        sop: NodeId,
        vocab: &[String],
        bos: Option<&str>,
        max_len: usize,
        options: &LookaheadOptions,
    ) -> Lookahead {
        let graph = self.graph();
        let report = rasp_compile::check_lookahead(graph, sop, vocab, bos, max_len, self.mask(), options);
        let selects = report
            .difference
            .iter()
            .flat_map(|d| d.selects.iter())
            .map(|&node| {
                let location = self.session().select_site(node).cloned();
                let text = match &location {
                    Some(l) => l.text(),
                    None => format!("{} (the full selector of `in`)", graph.name(node)),
                };
                let in_library = location.as_ref().is_some_and(|l| l.file.starts_with(rasp_lang::LIBRARY_PATH));
                SelectSite { node, location, text, in_library }
            })
            .collect();
        Lookahead { sop: graph.name(sop).to_string(), report, selects }
    }
}
