//! The attention and residual pictures of a compiled model: what a reader
//! needs to read them without the source (colour scale, axis titles,
//! position labels, readable names), and residual values that match the
//! model's own forward pass.

use rasp::{AttentionComparison, CompileOptions, NoFiles, Program, ResidualStream};

fn reverse() -> (Program, rasp::Model) {
    let source = "flip = select(indices, length - indices - 1, ==);\nreverse = aggregate(flip, tokens);\n";
    let program = Program::from_source("reverse.rasp", source, NoFiles).expect("loads");
    let sop = program.sop("reverse", "compile").expect("an s-op");
    let model = program.compile(sop, &CompileOptions::new(rasp::parse_vocab("abc"), None, 4)).expect("compiles");
    (program, model)
}

fn assert_readable(svg: &str) {
    // A colour scale with its ends, and both axis titles.
    assert!(svg.contains("class=\"colour-scale\""), "no colour scale");
    assert!(svg.contains(">0</text>") && svg.contains(">1</text>"), "no scale numbers");
    assert_eq!(svg.matches("class=\"axis-title\"").count() % 2, 0, "axis titles come in pairs");
    assert!(svg.contains("class=\"axis-title\""), "no axis titles");
    assert!(!svg.contains("rotate("), "no rotated text");
    assert!(!svg.contains("s-op"), "a placeholder name");
}

#[test]
fn attention_pictures_have_a_scale_axes_and_position_labels() {
    let (program, model) = reverse();
    let comparison = AttentionComparison::of_model(&program, &model, "cab").expect("attention");
    let svg = comparison.to_svg();
    assert_readable(&svg);
    assert!(svg.contains(">queries ↓</text>") && svg.contains(">keys (position:token) →</text>"), "{svg}");
    // Positions and tokens, so repeated tokens stay apart.
    for label in ["0:c", "1:a", "2:b"] {
        assert!(svg.contains(&format!(">{label}</text>")), "{label}");
    }
    // Heads are named by what they make: layer 1's by inverting length.
    let captions: Vec<&str> = svg
        .split("class=\"caption\"")
        .skip(1)
        .filter_map(|t| t.split_once('>').and_then(|(_, rest)| rest.split_once('<')).map(|(text, _)| text))
        .collect();
    assert!(captions.join(" ").contains("makes 1/length from indicator(indices == 0)"), "{captions:?}");
    // Tooltips say what a cell moves and what the head makes. Query 0
    // reads key 2 ("b"), so reverse is "b" at position 0.
    assert!(svg.contains("moves tokens = b from key 2\nresult reverse = b at query 0"), "{svg}");
    let page = comparison.to_html();
    assert!(page.starts_with("<!DOCTYPE html>") && !page.contains("http"), "{page}");
    assert!(page.contains("data-tip=\"query 0 (c), key 2 (b): weight 1.000\nmoves tokens = b from key 2"), "{page}");
    // Width follows the content, not the title's length in a fixed font.
    let width: f64 =
        svg.split("width=\"").nth(1).and_then(|w| w.split('"').next()).and_then(|w| w.parse().ok()).expect("width");
    assert!(width < 900.0, "{width}");
}

#[test]
fn the_residual_stream_is_drawn_stage_by_stage_with_what_each_layer_wrote() {
    let (_, model) = reverse();
    let stream = ResidualStream::of_model(&model, "cab").expect("residual stream");
    assert_eq!(stream.positions, ["<start>", "0:c", "1:a", "2:b"]);
    assert_eq!(stream.stages.len(), model.layers.len() + 1);
    // The last stage is the model's final stream.
    let words = vec![vec!["c", "a", "b"]];
    let last = rasp::residual_streams(&model, &words).expect("final stream").remove(0);
    let drawn = &stream.stages.last().expect("stages").values;
    for (r, row) in drawn.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            assert_eq!(*v, last.data[r * last.cols + c]);
        }
    }
    // Every dimension is in exactly one group.
    let mut dims: Vec<usize> = stream.groups.iter().flat_map(|g| g.dims.iter().copied()).collect();
    dims.sort_unstable();
    assert_eq!(dims, (0..model.config.d_model).collect::<Vec<_>>());
    // 1/length is written by layer 1 (its head), reverse by layer 2, and
    // after layer 1 each position holds 1/3 there.
    let group = |name: &str| stream.groups.iter().find(|g| g.name == name).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(group("1/length").written_at, 1);
    assert!(stream.groups.iter().any(|g| g.name.starts_with("reverse") && g.written_at == 2));
    let dim = group("1/length").dims[0];
    for position in 1..4 {
        assert!((stream.stages[1].values[position][dim] - 1.0 / 3.0).abs() < 1e-4);
        assert_eq!(stream.stages[0].values[position][dim], 0.0);
    }
    let svg = stream.to_svg();
    assert_readable(&svg);
    assert!(svg.contains(">positions ↓</text>"), "{svg}");
    assert!(svg.contains("class=\"written\""), "what a layer wrote is framed");
    assert!(stream.to_html().starts_with("<!DOCTYPE html>"));
}

/// The README's pictures of compiled reverse (`rasp attention` and `rasp
/// residual` on a model compiled with `--vocab a,b,c,d --max-len 5`, input
/// `abcd`) are what the code draws now; `UPDATE_SNAPSHOTS=1` rewrites them.
#[test]
fn the_committed_pictures_in_docs_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let source = std::fs::read_to_string(root.join("examples/reverse.rasp")).expect("examples/reverse.rasp");
    let program = Program::from_source("examples/reverse.rasp", &source, NoFiles).expect("loads");
    let sop = program.sop("reverse", "compile").expect("an s-op");
    let model = program.compile(sop, &CompileOptions::new(rasp::parse_vocab("a,b,c,d"), None, 5)).expect("compiles");
    let attention = AttentionComparison::of_model(&program, &model, "abcd").expect("attention").to_svg();
    let residual = ResidualStream::of_model(&model, "abcd").expect("residual stream").to_svg();
    for (file, svg) in [("docs/reverse-attention.svg", attention), ("docs/reverse-residual.svg", residual)] {
        let path = root.join(file);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &svg).expect("write the picture");
            continue;
        }
        let committed = std::fs::read_to_string(&path).expect("committed picture");
        assert!(committed == svg, "{file} is stale: run with UPDATE_SNAPSHOTS=1");
    }
}
