//! Python 3.11 operator semantics on atoms (semantics.md §2.1, §2.4). Expected
//! values were computed once with python3 and stored as literals / in
//! `tests/data/ops.txt` and `tests/data/unary.txt`.

use num_bigint::BigInt;
use num_traits::{One, Pow};
use rasp_core::pyfmt::{float_repr, py_repr, py_str, small_str};
use rasp_core::pyops::{
    ArithOp, AtomKey, CmpOp, arith, compare, neg, pos, py_eq, quick_arith, quick_compare, round, to_f64, to_float,
    to_int, truthy,
};
use rasp_core::{Atom, ErrorKind, EvalError, EvalResult};
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// `b:True`, `i:3`, `I:2**1100` / `I:<decimal>`, `f:<repr>`, `s:<raw>`.
fn atom(text: &str) -> Atom {
    let (tag, body) = text.split_once(':').expect("tagged atom");
    match tag {
        "b" => Atom::Bool(body == "True"),
        "i" => Atom::Int(body.parse().expect("i64")),
        "I" => {
            let v = match body.split_once("**") {
                Some((b, e)) => Pow::pow(BigInt::from(b.parse::<i64>().expect("base")), e.parse::<u32>().expect("exp")),
                None => body.parse::<BigInt>().expect("bigint"),
            };
            Atom::from_bigint(v)
        }
        "f" => Atom::Float(body.parse().expect("float")),
        "s" => Atom::str(body),
        _ => panic!("bad atom {text}"),
    }
}

fn big(v: &Atom) -> BigInt {
    match v {
        Atom::Int(i) => BigInt::from(*i),
        Atom::BigInt(b) => (**b).clone(),
        other => panic!("not an int: {other:?}"),
    }
}

/// The same encoding the python3 generator used for results.
fn describe(r: &EvalResult<Atom>) -> String {
    match r {
        Err(EvalError { kind: ErrorKind::Python, message }) => format!("E:{message}"),
        Err(EvalError { kind: ErrorKind::Program, message }) => format!("R:{message}"),
        // Atom operators never meet an unsupported construct or a broken invariant.
        Err(EvalError { kind: ErrorKind::Unsupported, message }) => format!("U:{message}"),
        Err(EvalError { kind: ErrorKind::Internal, message }) => format!("I:{message}"),
        Ok(Atom::Bool(b)) => format!("bool:{}", if *b { "True" } else { "False" }),
        Ok(v @ (Atom::Int(_) | Atom::BigInt(_))) => {
            if let Atom::BigInt(b) = v {
                assert!(i64::try_from(&**b).is_err(), "BigInt not in normal form: {b}");
            }
            let n = big(v);
            let bits = n.bits();
            if bits < 1000 {
                format!("int:{n}")
            } else if bits < 8000 {
                format!("inthex:{}", n.to_str_radix(16))
            } else {
                let low: BigInt = n.magnitude().clone().into();
                let low = low % (BigInt::one() << 64u32);
                let sign = if n < BigInt::from(0) { "-" } else { "+" };
                format!("intbits:{bits}:{sign}:{:016x}", u64::try_from(&low).expect("low bits"))
            }
        }
        Ok(Atom::Float(f)) => format!("float:{}", float_repr(*f)),
        Ok(Atom::Str(s)) => {
            if s.chars().count() <= 100 {
                format!("str:{s}")
            } else {
                let head: String = s.chars().take(20).collect();
                format!("strlen:{}:{head}", s.len())
            }
        }
    }
}

fn arith_op(sym: &str) -> Option<ArithOp> {
    Some(match sym {
        "+" => ArithOp::Add,
        "-" => ArithOp::Sub,
        "*" => ArithOp::Mul,
        "/" => ArithOp::Div,
        "%" => ArithOp::Mod,
        "**" => ArithOp::Pow,
        _ => return None,
    })
}

fn cmp_op(sym: &str) -> CmpOp {
    match sym {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        _ => panic!("bad operator {sym}"),
    }
}

