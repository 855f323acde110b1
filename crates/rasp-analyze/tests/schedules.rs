//! Schedules on graphs built directly: the greedy rules, the exact search
//! and the heuristic beyond its budget.

mod common;

use rasp_analyze::{AnalyzeOptions, HeadKind, Schedule, analyze, analyze_with};
use rasp_core::pyops::ArithOp;
use rasp_core::{Graph, MapOp, NodeId, NodeKind, Predicate, TokenConversion};

struct Builder {
    g: Graph,
    tokens: NodeId,
    indices: NodeId,
}

impl Builder {
    fn new() -> Builder {
        let mut g = Graph::new();
        let tokens = g.add(NodeKind::Tokens(TokenConversion::Str), "tokens", true);
        let indices = g.add(NodeKind::Indices, "indices", true);
        Builder { g, tokens, indices }
    }

    fn select(&mut self, key: NodeId, query: NodeId) -> NodeId {
        self.g.add(NodeKind::Select { key, query, predicate: Predicate::Eq }, "plain select", true)
    }

    fn aggregate(&mut self, selector: NodeId, values: NodeId) -> NodeId {
        self.g.add(NodeKind::Aggregate { selector, values, default: None }, "s-op", true)
    }

    fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.g.add(NodeKind::Map { op: MapOp::Arith(ArithOp::Add), inputs: vec![a, b] }, "sum", false)
    }

    /// A chain of `n` heads, each reading the previous one: `n` layers.
    fn chain(&mut self, n: usize) -> NodeId {
        let mut x = self.tokens;
        for _ in 0..n {
            let s = self.select(x, x);
            x = self.aggregate(s, x);
        }
        x
    }

    /// A head reading only the input: it can go in any layer.
    fn free_head(&mut self) -> NodeId {
        let s = self.select(self.tokens, self.indices);
        self.aggregate(s, self.indices)
    }
}

fn check(b: &Builder, root: NodeId, options: AnalyzeOptions) -> rasp_analyze::Analysis {
    let analysis = analyze_with(&b.g, root, options);
    if let Err(e) = common::check_schedule(&b.g, root, &analysis) {
        panic!("{e}\n{}", analysis.report(&b.g));
    }
    analysis
}

const BEST: AnalyzeOptions = AnalyzeOptions { schedule: Schedule::Best, bos_selector_width: false };

#[test]
fn greedy_puts_every_head_at_its_depth() {
    let mut b = Builder::new();
    let deep = b.chain(3);
    let free = b.free_head();
    let root = b.add(deep, free);
    let a = analyze(&b.g, root, Schedule::Greedy);
    assert_eq!((a.layers, a.heads_string()), (3, "2/1/1".to_string()));
    assert_eq!(a.layer_of(free), Some(1));
    assert_eq!(a.layer_of(root), Some(3));
    assert!(a.optimal);
}

#[test]
fn best_moves_a_head_to_share_a_selector_and_proves_it() {
    // The last layer of a chain attends with a selector that reads only the
    // input; a second head on that selector can wait for the last layer.
    let mut b = Builder::new();
    let two = b.chain(2);
    let s = b.select(b.tokens, b.indices);
    let last = b.aggregate(s, two);
    let early = b.aggregate(s, b.indices);
    let root = b.add(last, early);
    let greedy = check(&b, root, AnalyzeOptions::default());
    assert_eq!((greedy.layers, greedy.heads_string()), (3, "2/1/1".to_string()));
    assert_eq!(greedy.layer_of(early), Some(1));
    let a = check(&b, root, BEST);
    assert_eq!((a.layers, a.heads_string()), (3, "1/1/1".to_string()));
    assert_eq!(a.layer_of(early), Some(3));
    assert!(a.optimal);
    // A head that shares nothing is left where greedy puts it: every layer
    // already has a head, so moving it gains nothing.
    let free = b.free_head();
    let root = b.add(root, free);
    let a = check(&b, root, BEST);
    assert_eq!(a.heads_string(), "2/1/1");
    assert_eq!(a.layer_of(free), Some(1));
}

