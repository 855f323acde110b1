//! Property tests: on random graphs (compositions of tokens, indices,
//! constants, maps, selects with every predicate, and/or/not, aggregates
//! with and without defaults) and random inputs (ints, floats, strs, bools,
//! mixed), the fast engine gives exactly the plain evaluator's results —
//! the same values with the same types, or the same error — with every
//! strategy, one input at a time and in parallel batches; and so under
//! every attention mask (bidirectional, causal, prefix-LM). The memoising
//! `FastEvaluator` the REPL runs is held to the same results.

use proptest::prelude::*;
use rasp_core::{
    ArithOp, Atom, AttentionMask, BatchEvaluator, BatchStrategy, CmpOp, Evaluator, FastEvaluator, Graph, MapOp, NodeId,
    NodeKind, OwnedValue, Predicate, TokenConversion, Value, same_result,
};

#[derive(Debug, Clone)]
enum Step {
    Constant(Value),
    Unary(u8, usize),
    ArithConst(ArithOp, Value, bool, usize),
    CompareConst(CmpOp, Value, bool, usize),
    Binary(u8, usize, usize),
    Ternary(usize, usize, usize),
    Select(usize, usize, Predicate),
    SelectAll,
    And(usize, usize),
    Or(usize, usize),
    Not(usize),
    Aggregate(usize, usize, Option<Value>),
    /// The library's `selector_width(sel)`, node for node.
    Width(usize),
}

fn atom_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..5).prop_map(Value::int),
        // past i64 after a product or two: big ints, not sortable
        Just(Value::int(1 << 62)),
        prop_oneof![Just(0.5), Just(-1.5), Just(2.0), Just(0.0), Just(1e300), Just(-0.0)]
            .prop_map(|f| Value::Atom(Atom::Float(f))),
        prop_oneof![Just("a"), Just("b"), Just(""), Just("1")].prop_map(Value::str),
        any::<bool>().prop_map(Value::bool),
    ]
}

fn predicate() -> impl Strategy<Value = Predicate> {
    prop_oneof![
        Just(Predicate::Eq),
        Just(Predicate::Ne),
        Just(Predicate::Lt),
        Just(Predicate::Gt),
        Just(Predicate::Le),
        Just(Predicate::Ge)
    ]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![Just(CmpOp::Eq), Just(CmpOp::Ne), Just(CmpOp::Lt), Just(CmpOp::Le), Just(CmpOp::Gt), Just(CmpOp::Ge)]
}

fn arith_op() -> impl Strategy<Value = ArithOp> {
    prop_oneof![Just(ArithOp::Add), Just(ArithOp::Sub), Just(ArithOp::Mul), Just(ArithOp::Div), Just(ArithOp::Mod)]
}