fn report(failures: &[String], total: usize) {
    assert!(total > 0);
    if !failures.is_empty() {
        panic!(
            "{} of {total} cases differ from Python:\n{}",
            failures.len(),
            failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

/// Every operator on every pair of atom kinds, plus edge cases (7590 rows).
/// The fast engine's shortcut for plain comparisons gives Python's answer
/// wherever it answers, and it answers for two ints, two floats, two strs.
#[test]
fn quick_compare_matches_python() {
    let data = include_str!("data/ops.txt");
    let (mut answered, mut failures, mut total) = (0, Vec::new(), 0);
    for line in data.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if arith_op(cols[1]).is_some() {
            continue;
        }
        let (a, b) = (atom(cols[0]), atom(cols[2]));
        total += 1;
        if let Some(holds) = quick_compare(cmp_op(cols[1]), &a, &b) {
            answered += 1;
            let got = describe(&Ok(Atom::Bool(holds)));
            if got != cols[3] {
                failures.push(format!("{} {} {}: got {got:?}, python {:?}", cols[0], cols[1], cols[2], cols[3]));
            }
        }
    }
    report(&failures, total);
    assert!(answered > 300, "quick_compare answered only {answered} of {total} cases");
}

/// The fast engine's shortcut for plain arithmetic gives Python's answer
/// wherever it answers, and it answers for the plain cases (small ints and
/// floats under `+ - * /`).
#[test]
fn quick_arith_matches_python() {
    let data = include_str!("data/ops.txt");
    let (mut answered, mut failures, mut total) = (0, Vec::new(), 0);
    for line in data.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let Some(op) = arith_op(cols[1]) else { continue };
        let (a, b) = (atom(cols[0]), atom(cols[2]));
        total += 1;
        if let Some(v) = quick_arith(op, &a, &b) {
            answered += 1;
            let got = describe(&Ok(v));
            if got != cols[3] {
                failures.push(format!("{} {} {}: got {got:?}, python {:?}", cols[0], cols[1], cols[2], cols[3]));
            }
        }
    }
    report(&failures, total);
    assert!(answered > 300, "quick_arith answered only {answered} of {total} cases");
}

#[test]
fn binary_operators_match_python() {
    let data = include_str!("data/ops.txt");
    let mut failures = Vec::new();
    let mut total = 0;
    for line in data.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "bad line {line}");
        let (a, b) = (atom(cols[0]), atom(cols[2]));
        let got = match arith_op(cols[1]) {
            Some(op) => describe(&arith(op, &a, &b)),
            None => describe(&compare(cmp_op(cols[1]), &a, &b).map(Atom::Bool)),
        };
        total += 1;
        if got != cols[3] {
            failures.push(format!("{} {} {}: got {got:?}, python {:?}", cols[0], cols[1], cols[2], cols[3]));
        }
    }
    report(&failures, total);
}

/// neg, pos, round, int, float, bool over many atoms (formatting rows are
/// checked in py_fmt.rs).
#[test]
fn unary_operators_match_python() {
    let data = include_str!("data/unary.txt");
    let mut failures = Vec::new();
    let mut total = 0;
    for line in data.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "bad line {line}");
        let a = atom(cols[1]);
        let got = match cols[0] {
            "neg" => describe(&neg(&a)),
            "pos" => describe(&pos(&a)),
            "round" => describe(&round(&a)),
            "int" => describe(&to_int(&a)),
            "float" => describe(&to_float(&a)),
            "truthy" => describe(&Ok(Atom::Bool(truthy(&a)))),
            _ => continue,
        };
        total += 1;
        if got != cols[2] {
            failures.push(format!("{}({}): got {got:?}, python {:?}", cols[0], cols[1], cols[2]));
        }
    }
    report(&failures, total);
}

fn build(runs: &[(&str, usize)]) -> String {
    runs.iter().map(|(text, n)| text.repeat(*n)).collect()
}

#[test]
fn int_of_strings_matches_python() {
    let mut failures = Vec::new();
    for (runs, expected) in INT_CASES {
        let input = build(runs);
        let got = describe(&to_int(&Atom::str(&input)));
        if got != *expected {
            failures.push(format!("int({input:?}): got {got:?}, python {expected:?}"));
        }
    }
    report(&failures, INT_CASES.len());
}