#[test]
fn best_brings_aggregates_of_one_selector_together() {
    // Two aggregates on one selector, one of them reading layer 1: greedy
    // splits them over two layers (two heads), best joins them (one head).
    let mut b = Builder::new();
    let one = b.chain(1);
    let s1 = b.select(one, one);
    let two = b.aggregate(s1, one);
    let s = b.select(b.tokens, b.indices);
    let early = b.aggregate(s, b.indices);
    let late = b.aggregate(s, one);
    let sum = b.add(early, late);
    let root = b.add(two, sum);
    let greedy = check(&b, root, AnalyzeOptions::default());
    assert_eq!(greedy.heads_string(), "2/2");
    let a = check(&b, root, BEST);
    assert_eq!(a.heads_string(), "1/2");
    assert_eq!(a.layer_of(early), Some(2));
    assert_eq!(a.layer_of(late), Some(2));
    assert_eq!(a.layer_details[2].heads.iter().map(|h| h.aggregates.len()).collect::<Vec<_>>(), vec![1, 2]);
}

#[test]
fn heuristic_beyond_the_search_budget_balances_the_layers() {
    // 10 layers of a chain and 40 heads that could go anywhere: the widest
    // layer needs 5 heads (50 heads over 10 layers).
    let mut b = Builder::new();
    let mut root = b.chain(10);
    for _ in 0..40 {
        let f = b.free_head();
        root = b.add(root, f);
    }
    let greedy = check(&b, root, AnalyzeOptions::default());
    assert_eq!(greedy.max_heads(), 41);
    let a = check(&b, root, BEST);
    assert_eq!(a.layers, 10);
    assert_eq!(a.max_heads(), 5, "{}", a.heads_string());
    assert_eq!(a.total_heads(), 50);
    // Beyond the search budget, but 5 is also the lower bound: 50 heads in
    // 10 layers. So the result is known to be the best.
    assert!(a.optimal);
}

#[test]
fn no_attention_means_no_layers() {
    let mut b = Builder::new();
    let root = b.add(b.tokens, b.indices);
    for options in [AnalyzeOptions::default(), BEST] {
        let a = check(&b, root, options);
        assert_eq!((a.layers, a.heads_per_layer.len(), a.layer_details.len()), (0, 0, 1));
        assert_eq!(a.layer_details[0].mlps, vec![root]);
        assert!(a.to_json(&b.g).contains("\"heads_per_layer\": [],"));
    }
}

#[test]
fn selector_width_pattern_is_one_head_only_when_asked() {
    rasp_lang::with_large_stack(|| {
        let mut s = rasp_lang::Session::new(Box::new(rasp_lang::NoFiles));
        s.feed_line("w = selector_width(select(tokens, tokens, ==));");
        let Some(rasp_core::Value::Sop(root)) = s.lookup("w") else { panic!("w") };
        let plain = analyze(&s.graph, root, Schedule::Greedy);
        assert_eq!(plain.heads_string(), "2");
        assert!(plain.layer_details[1].heads.iter().all(|h| h.kind == HeadKind::Attention));
        let bos = analyze_with(&s.graph, root, AnalyzeOptions { schedule: Schedule::Greedy, bos_selector_width: true });
        assert_eq!(bos.heads_string(), "1");
        let head = &bos.layer_details[1].heads[0];
        assert!(matches!(head.kind, HeadKind::BosSelectorWidth { .. }));
        assert_eq!(head.aggregates.len(), 2);
        assert_eq!(head.selects.len(), 2);
        // A hand-written BOS width (one aggregate) is already one head and
        // is not mistaken for the library's pair.
        s.feed_line("h = round(1 / aggregate(select(tokens, tokens, ==) or select(indices, 0, ==), indicator(indices == 0))) - 1;");
        let Some(rasp_core::Value::Sop(h)) = s.lookup("h") else { panic!("h") };
        let a = analyze_with(&s.graph, h, AnalyzeOptions { schedule: Schedule::Best, bos_selector_width: true });
        assert_eq!(a.heads_string(), "1");
        assert_eq!(a.layer_details[1].heads[0].kind, HeadKind::Attention);
    });
}
