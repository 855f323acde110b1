//! Python 3.11 printed forms (semantics.md §2.1, §3.1): repr(float), round(x, n),
//! repr(str), str(v), and the reference's sequence-element text. Expected
//! values were computed once with python3 and stored as literals / in
//! `tests/data/float_repr.txt`, `round_ndigits.txt` and `unary.txt`.

use num_bigint::BigInt;
use num_traits::Pow;
use rasp_core::pyfmt::{float_repr, py_repr, py_str, py_str_checked, round_ndigits, small_str, str_repr};
use rasp_core::{Atom, ErrorKind};

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

fn from_hex(bits: &str) -> f64 {
    f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"))
}

#[test]
fn float_repr_examples() {
    let cases: &[(f64, &str)] = &[
        (0.1 + 0.2, "0.30000000000000004"),
        (2.0, "2.0"),
        (1e17, "1e+17"),
        (1.2e-5, "1.2e-05"),
        (1e16, "1e+16"),
        (9999999999999998.0, "9999999999999998.0"),
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
        (-f64::NAN, "nan"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (123456789.0, "123456789.0"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (900_719_925_474_099.0 + 0.25, "900719925474099.2"),
        (900_719_925_474_099.0 + 0.75, "900719925474099.8"),
        (-1.5, "-1.5"),
    ];
    for (v, expected) in cases {
        assert_eq!(float_repr(*v), *expected, "repr of {v:e}");
    }
}

/// `bits_hex repr` lines from python3: random bit patterns, random
/// magnitudes from 1e-325 to 1e308, integers, short decimals and exact ties.
#[test]
fn float_repr_matches_python() {
    let data = include_str!("data/float_repr.txt");
    let mut failures = Vec::new();
    let mut total = 0;
    for line in data.lines() {
        let (bits, expected) = line.split_once(' ').expect("two columns");
        let got = float_repr(from_hex(bits));
        total += 1;
        if got != expected {
            failures.push(format!("{bits}: got {got}, python {expected}"));
        }
    }
    report(&failures, total);
}

/// `bits_hex ndigits result_bits_hex` lines from python3's round(x, n)
/// ("overflow" where Python raises OverflowError; we give an infinity).
#[test]
fn round_ndigits_matches_python() {
    let data = include_str!("data/round_ndigits.txt");
    let mut failures = Vec::new();
    let mut total = 0;
    for line in data.lines() {
        let cols: Vec<&str> = line.split(' ').collect();
        assert_eq!(cols.len(), 3, "bad line {line}");
        let x = from_hex(cols[0]);
        let n: i32 = cols[1].parse().expect("ndigits");
        let got = round_ndigits(x, n);
        let ok = if cols[2] == "overflow" {
            got.is_infinite()
        } else {
            let want = from_hex(cols[2]);
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan())
        };
        total += 1;
        if !ok {
            failures.push(format!("round({x:e}, {n}): got {got:e}, python {}", cols[2]));
        }
    }
    report(&failures, total);
}

#[test]
fn round_ndigits_examples() {
    let cases: &[(f64, i32, &str)] = &[
        (0.0625, 3, "0.062"),
        (1.0005, 3, "1.0"),
        (0.0005, 3, "0.001"),
        (2.675, 2, "2.67"),
        (0.125, 2, "0.12"),
        (0.375, 2, "0.38"),
        (-0.0001, 3, "-0.0"),
        (1.0 / 3.0, 3, "0.333"),
        (2.0005, 3, "2.001"),
        (1e20, 3, "1e+20"),
        (1234.5, -1, "1230.0"),
        (1.7e308, 400, "1.7e+308"),
        (1.5, -400, "0.0"),
        (-1.5, -400, "-0.0"),
    ];
    for (v, n, expected) in cases {
        assert_eq!(float_repr(round_ndigits(*v, *n)), *expected, "round({v}, {n})");
    }
}

#[test]
fn str_repr_matches_python() {
    let mut failures = Vec::new();
    for (input, expected) in STR_REPR_CASES {
        let got = str_repr(input);
        if got != *expected {
            failures.push(format!("repr({input:?}): got {got}, python {expected}"));
        }
    }
    report(&failures, STR_REPR_CASES.len());
}

/// `b:True`, `i:3`, `I:2**1100` / `I:<decimal>`, `f:<repr>`, `s:<raw>`.
fn atom(text: &str) -> Atom {
    let (tag, body) = text.split_once(':').expect("tagged atom");
    match tag {
        "b" => Atom::Bool(body == "True"),
        "i" => Atom::Int(body.parse().expect("i64")),
        "I" => Atom::from_bigint(match body.split_once("**") {
            Some((b, e)) => Pow::pow(BigInt::from(b.parse::<i64>().expect("base")), e.parse::<u32>().expect("exp")),
            None => body.parse::<BigInt>().expect("bigint"),
        }),
        "f" => Atom::Float(body.parse().expect("float")),
        "s" => Atom::str(body),
        _ => panic!("bad atom {text}"),
    }
}

/// str(v), repr(v) and the sequence-element text over many atoms.
#[test]
fn atom_text_matches_python() {
    let data = include_str!("data/unary.txt");
    let mut failures = Vec::new();
    let mut total = 0;
    for line in data.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "bad line {line}");
        let a = atom(cols[1]);
        let got = match cols[0] {
            "str" => py_str(&a),
            "repr" => py_repr(&a),
            "small" => small_str(&a),
            _ => continue,
        };
        total += 1;
        let expected = cols[2].strip_prefix("text:").expect("text result");
        if got != expected {
            failures.push(format!("{}({}): got {got:?}, python {expected:?}", cols[0], cols[1]));
        }
    }
    report(&failures, total);
}