#[test]
fn float_of_strings_matches_python() {
    let mut failures = Vec::new();
    for (runs, expected) in FLOAT_CASES {
        let input = build(runs);
        let got = describe(&to_float(&Atom::str(&input)));
        if got != *expected {
            failures.push(format!("float({input:?}): got {got:?}, python {expected:?}"));
        }
    }
    report(&failures, FLOAT_CASES.len());
}

fn int(v: i64) -> Atom {
    Atom::Int(v)
}

fn float(v: f64) -> Atom {
    Atom::Float(v)
}

fn ok(r: EvalResult<Atom>) -> Atom {
    r.expect("python computes a value")
}

fn err(r: EvalResult<Atom>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Python);
            e.message
        }
    }
}

#[test]
fn factorial_25_by_repeated_multiplication() {
    let mut acc = int(1);
    for i in 1..=25 {
        acc = ok(arith(ArithOp::Mul, &acc, &int(i)));
    }
    assert_eq!(py_str(&acc), "15511210043330985984000000");
    assert!(matches!(acc, Atom::BigInt(_)));
    // and back down: exact division by repeated floor-free subtraction of the
    // last factor keeps the normal form
    let back = ok(arith(ArithOp::Sub, &acc, &acc));
    assert!(matches!(back, Atom::Int(0)));
}

#[test]
fn powers_of_two() {
    assert_eq!(py_str(&ok(arith(ArithOp::Pow, &int(2), &int(100)))), "1267650600228229401496703205376");
    assert!(matches!(ok(arith(ArithOp::Pow, &int(2), &int(62))), Atom::Int(4611686018427387904)));
    assert_eq!(py_str(&ok(arith(ArithOp::Pow, &int(2), &int(63)))), "9223372036854775808");
    assert!(matches!(ok(arith(ArithOp::Pow, &int(-2), &int(63))), Atom::Int(i64::MIN)));
    assert_eq!(py_repr(&ok(arith(ArithOp::Pow, &int(2), &int(-1)))), "0.5");
    assert_eq!(err(arith(ArithOp::Pow, &int(0), &int(-1))), "0.0 cannot be raised to a negative power");
    assert_eq!(err(arith(ArithOp::Pow, &float(10.0), &int(400))), "(34, 'Numerical result out of range')");
    assert_eq!(err(arith(ArithOp::Pow, &int(2), &int(1_000_000))), "integer result too large (over 1000000 bits)");
    let r = arith(ArithOp::Pow, &int(-8), &float(1.0 / 3.0)).expect_err("complex");
    assert_eq!(r.kind, ErrorKind::Program);
    assert_eq!(r.message, "complex numbers are not supported: (-8) ^ 0.3333333333333333");
}

#[test]
fn floored_modulo() {
    let m = |a: Atom, b: Atom| py_repr(&ok(arith(ArithOp::Mod, &a, &b)));
    assert_eq!(m(int(-7), int(3)), "2");
    assert_eq!(m(int(7), int(-3)), "-2");
    assert_eq!(m(float(-7.5), int(2)), "0.5");
    assert_eq!(m(float(7.5), int(-2)), "-0.5");
    assert_eq!(m(int(6), float(-3.0)), "-0.0");
    assert_eq!(m(int(i64::MIN), int(-1)), "0");
    assert_eq!(err(arith(ArithOp::Mod, &int(5), &float(-0.0))), "float modulo");
    assert_eq!(err(arith(ArithOp::Mod, &int(5), &int(0))), "integer modulo by zero");
    assert_eq!(err(arith(ArithOp::Div, &int(5), &int(0))), "division by zero");
    assert_eq!(err(arith(ArithOp::Div, &int(5), &float(0.0))), "float division by zero");
}

