//! Building drawings of the example programs, and the checks every
//! drawing must pass.

#![allow(dead_code)]

use rasp_analyze::{Analysis, Schedule, analyze};
use rasp_core::{Evaluator, Graph, NodeId, Value};
use rasp_draw::{Drawing, Group, Item, overlapping_texts};
use rasp_lang::{Session, SourceLoader};
use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `load "x";` reads `x.rasp` relative to the workspace root.
struct RootFiles;

impl SourceLoader for RootFiles {
    fn load(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(workspace_root().join(path)).ok()
    }
}

pub struct Case {
    pub graph: Graph,
    pub root: NodeId,
    pub input: Value,
    pub elements: Vec<Value>,
    pub analysis: Analysis,
    pub drawing: Drawing,
}

/// Runs `file` (relative to the workspace root), then draws `sop` on
/// `input` (a string) with the greedy schedule.
pub fn draw(file: &str, sop: &str, input: &str) -> Case {
    draw_with(file, sop, Value::str(input), Schedule::Greedy)
}

pub fn draw_with(file: &str, sop: &str, input: Value, schedule: Schedule) -> Case {
    let file = file.to_string();
    let sop = sop.to_string();
    // Values hold `Rc`s: build and check on the large stack, hand back only
    // what is `Send`.
    let text = std::fs::read_to_string(workspace_root().join(&file)).expect("read program");
    let mut session = Session::new(Box::new(RootFiles));
    session.run_file(&file, &text);
    session.take_output();
    let errors: String = session.take_diagnostics().iter().map(|d| d.render(false)).collect();
    assert!(!session.had_file_errors(), "{file} has errors:\n{errors}");
    let Some(Value::Sop(root)) = session.lookup(&sop) else { panic!("{sop} is not an s-op in {file}") };
    let elements = input.iter_elements().expect("iterable input");
    let graph = session.graph.clone();
    let analysis = analyze(&graph, root, schedule);
    let drawing = Drawing::new(&graph, root, &elements, &analysis).expect("drawing");
    Case { graph, root, input, elements, analysis, drawing }
}

/// The layout invariants: no two texts overlap, everything lies inside the
/// picture, every head of the analysis is drawn once with exactly its
/// selected cells filled, and the SVG holds the same cells.
pub fn check(case: &Case) {
    let scene = case.drawing.scene();
    let boxes = scene.root.text_boxes();
    let overlaps = overlapping_texts(&boxes);
    assert!(
        overlaps.is_empty(),
        "{}: {} overlapping texts, e.g. {:?} and {:?}",
        case.drawing.title(),
        overlaps.len(),
        overlaps[0].0,
        overlaps[0].1
    );
    for (b, t) in &boxes {
        assert!(
            b.x0 >= 0.0 && b.y0 >= 0.0 && b.x1 <= scene.width && b.y1 <= scene.height,
            "{}: text {:?} at {b:?} outside the picture ({} × {})",
            case.drawing.title(),
            t.text,
            scene.width,
            scene.height
        );
    }

    let mut heads = Vec::new();
    scene.root.groups_of_class("head", &mut heads);
    let total: usize = case.analysis.heads_per_layer.iter().sum();
    assert_eq!(heads.len(), total, "{}: heads drawn", case.drawing.title());
    let mut evaluator = Evaluator::new();
    let mut selected_total = 0;
    for layer in &case.analysis.layer_details {
        for head in &layer.heads {
            let layer_text = layer.layer.to_string();
            let selector_text = head.selector.0.to_string();
            let drawn: Vec<&&Group> = heads
                .iter()
                .filter(|g| {
                    g.data_value("layer") == Some(layer_text.as_str())
                        && g.data_value("selector") == Some(selector_text.as_str())
                })
                .collect();
            assert_eq!(
                drawn.len(),
                1,
                "{}: head of selector {selector_text} in layer {layer_text}",
                case.drawing.title()
            );
            let matrix = evaluator.evaluate(&case.graph, head.selector, &case.elements).expect("selector evaluates");
            let matrix = matrix.as_sel().expect("a selector matrix");
            let n = case.elements.len();
            let expected = (0..n).flat_map(|q| (0..n).map(move |k| (q, k))).filter(|&(q, k)| matrix.get(q, k)).count();
            assert_eq!(drawn[0].count_rects("cell on"), expected, "{}: selected cells", case.drawing.title());
            assert_eq!(drawn[0].count_rects("cell on") + drawn[0].count_rects("cell off"), n * n);
            check_cells_match(drawn[0], matrix, n);
            selected_total += expected;
        }
    }
    let svg = case.drawing.to_svg();
    assert_eq!(
        svg.matches("class=\"cell on\"").count(),
        selected_total,
        "{}: selected cells in the SVG",
        case.drawing.title()
    );
    assert_eq!(svg.matches("<g class=\"head\"").count(), total);
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
}