#[test]
fn sequence_element_text() {
    // semantics.md §3.1
    let cases: &[(Atom, &str)] = &[
        (Atom::Float(1.0 / 3.0), "0.333"),
        (Atom::Float(1.0), "1.0"),
        (Atom::Float(-0.0), "-0.0"),
        (Atom::Float(2.0005), "2.001"),
        (Atom::Float(1e20), "1e+20"),
        (Atom::Float(0.0005), "0.001"),
        (Atom::Float(1.0005), "1.0"),
        (Atom::Bool(true), "T"),
        (Atom::Bool(false), "F"),
        (Atom::Int(-5), "-5"),
        (Atom::str(""), ""),
        (Atom::str(" "), " "),
        (Atom::str("it's"), "it's"),
    ];
    for (a, expected) in cases {
        assert_eq!(small_str(a), *expected, "{a:?}");
    }
    assert_eq!(py_repr(&Atom::str("it's")), "\"it's\"");
    assert_eq!(py_str(&Atom::Bool(true)), "True");
}

#[test]
fn int_digit_limit_of_str() {
    let big = |e: u32| Atom::from_bigint(Pow::pow(BigInt::from(10), e));
    assert_eq!(py_str_checked(&big(4299)).expect("4300 digits").len(), 4300);
    let err = py_str_checked(&big(4300)).expect_err("4301 digits");
    assert_eq!(err.kind, ErrorKind::Python);
    assert_eq!(
        err.message,
        "Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"
    );
    assert_eq!(py_str(&big(4300)).len(), 4301);
}