fn step() -> impl Strategy<Value = Step> {
    let i = || any::<usize>();
    prop_oneof![
        1 => atom_value().prop_map(Step::Constant),
        2 => (0u8..5, i()).prop_map(|(op, a)| Step::Unary(op, a)),
        2 => (arith_op(), atom_value(), any::<bool>(), i()).prop_map(|(o, c, l, a)| Step::ArithConst(o, c, l, a)),
        2 => (cmp_op(), atom_value(), any::<bool>(), i()).prop_map(|(o, c, l, a)| Step::CompareConst(o, c, l, a)),
        2 => (0u8..11, i(), i()).prop_map(|(op, a, b)| Step::Binary(op, a, b)),
        1 => (i(), i(), i()).prop_map(|(c, a, b)| Step::Ternary(c, a, b)),
        5 => (i(), i(), predicate()).prop_map(|(k, q, p)| Step::Select(k, q, p)),
        1 => Just(Step::SelectAll),
        2 => (i(), i()).prop_map(|(a, b)| Step::And(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| Step::Or(a, b)),
        1 => i().prop_map(Step::Not),
        6 => (i(), i(), proptest::option::of(atom_value())).prop_map(|(s, v, d)| Step::Aggregate(s, v, d)),
        2 => i().prop_map(Step::Width),
    ]
}

/// Builds the graph; every node is a root.
fn build(steps: &[Step], conversion: TokenConversion) -> (Graph, Vec<NodeId>) {
    let mut g = Graph::new();
    let mut sops = vec![g.add(NodeKind::Tokens(conversion), "tokens", true), g.add(NodeKind::Indices, "indices", true)];
    let mut sels: Vec<NodeId> = Vec::new();
    let map = |g: &mut Graph, op: MapOp, inputs: Vec<NodeId>| g.add(NodeKind::Map { op, inputs }, "m", false);
    for step in steps {
        let s = |i: &usize| sops[i % sops.len()];
        match step {
            Step::Constant(v) => sops.push(g.add(NodeKind::Constant(v.clone()), "c", false)),
            Step::Unary(op, a) => {
                let op = [MapOp::Neg, MapOp::Pos, MapOp::Round, MapOp::Not, MapOp::Indicator][*op as usize].clone();
                let a = s(a);
                sops.push(map(&mut g, op, vec![a]));
            }
            Step::ArithConst(op, constant, left, a) => {
                let op = MapOp::ArithConst { op: *op, constant: constant.clone(), constant_on_left: *left };
                let a = s(a);
                sops.push(map(&mut g, op, vec![a]));
            }
            Step::CompareConst(op, constant, left, a) => {
                let op = MapOp::CompareConst { op: *op, constant: constant.clone(), constant_on_left: *left };
                let a = s(a);
                sops.push(map(&mut g, op, vec![a]));
            }
            Step::Binary(op, a, b) => {
                let op = match op {
                    0 => MapOp::Arith(ArithOp::Add),
                    1 => MapOp::Arith(ArithOp::Sub),
                    2 => MapOp::Arith(ArithOp::Mul),
                    3 => MapOp::Arith(ArithOp::Div),
                    4 => MapOp::Compare(CmpOp::Lt),
                    5 => MapOp::Compare(CmpOp::Eq),
                    6 => MapOp::Compare(CmpOp::Ge),
                    7 => MapOp::And,
                    8 => MapOp::Or,
                    9 => MapOp::Arith(ArithOp::Mod),
                    _ => MapOp::InList(std::rc::Rc::new(vec![Atom::str("a"), Atom::Int(1)])),
                };
                let (a, b) = (s(a), s(b));
                let inputs = if matches!(op, MapOp::InList(_)) { vec![a] } else { vec![a, b] };
                sops.push(map(&mut g, op, inputs));
            }
            Step::Ternary(c, a, b) => {
                let inputs = vec![s(c), s(a), s(b)];
                sops.push(map(&mut g, MapOp::Ternary, inputs));
            }
            Step::Select(k, q, p) => {
                let (key, query) = (s(k), s(q));
                sels.push(g.add(NodeKind::Select { key, query, predicate: *p }, "sel", false));
            }
            Step::SelectAll => sels.push(g.select_all()),
            Step::And(a, b) | Step::Or(a, b) if !sels.is_empty() => {
                let (a, b) = (sels[a % sels.len()], sels[b % sels.len()]);
                let kind =
                    if matches!(step, Step::And(..)) { NodeKind::SelectAnd(a, b) } else { NodeKind::SelectOr(a, b) };
                sels.push(g.add(kind, "sel", false));
            }
            Step::Not(a) if !sels.is_empty() => {
                let a = sels[a % sels.len()];
                sels.push(g.add(NodeKind::SelectNot(a), "sel", false));
            }
            Step::Aggregate(sel, v, default) if !sels.is_empty() => {
                let selector = sels[sel % sels.len()];
                let values = s(v);
                sops.push(g.add(NodeKind::Aggregate { selector, values, default: default.clone() }, "agg", false));
            }
            Step::Width(sel) if !sels.is_empty() => {
                let sel = sels[sel % sels.len()];
                sops.push(selector_width(&mut g, sel, sops[1]));
            }
            _ => {}
        }
    }
    let roots = g.ids().collect();
    (g, roots)
}

/// rasplib's `selector_width`: `sel or select(indices, 0, ==)` holds
/// position 0 in every row, whose share of the mean gives the width.
fn selector_width(g: &mut Graph, sel: NodeId, indices: NodeId) -> NodeId {
    let map = |g: &mut Graph, op: MapOp, inputs: Vec<NodeId>| g.add(NodeKind::Map { op, inputs }, "m", false);
    let zero = g.add(NodeKind::Constant(Value::int(0)), "0", false);
    let one = g.add(NodeKind::Constant(Value::int(1)), "1", false);
    let at0 = g.add(NodeKind::Select { key: indices, query: zero, predicate: Predicate::Eq }, "at0", false);
    let and0 = g.add(NodeKind::SelectAnd(sel, at0), "sAND0", false);
    let or0 = g.add(NodeKind::SelectOr(sel, at0), "sOR0", false);
    let is0 =
        map(g, MapOp::CompareConst { op: CmpOp::Eq, constant: Value::int(0), constant_on_left: false }, vec![indices]);
    let ind = map(g, MapOp::Indicator, vec![is0]);
    let inverted = g.add(NodeKind::Aggregate { selector: or0, values: ind, default: None }, "inverted", false);
    let recip =
        map(g, MapOp::ArithConst { op: ArithOp::Div, constant: Value::int(1), constant_on_left: true }, vec![inverted]);
    let except0 =
        map(g, MapOp::ArithConst { op: ArithOp::Sub, constant: Value::int(1), constant_on_left: false }, vec![recip]);
    let valat0 =
        g.add(NodeKind::Aggregate { selector: and0, values: one, default: Some(Value::int(0)) }, "valat0", false);
    let sum = map(g, MapOp::Arith(ArithOp::Add), vec![except0, valat0]);
    map(g, MapOp::Round, vec![sum])
}

/// Bidirectional most often (the reference), then causal and prefix-LM
/// with prefixes shorter than, equal to and longer than the inputs.
fn mask() -> impl Strategy<Value = AttentionMask> {
    prop_oneof![
        2 => Just(AttentionMask::Bidirectional),
        2 => Just(AttentionMask::Causal),
        1 => (0usize..6).prop_map(|length| AttentionMask::Prefix { length }),
        1 => (30usize..300).prop_map(|length| AttentionMask::Prefix { length }),
    ]
}

fn conversion() -> impl Strategy<Value = TokenConversion> {
    prop_oneof![
        3 => Just(TokenConversion::AsIs),
        3 => Just(TokenConversion::Str),
        1 => Just(TokenConversion::Int),
        1 => Just(TokenConversion::Float),
        1 => Just(TokenConversion::Bool),
    ]
}

/// Inputs of one kind (ints, digit strs, letters, floats) or mixed.
fn input(max_len: usize) -> impl Strategy<Value = Vec<Value>> {
    let element = prop_oneof![
        (-2i64..4).prop_map(Value::int),
        prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(Value::str),
        prop_oneof![Just("0"), Just("1"), Just("2")].prop_map(Value::str),
        prop_oneof![Just(0.5), Just(1.0), Just(-2.0), Just(f64::NAN), Just(3.25)]
            .prop_map(|f| Value::Atom(Atom::Float(f))),
    ];
    let ints = proptest::collection::vec((-2i64..4).prop_map(Value::int), 1..max_len);
    let letters =
        proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(Value::str), 1..max_len);
    let digits =
        proptest::collection::vec(prop_oneof![Just("0"), Just("1"), Just("2")].prop_map(Value::str), 1..max_len);
    let floats = proptest::collection::vec(
        prop_oneof![4 => Just(0.5), 4 => Just(1.0), 4 => Just(-2.0), 4 => Just(3.25), 1 => Just(f64::NAN), 1 => Just(f64::INFINITY)]
            .prop_map(|f| Value::Atom(Atom::Float(f))),
        1..max_len,
    );
    prop_oneof![
        3 => ints,
        3 => letters,
        2 => digits,
        1 => floats,
        1 => proptest::collection::vec(element, 1..max_len),
    ]
}