#[test]
fn true_division_of_huge_ints_is_correctly_rounded() {
    let two = |e: u32| Atom::from_bigint(Pow::pow(BigInt::from(2), e));
    let d = |a: &Atom, b: &Atom| py_repr(&ok(arith(ArithOp::Div, a, b)));
    assert_eq!(d(&two(2000), &two(1990)), "1024.0");
    assert_eq!(d(&int(1), &two(1074)), "5e-324");
    assert_eq!(d(&int(1), &two(1075)), "0.0");
    assert_eq!(d(&int(3), &two(1075)), "1e-323");
    let n: BigInt = "12345678901234567890123".parse().expect("int");
    assert_eq!(d(&Atom::from_bigint(n), &int(98765432109876543)), "124999.9988609375");
    // (2**54 + 1) / 1 rounds half to even
    assert_eq!(d(&int((1 << 54) + 1), &int(1)), "1.8014398509481984e+16");
    assert_eq!(d(&int(0), &int(-5)), "-0.0");
    assert_eq!(err(arith(ArithOp::Div, &two(1024), &int(1))), "integer division result too large for a float");
    assert_eq!(err(arith(ArithOp::Add, &two(1024), &float(1.0))), "int too large to convert to float");
    assert_eq!(to_f64(&two(1023)).expect("fits"), 8.98846567431158e307);
}

#[test]
fn bools_are_ints_in_arithmetic() {
    let t = Atom::Bool(true);
    assert!(matches!(ok(arith(ArithOp::Add, &t, &t)), Atom::Int(2)));
    assert_eq!(py_repr(&ok(arith(ArithOp::Div, &t, &int(2)))), "0.5");
    assert!(matches!(ok(arith(ArithOp::Pow, &t, &int(2))), Atom::Int(1)));
    assert!(matches!(ok(neg(&t)), Atom::Int(-1)));
    assert!(matches!(ok(pos(&t)), Atom::Int(1)));
    assert!(matches!(ok(round(&t)), Atom::Int(1)));
    assert_eq!(py_str(&ok(arith(ArithOp::Mul, &Atom::str("ab"), &t))), "ab");
}

#[test]
fn round_is_half_to_even_and_returns_int() {
    for (v, expected) in
        [(0.5, 0), (1.5, 2), (2.5, 2), (-1.5, -2), (-0.5, 0), (-2.5, -2), (3.5, 4), (0.49999999999999994, 0)]
    {
        let r = ok(round(&float(v)));
        assert!(matches!(r, Atom::Int(x) if x == expected), "round({v}) = {r:?}");
    }
    assert_eq!(py_str(&ok(round(&float(1e20)))), "100000000000000000000");
    assert_eq!(err(round(&float(f64::INFINITY))), "cannot convert float infinity to integer");
    assert_eq!(err(round(&float(f64::NAN))), "cannot convert float NaN to integer");
    assert_eq!(err(round(&Atom::str("a"))), "type str doesn't define __round__ method");
}

#[test]
fn string_operator_messages() {
    let s = Atom::str("ab");
    assert_eq!(err(arith(ArithOp::Add, &s, &int(1))), "can only concatenate str (not \"int\") to str");
    assert_eq!(err(arith(ArithOp::Add, &int(1), &s)), "unsupported operand type(s) for +: 'int' and 'str'");
    assert_eq!(err(arith(ArithOp::Mul, &s, &float(2.0))), "can't multiply sequence by non-int of type 'float'");
    assert_eq!(err(arith(ArithOp::Mul, &s, &s)), "can't multiply sequence by non-int of type 'str'");
    assert_eq!(err(arith(ArithOp::Sub, &s, &s)), "unsupported operand type(s) for -: 'str' and 'str'");
    assert_eq!(err(arith(ArithOp::Pow, &s, &int(2))), "unsupported operand type(s) for ** or pow(): 'str' and 'int'");
    assert_eq!(err(arith(ArithOp::Mod, &s, &int(2))), "not all arguments converted during string formatting");
    assert_eq!(err(arith(ArithOp::Mod, &int(2), &s)), "unsupported operand type(s) for %: 'int' and 'str'");
    let r = arith(ArithOp::Mod, &Atom::str("%d"), &int(2)).expect_err("unsupported");
    assert_eq!((r.kind, r.message.as_str()), (ErrorKind::Program, "string formatting with % is not supported"));
    assert_eq!(py_str(&ok(arith(ArithOp::Mul, &int(3), &s))), "ababab");
    assert_eq!(py_str(&ok(arith(ArithOp::Mul, &s, &int(-3)))), "");
    assert_eq!(py_str(&ok(arith(ArithOp::Add, &s, &Atom::str("c")))), "abc");
    assert_eq!(err(arith(ArithOp::Mul, &s, &int(60_000_000))), "string result too large (over 100000000 bytes)");
    assert_eq!(
        compare(CmpOp::Lt, &s, &int(1)).expect_err("mixed").message,
        "'<' not supported between instances of 'str' and 'int'"
    );
    assert!(!compare(CmpOp::Eq, &s, &int(1)).expect("== never fails"));
    assert!(compare(CmpOp::Ne, &Atom::str("1"), &int(1)).expect("!= never fails"));
    assert_eq!(err(neg(&s)), "bad operand type for unary -: 'str'");
    assert_eq!(err(pos(&s)), "bad operand type for unary +: 'str'");
    assert_eq!(err(to_int(&Atom::str("h"))), "invalid literal for int() with base 10: 'h'");
    assert_eq!(err(to_float(&Atom::str("h"))), "could not convert string to float: 'h'");
}