const STR_REPR_CASES: &[(&str, &str)] = &[
    ("abc", "'abc'"),
    ("", "''"),
    ("it's", "\"it's\""),
    ("say \"hi\"", "'say \"hi\"'"),
    ("both ' and \"", "'both \\' and \"'"),
    ("back\\slash", "'back\\\\slash'"),
    ("\u{9}\u{a}\u{d}", "'\\t\\n\\r'"),
    ("\u{0}\u{1}\u{1f}\u{7f}", "'\\x00\\x01\\x1f\\x7f'"),
    ("\u{80}\u{9f}\u{a0}\u{ad}", "'\\x80\\x9f\\xa0\\xad'"),
    ("\u{e9}\u{a7}\u{fc}", "'\u{e9}\u{a7}\u{fc}'"),
    ("\u{200b}", "'\\u200b'"),
    ("\u{2028}", "'\\u2028'"),
    ("\u{feff}", "'\\ufeff'"),
    ("\u{1f600}", "'\u{1f600}'"),
    ("\u{e0001}", "'\\U000e0001'"),
    ("\u{378}", "'\\u0378'"),
    ("\u{e000}", "'\\ue000'"),
    ("\u{10ffff}", "'\\U0010ffff'"),
    ("\u{65e5}\u{672c}\u{8a9e}", "'\u{65e5}\u{672c}\u{8a9e}'"),
    ("\u{3000}", "'\\u3000'"),
    (" ", "' '"),
    ("\u{b}\u{c}", "'\\x0b\\x0c'"),
    ("a\u{301}", "'a\u{301}'"),
    ("\u{a0}", "'\\xa0'"),
    ("'", "\"'\""),
    ("\"", "'\"'"),
    ("''\"", "'\\'\\'\"'"),
    ("\\'", "\"\\\\'\""),
    ("\u{1b}[0m", "'\\x1b[0m'"),
    ("\u{600}", "'\\u0600'"),
    ("\u{1d7ce}", "'\u{1d7ce}'"),
    ("\u{f0000}", "'\\U000f0000'"),
    ("\u{61c}", "'\\u061c'"),
    ("\u{2066}", "'\\u2066'"),
    ("\u{30000}", "'\u{30000}'"),
    ("\u{3134a}", "'\u{3134a}'"),
    ("\u{3134b}", "'\\U0003134b'"),
    ("\u{85}", "'\\x85'"),
    ("\u{ff}\u{100}", "'\u{ff}\u{100}'"),
    ("\u{ffff}", "'\\uffff'"),
    ("\u{10000}", "'\u{10000}'"),
    ("%d", "'%d'"),
    ("{}", "'{}'"),
    ("&\u{20b20}\u{2e6}", "'&\u{20b20}\u{2e6}'"),
    ("\u{3171e}l\u{f}\u{37b}", "'\\U0003171el\\x0f\u{37b}'"),
    ("\u{3f4f4}N\u{34e26}\u{21840}", "'\\U0003f4f4N\\U00034e26\u{21840}'"),
    ("\u{2c0b}\u{25f9}", "'\u{2c0b}\u{25f9}'"),
    ("?\u{221c}r", "'?\u{221c}r'"),
    ("k\u{1712f}\u{2437}\u{1014c2}\u{4e6}", "'k\u{1712f}\\u2437\\U001014c2\u{4e6}'"),
    ("\u{a184d}\u{c8867}\u{1f1}\u{2799}", "'\\U000a184d\\U000c8867\u{1f1}\u{2799}'"),
    ("\u{4538e}", "'\\U0004538e'"),
    ("e\u{d0a45}", "'e\\U000d0a45'"),
    ("\u{918d3}j&", "'\\U000918d3j&'"),
    ("\u{fb4d0}.", "'\\U000fb4d0.'"),
    ("\u{c00ec}\u{10aee7}", "'\\U000c00ec\\U0010aee7'"),
    ("\u{1db9}\u{19b9}f5W\u{50729}", "'\u{1db9}\u{19b9}f5W\\U00050729'"),
    ("]", "']'"),
    ("\u{a01}]", "'\u{a01}]'"),
    ("\u{1f3e}\u{3751e}\u{2fe1})", "'\u{1f3e}\\U0003751e\\u2fe1)'"),
    ("\u{10d88}\u{3198e}B\u{ec2}9", "'\\U00010d88\\U0003198eB\u{ec2}9'"),
    ("\u{d4b}[G\u{1d1f}", "'\u{d4b}[G\u{1d1f}'"),
    ("\u{709}", "'\u{709}'"),
    ("\u{fa1e5}\u{b321a}", "'\\U000fa1e5\\U000b321a'"),
    ("\u{195d}", "'\u{195d}'"),
    ("o\u{d0829}", "'o\\U000d0829'"),
    ("(", "'('"),
    ("\u{4dd75}y", "'\\U0004dd75y'"),
    ("\u{a4ad}\u{2233}\u{e01}6S", "'\u{a4ad}\u{2233}\u{e01}6S'"),
    ("\u{1dd2}", "'\u{1dd2}'"),
    ("\u{50bd7}\u{60c05}\u{1}\u{409cc}\u{10c650}", "'\\U00050bd7\\U00060c05\\x01\\U000409cc\\U0010c650'"),
    ("{0s\u{105d7d}\u{2cd5}", "'{0s\\U00105d7d\u{2cd5}'"),
    ("\u{81ccb}\u{244f}\u{1b2a}\u{2824c}=", "'\\U00081ccb\\u244f\u{1b2a}\u{2824c}='"),
    ("\u{5213a}]\u{e8d}|\u{217f}\u{d07}", "'\\U0005213a]\u{e8d}|\u{217f}\u{d07}'"),
    ("\u{b00ba}", "'\\U000b00ba'"),
    ("\u{2d80}\u{9a45c}\u{10}\u{15}", "'\u{2d80}\\U0009a45c\\x10\\x15'"),
    ("\u{db31b}\u{4f79f}", "'\\U000db31b\\U0004f79f'"),
    ("~\u{42e}\u{b9e2}\u{2de04}8", "'~\u{42e}\u{b9e2}\u{2de04}8'"),
    ("\u{1634}!)\u{9f29a}", "'\u{1634}!)\\U0009f29a'"),
    ("\u{1030b9}-", "'\\U001030b9-'"),
    ("\u{c702}0\u{e0466}", "'\u{c702}0\\U000e0466'"),
    ("\u{a095b}7#\u{2735c}", "'\\U000a095b7#\u{2735c}'"),
    ("A\u{c602e}\u{7f035}K(\u{ab690}", "'A\\U000c602e\\U0007f035K(\\U000ab690'"),
    (">\u{c35}\u{5de}", "'>\u{c35}\u{5de}'"),
    ("3\u{17}\u{260e}\u{9ec5f}\u{527d3}", "'3\\x17\u{260e}\\U0009ec5f\\U000527d3'"),
    ("cHm\u{4}\u{4724c}\u{736}", "'cHm\\x04\\U0004724c\u{736}'"),
    ("\u{ca57}>\u{104856}\u{24d15}\u{10a3}", "'\u{ca57}>\\U00104856\u{24d15}\u{10a3}'"),
    ("\u{f44}\u{f840d}", "'\u{f44}\\U000f840d'"),
    ("\u{b}\u{85047}M", "'\\x0b\\U00085047M'"),
    ("\u{8c9c9}\u{72758}\u{131d}v", "'\\U0008c9c9\\U00072758\u{131d}v'"),
    ("\u{1472}\u{4}s5\u{46e4c}", "'\u{1472}\\x04s5\\U00046e4c'"),
    ("G\u{7f}\u{febf9}\u{9d995}\u{1b22}P", "'G\\x7f\\U000febf9\\U0009d995\u{1b22}P'"),
    ("V\u{2fda}\u{4a8}", "'V\\u2fda\u{4a8}'"),
    ("\u{1795}\u{c}I\u{1c6b}0", "'\u{1795}\\x0cI\u{1c6b}0'"),
    ("\u{6b28b}\u{3aa}\u{29bf}\u{c}\u{1b0d}\u{10de}", "'\\U0006b28b\u{3aa}\u{29bf}\\x0c\u{1b0d}\u{10de}'"),
    ("\u{fa63a}\u{58ac9}\u{6d6e4}\u{23b9}U1", "'\\U000fa63a\\U00058ac9\\U0006d6e4\u{23b9}U1'"),
    ("\u{14ef}B\u{d6e88}", "'\u{14ef}B\\U000d6e88'"),
    ("\u{189e}\u{91169}\u{104bd1}7\u{1a15}", "'\u{189e}\\U00091169\\U00104bd17\u{1a15}'"),
    ("\u{8a4}y\u{198e}", "'\u{8a4}y\u{198e}'"),
    ("\u{1b}\u{1b}", "'\\x1b\\x1b'"),
    ("\u{a}\u{9}\u{e2f6e}\u{6dd}1", "'\\n\\t\\U000e2f6e\\u06dd1'"),
    ("\u{12b}\u{14bf}<i\u{102228}", "'\u{12b}\u{14bf}<i\\U00102228'"),
    ("k\u{1831}\u{b0151}k\u{1}\u{2039}", "'k\u{1831}\\U000b0151k\\x01\u{2039}'"),
    ("\u{1e44}\u{100d4d}", "'\u{1e44}\\U00100d4d'"),
];