fn check(
    steps: &[Step],
    conversion: TokenConversion,
    inputs: &[Vec<Value>],
    mask: AttentionMask,
) -> Result<(), TestCaseError> {
    let (graph, roots) = build(steps, conversion);
    let mut expected = Vec::new();
    for input in inputs {
        let mut plain = Evaluator::with_mask(mask);
        expected.push(roots.iter().map(|&r| plain.evaluate(&graph, r, input)).collect::<Vec<_>>());
    }
    for strategy in [BatchStrategy::Auto, BatchStrategy::Structured, BatchStrategy::Rows] {
        let mut fast = BatchEvaluator::new(&graph, &roots).with_strategy(strategy).with_mask(mask);
        for (input, want) in inputs.iter().zip(&expected) {
            let got = fast.eval(input);
            for ((root, w), g) in roots.iter().zip(want).zip(&got) {
                prop_assert!(
                    same_result(w, g),
                    "{strategy:?}, {mask}, node {root:?} = {:?} on {input:?}:\nplain {w:?}\nfast  {g:?}",
                    graph.kind(*root)
                );
            }
        }
    }
    // The memoising engine the REPL runs: one instance for every input,
    // roots asked for one at a time in id order (each reuses what the
    // earlier ones memoised, as the REPL's checks of new definitions do),
    // then again in reverse (memo hits, and roots planned before their
    // ancestors are memoised).
    let mut memo = FastEvaluator::with_mask(mask);
    for reverse in [false, true] {
        for (input, want) in inputs.iter().zip(&expected) {
            let mut order: Vec<usize> = (0..roots.len()).collect();
            if reverse {
                order.reverse();
            }
            for i in order {
                let got = memo.evaluate(&graph, roots[i], input);
                prop_assert!(
                    same_result(&want[i], &got),
                    "memoised (reverse {reverse}), {mask}, node {:?} on {input:?}:\nplain {:?}\nfast  {got:?}",
                    roots[i],
                    want[i]
                );
            }
        }
    }
    let owned: Vec<Vec<OwnedValue>> = inputs.iter().map(|i| i.iter().map(OwnedValue::from_value).collect()).collect();
    let batch = BatchEvaluator::new(&graph, &roots).with_mask(mask).eval_batch(&owned);
    for ((input, want), got) in inputs.iter().zip(&expected).zip(&batch) {
        for ((root, w), g) in roots.iter().zip(want).zip(got) {
            let g = g.as_ref().map(|v| v.to_node_value()).map_err(Clone::clone);
            prop_assert!(same_result(w, &g), "batch, node {root:?} on {input:?}:\nplain {w:?}\nfast  {g:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn fast_equals_plain_short(
        steps in proptest::collection::vec(step(), 1..32),
        conversion in conversion(),
        inputs in proptest::collection::vec(input(40), 1..4),
        mask in mask(),
    ) {
        check(&steps, conversion, &inputs, mask)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// Long enough for `Strategy::Auto` to count rather than go row by row,
    /// and for rows of several words.
    #[test]
    fn fast_equals_plain_long(
        steps in proptest::collection::vec(step(), 1..16),
        conversion in conversion(),
        inputs in proptest::collection::vec(input(400), 1..2),
        mask in mask(),
    ) {
        check(&steps, conversion, &inputs, mask)?;
    }
}

/// Inputs of exactly 1, 2, 63, 64 or 65 elements: selectors of inputs up
/// to 64 positions are a word per query (ints and short strs ranked by
/// value, other columns compared), one more takes two words. Strs of 0 to
/// 8 bytes (7 is the longest packed into a word; `"a"` against `"a\0"`),
/// ints close together, spread wide and at the ends of i64, and inputs
/// that start with a marker like a BOS token.
fn input_of_len() -> impl Strategy<Value = Vec<Value>> {
    let strs = prop_oneof![
        Just(""),
        Just("a"),
        Just("a\0"),
        Just("ab"),
        Just("b"),
        Just("é"),
        Just("§"),
        Just("abcdefg"),
        Just("abcdefgh"),
        Just("abcdefgz"),
        Just("😀"),
    ]
    .prop_map(Value::str)
    .boxed();
    let ints = prop_oneof![
        4 => -3i64..4,
        1 => -1000i64..1000,
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0), Just(-1)],
    ]
    .prop_map(Value::int)
    .boxed();
    let letters = prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(Value::str).boxed();
    prop_oneof![Just(1usize), Just(2), Just(63), Just(64), Just(65)].prop_flat_map(move |len| {
        let with_marker = proptest::collection::vec(letters.clone(), len - 1).prop_map(|rest| {
            let mut input = vec![Value::str("§")];
            input.extend(rest);
            input
        });
        prop_oneof![
            2 => proptest::collection::vec(strs.clone(), len),
            2 => proptest::collection::vec(ints.clone(), len),
            1 => proptest::collection::vec(prop_oneof![strs.clone(), ints.clone()], len),
            2 => with_marker,
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Around the one-word limit of short inputs (64 positions).
    #[test]
    fn fast_equals_plain_around_one_word(
        steps in proptest::collection::vec(step(), 1..24),
        conversion in conversion(),
        inputs in proptest::collection::vec(input_of_len(), 1..3),
        mask in mask(),
    ) {
        check(&steps, conversion, &inputs, mask)?;
    }
}

/// Several inputs of one length, another length between them: a batch
/// evaluator computes what depends on the length alone once per length and
/// keeps it from input to input, so these must not leak from one input or
/// one length into the next.
fn inputs_of_shared_lengths() -> impl Strategy<Value = Vec<Vec<Value>>> {
    let element = prop_oneof![
        (-2i64..4).prop_map(Value::int),
        prop_oneof![Just("a"), Just("b"), Just("§")].prop_map(Value::str),
        prop_oneof![Just(0.5), Just(f64::NAN)].prop_map(|f| Value::Atom(Atom::Float(f))),
    ];
    let kinds: Vec<BoxedStrategy<Value>> = vec![
        (-2i64..4).prop_map(Value::int).boxed(),
        prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(Value::str).boxed(),
        element.boxed(),
    ];
    (0..kinds.len(), 1usize..70, 1usize..70).prop_flat_map(move |(kind, a, b)| {
        let element = kinds[kind].clone();
        let of = |len: usize| proptest::collection::vec(element.clone(), len);
        (of(a), of(a), of(b), of(a), of(a)).prop_map(|(p, q, r, s, t)| vec![p, q, r, s, t])
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn fast_equals_plain_on_inputs_of_one_length(
        steps in proptest::collection::vec(step(), 1..24),
        conversion in conversion(),
        inputs in inputs_of_shared_lengths(),
        mask in mask(),
    ) {
        check(&steps, conversion, &inputs, mask)?;
    }
}

/// A selector tree over a few int columns.
#[derive(Debug, Clone)]
enum Tree {
    Select(usize, usize, Predicate),
    All,
    And(Box<Tree>, Box<Tree>),
    Or(Box<Tree>, Box<Tree>),
    Not(Box<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        8 => (0usize..5, 0usize..5, predicate()).prop_map(|(k, q, p)| Tree::Select(k, q, p)),
        1 => Just(Tree::All),
    ];
    leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Tree::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Tree::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Tree::Not(Box::new(a))),
        ]
    })
}

fn add_tree(g: &mut Graph, t: &Tree, columns: &[NodeId]) -> NodeId {
    match t {
        Tree::Select(k, q, p) => {
            g.add(NodeKind::Select { key: columns[*k], query: columns[*q], predicate: *p }, "sel", false)
        }
        Tree::All => g.select_all(),
        Tree::And(a, b) => {
            let (a, b) = (add_tree(g, a, columns), add_tree(g, b, columns));
            g.add(NodeKind::SelectAnd(a, b), "sel", false)
        }
        Tree::Or(a, b) => {
            let (a, b) = (add_tree(g, a, columns), add_tree(g, b, columns));
            g.add(NodeKind::SelectOr(a, b), "sel", false)
        }
        Tree::Not(a) => {
            let a = add_tree(g, a, columns);
            g.add(NodeKind::SelectNot(a), "sel", false)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Selector trees over int and float columns with many ties, read by
    /// means, counts, single lookups and the library's selector_width: the
    /// counting paths, where nearly every result is a value, not an error.
    #[test]
    fn fast_equals_plain_on_selector_trees(
        trees in proptest::collection::vec(tree(), 1..4),
        tokens in proptest::collection::vec(-3i64..4, 1..200),
        mask in mask(),
    ) {
        let mut g = Graph::new();
        let t = g.add(NodeKind::Tokens(TokenConversion::AsIs), "tokens", true);
        let i = g.add(NodeKind::Indices, "indices", true);
        let map = |g: &mut Graph, op: MapOp, inputs: Vec<NodeId>| g.add(NodeKind::Map { op, inputs }, "m", false);
        let half = map(&mut g, MapOp::ArithConst { op: ArithOp::Div, constant: Value::int(2), constant_on_left: false }, vec![t]);
        let zero = g.add(NodeKind::Constant(Value::int(0)), "0", false);
        let sum = map(&mut g, MapOp::Arith(ArithOp::Add), vec![t, i]);
        let columns = [t, i, half, zero, sum];
        let one = g.add(NodeKind::Constant(Value::int(1)), "1", false);
        let mut roots = Vec::new();
        for tr in &trees {
            let sel = add_tree(&mut g, tr, &columns);
            for (values, default) in [(i, None), (one, Some(Value::int(0))), (half, Some(Value::str("-"))), (t, None)] {
                roots.push(g.add(NodeKind::Aggregate { selector: sel, values, default }, "agg", false));
            }
            roots.push(selector_width(&mut g, sel, i));
        }
        let input: Vec<Value> = tokens.iter().map(|&v| Value::int(v)).collect();
        let mut plain = Evaluator::with_mask(mask);
        let want: Vec<_> = roots.iter().map(|&r| plain.evaluate(&g, r, &input)).collect();
        for strategy in [BatchStrategy::Auto, BatchStrategy::Structured, BatchStrategy::Rows] {
            let got = BatchEvaluator::new(&g, &roots).with_strategy(strategy).with_mask(mask).eval(&input);
            for ((root, w), gv) in roots.iter().zip(&want).zip(&got) {
                prop_assert!(same_result(w, gv), "{strategy:?}, {mask}, node {root:?}:\nplain {w:?}\nfast  {gv:?}");
            }
        }
    }
}

/// Strs that agree up to the shorter one's length (`"a"`, `"a\0"`), the
/// empty str, multi-byte characters and strs past the 7 bytes packed into
/// a word, compared with every predicate: each select's width and the mean
/// of the selected positions equal the plain evaluator's.
#[test]
fn short_strs_sharing_prefixes_compare_as_python() {
    // All packed into words, then with longer strs (compared as text).
    let short = ["a", "a\0", "", "\0", "ab", "é", "abcdefg", "abcdeff", "😀", "b", "a\0\0"];
    let long = ["a", "a\0", "", "abcdefgh", "abcdefgz", "abcdefg", "😀😀", "b"];
    for (texts, n) in [(&short[..], 11), (&short[..], 64), (&short[..], 65), (&long[..], 8), (&long[..], 64)] {
        let input: Vec<Value> = (0..n).map(|i| Value::str(texts[(i * 7) % texts.len()])).collect();
        let mut g = Graph::new();
        let tokens = g.add(NodeKind::Tokens(TokenConversion::Str), "tokens", true);
        let indices = g.add(NodeKind::Indices, "indices", true);
        let mut roots = Vec::new();
        for predicate in [Predicate::Eq, Predicate::Ne, Predicate::Lt, Predicate::Le, Predicate::Gt, Predicate::Ge] {
            let sel = g.add(NodeKind::Select { key: tokens, query: tokens, predicate }, "sel", false);
            roots.push(selector_width(&mut g, sel, indices));
            roots.push(g.add(NodeKind::Aggregate { selector: sel, values: indices, default: None }, "mean", false));
        }
        let mut plain = Evaluator::new();
        let want: Vec<_> = roots.iter().map(|&r| plain.evaluate(&g, r, &input)).collect();
        assert!(want.iter().all(|w| w.is_ok()), "the plain evaluator fails: {want:?}");
        for strategy in [BatchStrategy::Auto, BatchStrategy::Rows] {
            let got = BatchEvaluator::new(&g, &roots).with_strategy(strategy).eval(&input);
            for ((root, w), gv) in roots.iter().zip(&want).zip(&got) {
                assert!(same_result(w, gv), "n = {n}, {strategy:?}, node {root:?}:\nplain {w:?}\nfast  {gv:?}");
            }
        }
    }
}