#[test]
fn operator_symbols() {
    let ops = [ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div, ArithOp::Mod, ArithOp::Pow];
    let syms: Vec<&str> = ops.iter().map(|op| op.symbol()).collect();
    assert_eq!(syms, ["+", "-", "*", "/", "%", "**"]);
    let cmps = [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge];
    let syms: Vec<&str> = cmps.iter().map(|op| op.symbol()).collect();
    assert_eq!(syms, ["==", "!=", "<", "<=", ">", ">="]);
}

#[test]
fn python_equality() {
    assert!(py_eq(&int(1), &float(1.0)));
    assert!(py_eq(&int(1), &Atom::Bool(true)));
    assert!(py_eq(&Atom::Bool(false), &float(-0.0)));
    assert!(!py_eq(&Atom::str("1"), &int(1)));
    assert!(!py_eq(&float(f64::NAN), &float(f64::NAN)));
    let big = Atom::from_bigint(BigInt::from(1) << 64u32);
    assert!(py_eq(&big, &float(18446744073709551616.0)));
    // 2**53 + 1 is not equal to the float 2**53, although it converts to it
    assert!(!py_eq(&int((1 << 53) + 1), &float(9007199254740992.0)));
    assert!(compare(CmpOp::Gt, &int((1 << 53) + 1), &float(9007199254740992.0)).expect("numbers"));
}