/// Each filled cell sits at a selected (query, key) position.
fn check_cells_match(head: &Group, matrix: &rasp_core::SelectorMatrix, n: usize) {
    fn walk(g: &Group, out: &mut Vec<(usize, usize, bool)>) {
        for item in &g.items {
            match item {
                Item::Group(c) => walk(c, out),
                Item::Rect(r) if r.class == "cell on" || r.class == "cell off" => {
                    let get =
                        |name: &str| r.data.iter().find(|(k, _)| *k == name).and_then(|(_, v)| v.parse::<usize>().ok());
                    out.push((get("q").expect("q"), get("k").expect("k"), r.class == "cell on"));
                }
                _ => {}
            }
        }
    }
    let mut cells = Vec::new();
    walk(head, &mut cells);
    for (q, k, on) in cells {
        assert!(q < n && k < n);
        assert_eq!(matrix.get(q, k), on, "cell ({q}, {k})");
    }
}

/// The SVG's structure without geometry or colours: one line per element
/// with its classes, id, data attributes, anchor, weight and text; tooltips
/// as `title` lines.
pub fn outline(svg: &str) -> String {
    struct Element {
        line: String,
        text: String,
        children: Vec<Element>,
    }
    fn print(e: &Element, depth: usize, out: &mut String) {
        out.push_str(&"  ".repeat(depth));
        out.push_str(&e.line);
        if !e.text.is_empty() {
            out.push_str(&format!(" {:?}", e.text));
        }
        out.push('\n');
        for c in &e.children {
            print(c, depth + 1, out);
        }
    }
    let mut stack: Vec<Element> = vec![Element { line: String::new(), text: String::new(), children: Vec::new() }];
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let text = rest[..open].trim();
        if !text.is_empty()
            && let Some(top) = stack.last_mut()
        {
            top.text.push_str(text);
        }
        let close = tag_end(&rest[open..]) + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if tag.starts_with('/') {
            if stack.len() > 1
                && let Some(done) = stack.pop()
                && let Some(parent) = stack.last_mut()
            {
                parent.children.push(done);
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let mut line = tag[..name_end].to_string();
        for (name, value) in attributes(&tag[name_end..]) {
            match name.as_str() {
                "class" => line.push_str(&format!(".{}", value.replace(' ', "."))),
                "id" => line.push_str(&format!("#{value}")),
                "text-anchor" | "font-weight" => line.push_str(&format!("[{value}]")),
                n if n.starts_with("data-") => line.push_str(&format!("[{}={value}]", &n[5..])),
                _ => {}
            }
        }
        let element = Element { line, text: String::new(), children: Vec::new() };
        if self_closing {
            if let Some(top) = stack.last_mut() {
                top.children.push(element);
            }
        } else {
            stack.push(element);
        }
    }
    let mut out = String::new();
    for root in stack.first().map(|r| r.children.as_slice()).unwrap_or(&[]) {
        print(root, 0, &mut out);
    }
    out
}

/// Where a tag starting at `s[0] == '<'` ends (its `>`), skipping quoted values.
fn tag_end(s: &str) -> usize {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '>' if !quoted => return i,
            _ => {}
        }
    }
    s.len() - 1
}

fn attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim().to_string();
        let after = &rest[eq + 2..];
        let Some(close) = after.find('"') else { break };
        out.push((name, after[..close].to_string()));
        rest = &after[close + 1..];
    }
    out
}

/// Compares `actual` with `tests/snapshots/NAME`; `UPDATE_SNAPSHOTS=1`
/// rewrites the file instead.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
    if updating() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot {}: run with UPDATE_SNAPSHOTS=1 to create it", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b);
        let detail = match line {
            Some(i) => format!(
                "first difference at line {}:\n  expected: {}\n  actual:   {}",
                i + 1,
                expected.lines().nth(i).unwrap_or(""),
                actual.lines().nth(i).unwrap_or("")
            ),
            None => format!("lengths differ: {} vs {} lines", expected.lines().count(), actual.lines().count()),
        };
        panic!("snapshot {name} differs ({detail}); run with UPDATE_SNAPSHOTS=1 to accept");
    }
}

/// `UPDATE_SNAPSHOTS=1`: rewrite snapshots instead of comparing.
pub fn updating() -> bool {
    std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| !v.is_empty() && v != "0")
}