fn hash_of(k: &AtomKey) -> u64 {
    let mut h = DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

#[test]
fn atom_keys_follow_python_dict_keys() {
    let same = [
        vec![int(1), float(1.0), Atom::Bool(true)],
        vec![int(0), float(0.0), float(-0.0), Atom::Bool(false)],
        vec![Atom::from_bigint(BigInt::from(1) << 64u32), float(18446744073709551616.0)],
        vec![int(i64::MIN), float(-9223372036854775808.0)],
        vec![float(0.5), float(0.5)],
        vec![float(f64::NAN), float(-f64::NAN)],
        vec![float(f64::INFINITY), float(f64::INFINITY)],
        vec![Atom::str("1"), Atom::Str(Rc::from("1"))],
    ];
    for group in &same {
        let first = AtomKey(group[0].clone());
        for other in group {
            let k = AtomKey(other.clone());
            assert_eq!(first, k, "{:?} vs {other:?}", group[0]);
            assert_eq!(hash_of(&first), hash_of(&k), "{:?} vs {other:?}", group[0]);
        }
    }
    let mut map: HashMap<AtomKey, &str> = HashMap::new();
    map.insert(AtomKey(int(1)), "a");
    map.insert(AtomKey(Atom::Bool(true)), "b");
    map.insert(AtomKey(float(1.0)), "c");
    map.insert(AtomKey(Atom::str("1")), "d");
    map.insert(AtomKey(float(1.5)), "e");
    map.insert(AtomKey(float(f64::INFINITY)), "f");
    assert_eq!(map.len(), 4);
    assert_eq!(map[&AtomKey(int(1))], "c");
    assert_ne!(AtomKey(int(1)), AtomKey(Atom::str("1")));
    assert_ne!(AtomKey(float(1.5)), AtomKey(int(1)));
    assert_ne!(AtomKey(int((1 << 53) + 1)), AtomKey(float(9007199254740992.0)));
}

#[test]
fn small_str_of_results() {
    // the reference's sequence display of computed values (semantics.md §3.1)
    let third = ok(arith(ArithOp::Div, &int(1), &int(3)));
    assert_eq!(small_str(&third), "0.333");
}

// int() of strings: (input as runs (text, count), expected)
const INT_CASES: &[(&[(&str, usize)], &str)] = &[
    (&[("0", 1)], "int:0"),
    (&[("5", 1)], "int:5"),
    (&[(" 5 ", 1)], "int:5"),
    (&[("-5", 1)], "int:-5"),
    (&[("+5", 1)], "int:5"),
    (&[("- 5", 1)], "E:invalid literal for int() with base 10: '- 5'"),
    (&[("1_000", 1)], "int:1000"),
    (&[("1__0", 1)], "E:invalid literal for int() with base 10: '1__0'"),
    (&[("_1", 1)], "E:invalid literal for int() with base 10: '_1'"),
    (&[("1_", 1)], "E:invalid literal for int() with base 10: '1_'"),
    (&[("+_1", 1)], "E:invalid literal for int() with base 10: '+_1'"),
    (&[("-_1", 1)], "E:invalid literal for int() with base 10: '-_1'"),
    (&[("007", 1)], "int:7"),
    (&[("0_7", 1)], "int:7"),
    (&[("1.5", 1)], "E:invalid literal for int() with base 10: '1.5'"),
    (&[("h", 1)], "E:invalid literal for int() with base 10: 'h'"),
    (&[], "E:invalid literal for int() with base 10: ''"),
    (&[("  ", 1)], "E:invalid literal for int() with base 10: '  '"),
    (&[("+", 1)], "E:invalid literal for int() with base 10: '+'"),
    (&[("-", 1)], "E:invalid literal for int() with base 10: '-'"),
    (&[("\u{1c}5", 1)], "E:invalid literal for int() with base 10: '\\x1c5'"),
    (&[(" 5\u{3000}", 1)], "int:5"),
    (&[("\u{661}\u{662}", 1)], "int:12"),
    (&[("\u{660}\u{661}", 1)], "int:1"),
    (&[("1\u{0}", 1)], "E:invalid literal for int() with base 10: '1\\x00'"),
    (&[("\u{0}1", 1)], "E:invalid literal for int() with base 10: '\\x001'"),
    (&[("9223372036854775807", 1)], "int:9223372036854775807"),
    (&[("9223372036854775808", 1)], "int:9223372036854775808"),
    (&[("-9223372036854775808", 1)], "int:-9223372036854775808"),
    (&[("-9223372036854775809", 1)], "int:-9223372036854775809"),
    (&[("123456789012345678901234567890", 1)], "int:123456789012345678901234567890"),
    (&[("-000123_456", 1)], "int:-123456"),
    (&[("1", 4300)], "intbits:14282:+:71c71c71c71c71c7"),
    (
        &[("1", 4301)],
        "E:Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit",
    ),
    (
        &[("-", 1), ("9", 4301)],
        "E:Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit",
    ),
    (
        &[("1_", 4300), ("1", 1)],
        "E:Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit",
    ),
    (
        &[("1_", 4301), ("1", 1)],
        "E:Exceeds the limit (4300 digits) for integer string conversion: value has 4302 digits; use sys.set_int_max_str_digits() to increase the limit",
    ),
    (
        &[("0", 5000)],
        "E:Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit",
    ),
    (
        &[("x", 300)],
        "E:invalid literal for int() with base 10: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ),
    (
        &[("\u{e9}", 300)],
        "E:invalid literal for int() with base 10: '\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
    ),
    (
        &[("1", 5000), ("x", 1)],
        "E:Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit",
    ),
    (
        &[("x", 1), ("1", 5000)],
        "E:invalid literal for int() with base 10: 'x111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
    ),
    (
        &[("1", 4301), ("_", 1)],
        "E:invalid literal for int() with base 10: '1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
    ),
    (
        &[("1", 4301), ("__1", 1)],
        "E:invalid literal for int() with base 10: '1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
    ),
    (&[("\u{9}\u{a}\u{b}\u{c}\u{d}42\u{d}\u{a}", 1)], "int:42"),
    (&[("1e5", 1)], "E:invalid literal for int() with base 10: '1e5'"),
    (&[("inf", 1)], "E:invalid literal for int() with base 10: 'inf'"),
    (&[("nan", 1)], "E:invalid literal for int() with base 10: 'nan'"),
    (&[("'", 1)], "E:invalid literal for int() with base 10: \"'\""),
    (&[("a'b", 1)], "E:invalid literal for int() with base 10: \"a'b\""),
    (&[("a\"b", 1)], "E:invalid literal for int() with base 10: 'a\"b'"),
    (&[("a'b\"c", 1)], "E:invalid literal for int() with base 10: 'a\\'b\"c'"),
    (&[("\u{a0}5", 1)], "int:5"),
    (&[("5\u{2028}", 1)], "int:5"),
    (&[("\u{663}.\u{665}", 1)], "E:invalid literal for int() with base 10: '\u{663}.\u{665}'"),
    (&[("1 2", 1)], "E:invalid literal for int() with base 10: '1 2'"),
    (&[("0x10", 1)], "E:invalid literal for int() with base 10: '0x10'"),
    (&[("0b1", 1)], "E:invalid literal for int() with base 10: '0b1'"),
    (&[("\u{b9}", 1)], "E:invalid literal for int() with base 10: '\u{b9}'"),
    (&[("\u{1d7cf}\u{1d7ce}", 1)], "int:10"),
    (&[("1\u{301}", 1)], "E:invalid literal for int() with base 10: '1\u{301}'"),
    (&[("12\u{e9}", 1)], "E:invalid literal for int() with base 10: '12\u{e9}'"),
    (
        &[("\u{e9}", 1), ("1", 5000)],
        "E:invalid literal for int() with base 10: '\u{e9}111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111",
    ),
    (
        &[("1", 5000), ("\u{e9}", 1)],
        "E:Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit",
    ),
    (&[("\u{7f}", 1)], "E:invalid literal for int() with base 10: '\\x7f'"),
    (&[("1\u{7f}", 1)], "E:invalid literal for int() with base 10: '1\\x7f'"),
    (&[("5\u{a}", 1)], "int:5"),
    (&[("\\", 1)], "E:invalid literal for int() with base 10: '\\\\'"),
    (&[("tab\u{9}here", 1)], "E:invalid literal for int() with base 10: 'tab\\there'"),
    (&[("True", 1)], "E:invalid literal for int() with base 10: 'True'"),
    (&[("+-1", 1)], "E:invalid literal for int() with base 10: '+-1'"),
    (&[("--1", 1)], "E:invalid literal for int() with base 10: '--1'"),
    (&[("1-", 1)], "E:invalid literal for int() with base 10: '1-'"),
    (&[(" +7_7 ", 1)], "int:77"),
];

const FLOAT_CASES: &[(&[(&str, usize)], &str)] = &[
    (&[("inf", 1)], "float:inf"),
    (&[("-nan", 1)], "float:nan"),
    (&[(" 2 ", 1)], "float:2.0"),
    (&[("1e5", 1)], "float:100000.0"),
    (&[("1_0", 1)], "float:10.0"),
    (&[("1e1_0", 1)], "float:10000000000.0"),
    (&[("1_000.000_1e1_0", 1)], "float:10000001000000.0"),
    (&[("_1", 1)], "E:could not convert string to float: '_1'"),
    (&[("1._5", 1)], "E:could not convert string to float: '1._5'"),
    (&[("1_.5", 1)], "E:could not convert string to float: '1_.5'"),
    (&[(".5", 1)], "float:0.5"),
    (&[("5.", 1)], "float:5.0"),
    (&[(".", 1)], "E:could not convert string to float: '.'"),
    (&[("-.e5", 1)], "E:could not convert string to float: '-.e5'"),
    (&[("+Infinity", 1)], "float:inf"),
    (&[("iNf", 1)], "float:inf"),
    (&[("infinity", 1)], "float:inf"),
    (&[("infinit", 1)], "E:could not convert string to float: 'infinit'"),
    (&[("infinityy", 1)], "E:could not convert string to float: 'infinityy'"),
    (&[("nan(1)", 1)], "E:could not convert string to float: 'nan(1)'"),
    (&[("- 1", 1)], "E:could not convert string to float: '- 1'"),
    (&[("1e", 1)], "E:could not convert string to float: '1e'"),
    (&[("1e+", 1)], "E:could not convert string to float: '1e+'"),
    (&[("1e-", 1)], "E:could not convert string to float: '1e-'"),
    (&[("0x10", 1)], "E:could not convert string to float: '0x10'"),
    (&[("1", 400)], "float:inf"),
    (
        &[("x", 300)],
        "E:could not convert string to float: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'",
    ),
    (&[], "E:could not convert string to float: ''"),
    (&[("\u{b}1\u{c}", 1)], "float:1.0"),
    (&[("\u{1c}1", 1)], "E:could not convert string to float: '\\x1c1'"),
    (&[("\u{661}.\u{665}", 1)], "float:1.5"),
    (&[("1e500", 1)], "float:inf"),
    (&[("-1e-500", 1)], "float:-0.0"),
    (&[("0.1", 1)], "float:0.1"),
    (&[("1_", 1)], "E:could not convert string to float: '1_'"),
    (&[("1__0", 1)], "E:could not convert string to float: '1__0'"),
    (&[("1\u{0}", 1)], "E:could not convert string to float: '1\\x00'"),
    (&[("+.5e-3", 1)], "float:0.0005"),
    (&[("1E+5", 1)], "float:100000.0"),
    (&[("  -0  ", 1)], "float:-0.0"),
    (&[("NaN", 1)], "float:nan"),
    (&[("-iNF", 1)], "float:-inf"),
    (&[("1.5e3.2", 1)], "E:could not convert string to float: '1.5e3.2'"),
    (&[("\u{3000}1.25\u{3000}", 1)], "float:1.25"),
    (&[("1,5", 1)], "E:could not convert string to float: '1,5'"),
    (&[("1.5f", 1)], "E:could not convert string to float: '1.5f'"),
    (&[("\u{e9}", 1)], "E:could not convert string to float: '\u{e9}'"),
    (&[("2.5\u{e9}", 1)], "E:could not convert string to float: '2.5\u{e9}'"),
    (&[("9007199254740993", 1)], "float:9007199254740992.0"),
    (&[("0.3", 1), ("0", 15), ("4", 1)], "float:0.30000000000000004"),
    (&[("1e-324", 1)], "float:0.0"),
    (&[("2.4703282292062328e-324", 1)], "float:5e-324"),
    (&[("4.9406564584124654e-324", 1)], "float:5e-324"),
    (&[("1.7976931348623157e308", 1)], "float:1.7976931348623157e+308"),
    (&[("1.7976931348623159e308", 1)], "float:inf"),
    (&[("123456789012345678901234567890.5", 1)], "float:1.2345678901234568e+29"),
    (&[("5", 1)], "float:5.0"),
    (&[("-0", 1)], "float:-0.0"),
    (&[("1e1", 1), ("0", 12)], "float:inf"),
    (&[("0e99999", 1)], "float:0.0"),
    (&[("'x'", 1)], "E:could not convert string to float: \"'x'\""),
    (&[("+", 1)], "E:could not convert string to float: '+'"),
    (&[("-", 1)], "E:could not convert string to float: '-'"),
    (&[("e5", 1)], "E:could not convert string to float: 'e5'"),
    (&[("1.e5", 1)], "float:100000.0"),
    (&[(".e5", 1)], "E:could not convert string to float: '.e5'"),
    (&[("1_e5", 1)], "E:could not convert string to float: '1_e5'"),
    (&[("1e_5", 1)], "E:could not convert string to float: '1e_5'"),
    (&[("  nan  ", 1)], "float:nan"),
    (&[("in f", 1)], "E:could not convert string to float: 'in f'"),
    (&[("1 .5", 1)], "E:could not convert string to float: '1 .5'"),
    (&[("0000.5", 1)], "float:0.5"),
];
