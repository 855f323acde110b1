//! Python 3.11 semantics of the operators the reference applies to atoms
//! (semantics.md §2.1, §2.4): arithmetic, comparisons, truthiness, unary
//! operators, `round`, `int()`, `float()` and dict-key equality; and, for
//! plain values (lists, dicts), [`value_arith`], [`value_compare`] and
//! [`list_contains`].
//!
//! The reference simply applies Python operators, so results, error texts and
//! the int/float/bool interplay here follow CPython 3.11 (`Objects/longobject.c`,
//! `Objects/floatobject.c`, `Objects/unicodeobject.c`). Deliberate deviations,
//! all on inputs that would hang, exhaust memory or need complex numbers:
//! * a negative number to a fractional power is a RASP error when Python
//!   would return a complex number (which RASP sequences cannot hold);
//! * int products and powers over [`MAX_POW_BITS`] bits and strings over [`MAX_STR_BYTES`]
//!   bytes are refused with a Python-kind error;
//! * `str % x` is only supported when `str` holds no `%` (then Python's
//!   TypeError is reproduced).

use crate::atom::Atom;
use crate::error::{EvalError, EvalResult};
use crate::pyfmt::{py_repr, str_repr};
use num_bigint::{BigInt, BigUint};
use num_integer::Integer;
use num_traits::{FromPrimitive, Pow, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

pub use crate::value::{list_contains, value_arith, value_compare};

/// Largest int result of `**` or `*` computed, in bits (Python would
/// compute any size, possibly for hours, or run out of memory).
pub const MAX_POW_BITS: u64 = 1_000_000;

/// Largest string built by `*` or `+`, in bytes (Python would try to
/// allocate any size).
pub const MAX_STR_BYTES: usize = 100_000_000;

/// CPython's default `sys.get_int_max_str_digits()`: `int()` of a longer
/// string of digits, and `str()` of a longer int (see
/// [`py_str_checked`](crate::pyfmt::py_str_checked)), raise ValueError.
pub const INT_MAX_STR_DIGITS: usize = 4300;

/// A binary arithmetic operator. `Div` is true division `/`; `Pow` is
/// Python's `pow(a, b)` (RASP's `^`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+`: addition, or concatenation of strs (and of lists).
    Add,
    /// `-`
    Sub,
    /// `*`: multiplication, or repetition of a str (or list) by an int.
    Mul,
    /// `/`: true division, always a float (`4 / 2 == 2.0`).
    Div,
    /// `%`: floored modulo, the sign of the divisor (`-7 % 3 == 2`).
    Mod,
    /// `**`, written `^` in RASP.
    Pow,
}

/// A comparison operator. `==` and `!=` compare any two atoms (a str never
/// equals a number); the orderings raise Python's TypeError between a str
/// and a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl ArithOp {
    /// The operator as Python spells it (`**` for `Pow`).
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
            ArithOp::Pow => "**",
        }
    }
}

impl CmpOp {
    /// The operator as Python spells it.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::Ne => ord != Ordering::Equal,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::Le => ord != Ordering::Greater,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::Ge => ord != Ordering::Less,
        }
    }
}

// ---------------------------------------------------------------------------
// Classification

/// An int operand (bools count as ints, as in Python).
#[derive(Clone, Copy)]
enum IntRef<'a> {
    Small(i64),
    Big(&'a BigInt),
}

impl IntRef<'_> {
    fn to_big(self) -> BigInt {
        match self {
            IntRef::Small(v) => BigInt::from(v),
            IntRef::Big(v) => v.clone(),
        }
    }

    /// Bits of the magnitude (0 for zero).
    fn bits(self) -> u64 {
        match self {
            IntRef::Small(v) => u64::from(64 - v.unsigned_abs().leading_zeros()),
            IntRef::Big(v) => v.bits(),
        }
    }

    fn is_zero(self) -> bool {
        match self {
            IntRef::Small(v) => v == 0,
            IntRef::Big(v) => v.is_zero(),
        }
    }

    fn is_negative(self) -> bool {
        match self {
            IntRef::Small(v) => v < 0,
            IntRef::Big(v) => v.is_negative(),
        }
    }
}

enum Kind<'a> {
    Int(IntRef<'a>),
    Float(f64),
    Str(&'a str),
}

fn kind(a: &Atom) -> Kind<'_> {
    match a {
        Atom::Bool(b) => Kind::Int(IntRef::Small(i64::from(*b))),
        Atom::Int(v) => Kind::Int(IntRef::Small(*v)),
        Atom::BigInt(v) => Kind::Int(IntRef::Big(v)),
        Atom::Float(v) => Kind::Float(*v),
        Atom::Str(s) => Kind::Str(s),
    }
}

fn int_atom(v: BigInt) -> Atom {
    Atom::from_bigint(v)
}

fn unsupported(op: ArithOp, a: &Atom, b: &Atom) -> EvalError {
    let sym = match op {
        ArithOp::Pow => "** or pow()",
        other => other.symbol(),
    };
    EvalError::python(format!("unsupported operand type(s) for {sym}: '{}' and '{}'", a.type_name(), b.type_name()))
}

// ---------------------------------------------------------------------------
// Binary arithmetic

/// `a OP b` with Python semantics: ints stay exact (promoting to big ints),
/// an int and a float give a float, `True` counts as 1, strs concatenate
/// and repeat; failures are Python's errors, worded as Python words them.
pub fn arith(op: ArithOp, a: &Atom, b: &Atom) -> EvalResult<Atom> {
    match (kind(a), kind(b)) {
        (Kind::Int(x), Kind::Int(y)) => int_arith(op, x, y, a, b),
        (Kind::Str(_), _) | (_, Kind::Str(_)) => str_arith(op, a, b),
        _ => {
            // int.__op__(float) defers to float, which converts the int
            // (OverflowError for huge ints) — left operand first.
            let x = to_f64(a)?;
            let y = to_f64(b)?;
            float_arith(op, x, y, a, b).map(Atom::Float)
        }
    }
}

/// `arith` where it is plain machine arithmetic: `+ - *` and `/` on small
/// ints and floats (bools excluded), without overflow into big ints and
/// without an error; `None` for everything else, which `arith` decides.
/// The same values as `arith`, by the same operations, for the fast
/// engine's maps, which apply an operation to every position.
pub fn quick_arith(op: ArithOp, a: &Atom, b: &Atom) -> Option<Atom> {
    const EXACT: i64 = 1 << 53;
    let float = |x: f64, y: f64| match op {
        ArithOp::Add => Some(Atom::Float(x + y)),
        ArithOp::Sub => Some(Atom::Float(x - y)),
        ArithOp::Mul => Some(Atom::Float(x * y)),
        ArithOp::Div if y != 0.0 => Some(Atom::Float(x / y)),
        ArithOp::Div | ArithOp::Mod | ArithOp::Pow => None,
    };
    match (a, b) {
        (Atom::Int(p), Atom::Int(q)) => match op {
            ArithOp::Add => p.checked_add(*q).map(Atom::Int),
            ArithOp::Sub => p.checked_sub(*q).map(Atom::Int),
            ArithOp::Mul => p.checked_mul(*q).map(Atom::Int),
            ArithOp::Div if *q != 0 && (-EXACT..=EXACT).contains(p) && (-EXACT..=EXACT).contains(q) => {
                Some(Atom::Float(*p as f64 / *q as f64))
            }
            ArithOp::Div | ArithOp::Mod | ArithOp::Pow => None,
        },
        // `to_f64` converts an int with `as`, as here.
        (Atom::Float(x), Atom::Float(y)) => float(*x, *y),
        (Atom::Int(p), Atom::Float(y)) => float(*p as f64, *y),
        (Atom::Float(x), Atom::Int(q)) => float(*x, *q as f64),
        _ => None,
    }
}

fn int_arith(op: ArithOp, x: IntRef, y: IntRef, a: &Atom, b: &Atom) -> EvalResult<Atom> {
    match op {
        ArithOp::Add => Ok(match (x, y) {
            (IntRef::Small(p), IntRef::Small(q)) => match p.checked_add(q) {
                Some(v) => Atom::Int(v),
                None => int_atom(BigInt::from(p) + q),
            },
            _ => int_atom(x.to_big() + y.to_big()),
        }),
        ArithOp::Sub => Ok(match (x, y) {
            (IntRef::Small(p), IntRef::Small(q)) => match p.checked_sub(q) {
                Some(v) => Atom::Int(v),
                None => int_atom(BigInt::from(p) - q),
            },
            _ => int_atom(x.to_big() - y.to_big()),
        }),
        ArithOp::Mul => Ok(match (x, y) {
            (IntRef::Small(p), IntRef::Small(q)) => match p.checked_mul(q) {
                Some(v) => Atom::Int(v),
                None => int_atom(BigInt::from(p) * q),
            },
            _ => {
                // A product has at most the sum of its factors' bits.
                if x.bits().saturating_add(y.bits()) > MAX_POW_BITS + 1 {
                    return Err(EvalError::python(format!("integer result too large (over {MAX_POW_BITS} bits)")));
                }
                int_atom(x.to_big() * y.to_big())
            }
        }),
        ArithOp::Div => int_true_div(x, y).map(Atom::Float),
        ArithOp::Mod => {
            if y.is_zero() {
                return Err(EvalError::python("integer modulo by zero"));
            }
            Ok(match (x, y) {
                (IntRef::Small(p), IntRef::Small(q)) => match p.checked_rem(q) {
                    // floored: the result takes the sign of the divisor
                    Some(r) if r != 0 && ((r < 0) != (q < 0)) => Atom::Int(r + q),
                    Some(r) => Atom::Int(r),
                    // i64::MIN % -1
                    None => Atom::Int(0),
                },
                _ => int_atom(x.to_big().mod_floor(&y.to_big())),
            })
        }
        ArithOp::Pow => int_pow(x, y, a, b),
    }
}

fn int_pow(x: IntRef, y: IntRef, a: &Atom, b: &Atom) -> EvalResult<Atom> {
    if y.is_negative() {
        // long_pow hands negative exponents to float_pow (converting both).
        let fx = to_f64(a)?;
        let fy = to_f64(b)?;
        return float_pow(fx, fy, a, b).map(Atom::Float);
    }
    if y.is_zero() {
        return Ok(Atom::Int(1));
    }
    // Bases whose powers stay small, for any exponent.
    if let IntRef::Small(base @ -1..=1) = x {
        let odd = match y {
            IntRef::Small(e) => e % 2 == 1,
            IntRef::Big(e) => e.is_odd(),
        };
        return Ok(Atom::Int(if base == -1 && !odd { 1 } else { base }));
    }
    let too_large = || EvalError::python(format!("integer result too large (over {MAX_POW_BITS} bits)"));
    let exp = match y {
        IntRef::Small(e) if (e as u64) <= MAX_POW_BITS => e as u64,
        _ => return Err(too_large()),
    };
    if let IntRef::Small(base) = x
        && let Ok(e32) = u32::try_from(exp)
        && let Some(v) = base.checked_pow(e32)
    {
        return Ok(Atom::Int(v));
    }
    let base = x.to_big();
    // |base| >= 2, so the result has at least (bits - 1) * exp + 1 bits.
    let bits = base.bits();
    if (bits - 1).saturating_mul(exp).saturating_add(1) > MAX_POW_BITS {
        return Err(too_large());
    }
    let e32 = u32::try_from(exp).map_err(|_| too_large())?;
    let result: BigInt = Pow::pow(&base, e32);
    if result.bits() > MAX_POW_BITS {
        return Err(too_large());
    }
    Ok(int_atom(result))
}

/// `2**e` for `-1022 <= e <= 1023`.
fn pow2(e: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `x * 2**e`, rounding only once (callers pass values that are exact).
fn ldexp(x: f64, e: i64) -> f64 {
    if e > 1023 {
        x * pow2(1023) * pow2((e - 1023).min(1023))
    } else if e < -1022 {
        x * pow2(-1022) * pow2((e + 1022).max(-1022))
    } else {
        x * pow2(e)
    }
}

/// Python's int / int: correctly rounded (CPython's `long_true_divide`).
fn int_true_div(x: IntRef, y: IntRef) -> EvalResult<f64> {
    if y.is_zero() {
        return Err(EvalError::python("division by zero"));
    }
    const EXACT: i64 = 1 << 53;
    if let (IntRef::Small(p), IntRef::Small(q)) = (x, y)
        && (-EXACT..=EXACT).contains(&p)
        && (-EXACT..=EXACT).contains(&q)
    {
        return Ok(p as f64 / q as f64);
    }
    let a = x.to_big();
    let b = y.to_big();
    let negate = a.is_negative() != b.is_negative();
    let signed = |v: f64| if negate { -v } else { v };
    let a = a.magnitude();
    let b = b.magnitude();
    if a.is_zero() {
        return Ok(signed(0.0));
    }
    const DBL_MANT_DIG: i64 = 53;
    const DBL_MIN_EXP: i64 = -1021;
    const DBL_MAX_EXP: i64 = 1024;
    let overflow = || EvalError::python("integer division result too large for a float");
    let diff = a.bits() as i64 - b.bits() as i64;
    if diff > DBL_MAX_EXP {
        return Err(overflow());
    }
    if diff < DBL_MIN_EXP - DBL_MANT_DIG - 1 {
        return Ok(signed(0.0));
    }
    // Scale so that the quotient has DBL_MANT_DIG + 2 or + 3 bits (or fewer
    // for a subnormal result), then round half-to-even with a sticky bit.
    let shift = diff.max(DBL_MIN_EXP) - DBL_MANT_DIG - 2;
    let (q, r) = if shift <= 0 {
        let n: BigUint = a << ((-shift) as u64);
        n.div_rem(b)
    } else {
        let d: BigUint = b << (shift as u64);
        a.div_rem(&d)
    };
    let x_bits = q.bits() as i64;
    let extra_bits = x_bits.max(DBL_MIN_EXP - shift) - DBL_MANT_DIG;
    let mut low = q.to_u64().ok_or_else(overflow)? | u64::from(!r.is_zero());
    let mask = 1u64 << (extra_bits - 1);
    if (low & mask) != 0 && (low & (3 * mask - 1)) != 0 {
        low += mask;
    }
    low &= !(2 * mask - 1);
    let v = ldexp(low as f64, shift);
    if v.is_infinite() {
        return Err(overflow());
    }
    Ok(signed(v))
}

fn float_arith(op: ArithOp, x: f64, y: f64, a: &Atom, b: &Atom) -> EvalResult<f64> {
    match op {
        ArithOp::Add => Ok(x + y),
        ArithOp::Sub => Ok(x - y),
        ArithOp::Mul => Ok(x * y),
        ArithOp::Div => {
            if y == 0.0 {
                Err(EvalError::python("float division by zero"))
            } else {
                Ok(x / y)
            }
        }
        ArithOp::Mod => float_mod(x, y),
        ArithOp::Pow => float_pow(x, y, a, b),
    }
}

/// CPython's `float_rem`: the result has the sign of the divisor.
fn float_mod(x: f64, y: f64) -> EvalResult<f64> {
    if y == 0.0 {
        return Err(EvalError::python("float modulo"));
    }
    let m = x % y; // C fmod
    if m != 0.0 {
        if (y < 0.0) != (m < 0.0) {
            return Ok(m + y);
        }
        Ok(m)
    } else {
        Ok(0.0f64.copysign(y))
    }
}

fn is_odd_integer(v: f64) -> bool {
    v.abs() % 2.0 == 1.0
}

/// CPython's `float_pow` (special cases sorted out before libm `pow`).
fn float_pow(iv: f64, iw: f64, a: &Atom, b: &Atom) -> EvalResult<f64> {
    if iw == 0.0 {
        return Ok(1.0);
    }
    if iv.is_nan() {
        return Ok(iv);
    }
    if iw.is_nan() {
        return Ok(if iv == 1.0 { 1.0 } else { iw });
    }
    if iw.is_infinite() {
        let av = iv.abs();
        return Ok(if av == 1.0 {
            1.0
        } else if (iw > 0.0) == (av > 1.0) {
            f64::INFINITY
        } else {
            0.0
        });
    }
    if iv.is_infinite() {
        let odd = is_odd_integer(iw);
        return Ok(if iw > 0.0 {
            if odd { iv } else { iv.abs() }
        } else if odd {
            0.0f64.copysign(iv)
        } else {
            0.0
        });
    }
    if iv == 0.0 {
        if iw < 0.0 {
            return Err(EvalError::python("0.0 cannot be raised to a negative power"));
        }
        return Ok(if is_odd_integer(iw) { iv } else { 0.0 });
    }
    let mut base = iv;
    let mut negate = false;
    if iv < 0.0 {
        if iw != iw.floor() {
            // Python hands this to complex pow: OverflowError when the
            // modulus |iv| ** iw overflows, else a complex number.
            if (-iv).powf(iw).is_infinite() {
                return Err(EvalError::python("complex exponentiation"));
            }
            return Err(EvalError::rasp(format!(
                "complex numbers are not supported: ({}) ^ {}",
                py_repr(a),
                py_repr(b)
            )));
        }
        base = -iv;
        negate = is_odd_integer(iw);
    }
    if base == 1.0 {
        return Ok(if negate { -1.0 } else { 1.0 });
    }
    let r = base.powf(iw);
    if r.is_infinite() {
        return Err(EvalError::python("(34, 'Numerical result out of range')"));
    }
    Ok(if negate { -r } else { r })
}

fn check_str_size(bytes: Option<usize>) -> EvalResult<()> {
    match bytes {
        Some(n) if n <= MAX_STR_BYTES => Ok(()),
        _ => Err(EvalError::python(format!("string result too large (over {MAX_STR_BYTES} bytes)"))),
    }
}

fn repeat_str(s: &str, count: IntRef) -> EvalResult<Atom> {
    let n = match count {
        IntRef::Small(n) => n,
        IntRef::Big(_) => {
            return Err(EvalError::python("cannot fit 'int' into an index-sized integer"));
        }
    };
    if n <= 0 || s.is_empty() {
        return Ok(Atom::str(""));
    }
    let chars = s.chars().count() as i64;
    if chars > i64::MAX / n {
        return Err(EvalError::python("repeated string is too long"));
    }
    let n = usize::try_from(n).map_err(|_| EvalError::python("repeated string is too long"))?;
    check_str_size(s.len().checked_mul(n))?;
    Ok(Atom::Str(Rc::from(s.repeat(n))))
}

fn str_arith(op: ArithOp, a: &Atom, b: &Atom) -> EvalResult<Atom> {
    match (op, kind(a), kind(b)) {
        (ArithOp::Add, Kind::Str(s), Kind::Str(t)) => {
            check_str_size(s.len().checked_add(t.len()))?;
            let mut out = String::with_capacity(s.len() + t.len());
            out.push_str(s);
            out.push_str(t);
            Ok(Atom::Str(Rc::from(out)))
        }
        (ArithOp::Add, Kind::Str(_), _) => {
            Err(EvalError::python(format!("can only concatenate str (not \"{}\") to str", b.type_name())))
        }
        (ArithOp::Mul, Kind::Str(s), Kind::Int(n)) | (ArithOp::Mul, Kind::Int(n), Kind::Str(s)) => repeat_str(s, n),
        // sequence_repeat names the non-sequence operand (the right one if
        // both are strings).
        (ArithOp::Mul, Kind::Str(_), _) => {
            Err(EvalError::python(format!("can't multiply sequence by non-int of type '{}'", b.type_name())))
        }
        (ArithOp::Mul, _, Kind::Str(_)) => {
            Err(EvalError::python(format!("can't multiply sequence by non-int of type '{}'", a.type_name())))
        }
        (ArithOp::Mod, Kind::Str(s), _) => {
            if s.contains('%') {
                Err(EvalError::rasp("string formatting with % is not supported"))
            } else {
                Err(EvalError::python("not all arguments converted during string formatting"))
            }
        }
        _ => Err(unsupported(op, a, b)),
    }
}

// ---------------------------------------------------------------------------
// Comparisons and equality

fn int_cmp(x: IntRef, y: IntRef) -> Ordering {
    match (x, y) {
        (IntRef::Small(p), IntRef::Small(q)) => p.cmp(&q),
        (IntRef::Small(p), IntRef::Big(q)) => BigInt::from(p).cmp(q),
        (IntRef::Big(p), IntRef::Small(q)) => (*p).cmp(&BigInt::from(q)),
        (IntRef::Big(p), IntRef::Big(q)) => p.cmp(q),
    }
}

/// Exact comparison of an int with a float, as CPython's `float_richcompare`.
fn int_float_cmp(x: IntRef, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { Ordering::Less } else { Ordering::Greater });
    }
    const EXACT: i64 = 1 << 53;
    if let IntRef::Small(p) = x
        && (-EXACT..=EXACT).contains(&p)
    {
        return (p as f64).partial_cmp(&f);
    }
    let fl = f.floor();
    let fl_int = BigInt::from_f64(fl)?;
    match x.to_big().cmp(&fl_int) {
        Ordering::Equal if fl != f => Some(Ordering::Less),
        ord => Some(ord),
    }
}

fn num_cmp(a: &Atom, b: &Atom) -> Option<Ordering> {
    match (kind(a), kind(b)) {
        (Kind::Int(x), Kind::Int(y)) => Some(int_cmp(x, y)),
        (Kind::Float(x), Kind::Float(y)) => x.partial_cmp(&y),
        (Kind::Int(x), Kind::Float(y)) => int_float_cmp(x, y),
        (Kind::Float(x), Kind::Int(y)) => int_float_cmp(y, x).map(Ordering::reverse),
        _ => None,
    }
}

/// `a OP b` for a comparison operator. `==`/`!=` never fail; ordering
/// between a str and a number raises Python's TypeError.
pub fn compare(op: CmpOp, a: &Atom, b: &Atom) -> EvalResult<bool> {
    match op {
        CmpOp::Eq => return Ok(py_eq(a, b)),
        CmpOp::Ne => return Ok(!py_eq(a, b)),
        _ => {}
    }
    match (kind(a), kind(b)) {
        (Kind::Str(s), Kind::Str(t)) => Ok(op.holds(s.cmp(t))),
        (Kind::Str(_), _) | (_, Kind::Str(_)) => Err(EvalError::python(format!(
            "'{}' not supported between instances of '{}' and '{}'",
            op.symbol(),
            a.type_name(),
            b.type_name()
        ))),
        // NaN compares false with everything
        _ => Ok(num_cmp(a, b).is_some_and(|ord| op.holds(ord))),
    }
}

/// `compare` where it is a plain comparison: two ints, two floats (IEEE
/// order, which is Python's: a NaN is unequal to everything) or two strs;
/// `None` for everything else, which `compare` decides. For the fast
/// engine's maps, which compare at every position.
pub fn quick_compare(op: CmpOp, a: &Atom, b: &Atom) -> Option<bool> {
    match (a, b) {
        (Atom::Int(x), Atom::Int(y)) => Some(op.holds(x.cmp(y))),
        (Atom::Float(x), Atom::Float(y)) => Some(match op {
            CmpOp::Eq => x == y,
            CmpOp::Ne => x != y,
            CmpOp::Lt => x < y,
            CmpOp::Le => x <= y,
            CmpOp::Gt => x > y,
            CmpOp::Ge => x >= y,
        }),
        (Atom::Str(s), Atom::Str(t)) => Some(op.holds(s.as_ref().cmp(t.as_ref()))),
        _ => None,
    }
}

/// Python `a == b`: `1 == 1.0 == True`, `"1" != 1`, `nan != nan`.
pub fn py_eq(a: &Atom, b: &Atom) -> bool {
    match (a, b) {
        (Atom::Str(s), Atom::Str(t)) => s == t,
        (Atom::Str(_), _) | (_, Atom::Str(_)) => false,
        _ => num_cmp(a, b) == Some(Ordering::Equal),
    }
}

// ---------------------------------------------------------------------------
// Unary operators and conversions

/// Python `bool(v)`.
pub fn truthy(a: &Atom) -> bool {
    match a {
        Atom::Bool(b) => *b,
        Atom::Int(v) => *v != 0,
        Atom::BigInt(v) => !v.is_zero(),
        Atom::Float(v) => *v != 0.0,
        Atom::Str(s) => !s.is_empty(),
    }
}

/// Python `-v` (`-True` is the int `-1`).
pub fn neg(a: &Atom) -> EvalResult<Atom> {
    match a {
        Atom::Bool(b) => Ok(Atom::Int(-i64::from(*b))),
        Atom::Int(v) => Ok(match v.checked_neg() {
            Some(n) => Atom::Int(n),
            None => int_atom(-BigInt::from(*v)),
        }),
        Atom::BigInt(v) => Ok(int_atom(-v.as_ref().clone())),
        Atom::Float(v) => Ok(Atom::Float(-v)),
        Atom::Str(_) => Err(EvalError::python("bad operand type for unary -: 'str'")),
    }
}

/// Python `+v` (`+True` is the int `1`).
pub fn pos(a: &Atom) -> EvalResult<Atom> {
    match a {
        Atom::Bool(b) => Ok(Atom::Int(i64::from(*b))),
        Atom::Str(_) => Err(EvalError::python("bad operand type for unary +: 'str'")),
        other => Ok(other.clone()),
    }
}

/// CPython's `PyLong_FromDouble` for an integral finite or non-finite float.
fn float_to_int(v: f64) -> EvalResult<Atom> {
    if v.is_nan() {
        return Err(EvalError::python("cannot convert float NaN to integer"));
    }
    if v.is_infinite() {
        return Err(EvalError::python("cannot convert float infinity to integer"));
    }
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2**63
    if (-LIMIT..LIMIT).contains(&v) {
        return Ok(Atom::Int(v as i64));
    }
    BigInt::from_f64(v).map(int_atom).ok_or_else(|| EvalError::python("cannot convert float to integer"))
}

/// Python `round(v)` without ndigits: half-to-even, always an int.
pub fn round(a: &Atom) -> EvalResult<Atom> {
    match a {
        Atom::Bool(b) => Ok(Atom::Int(i64::from(*b))),
        Atom::Int(_) | Atom::BigInt(_) => Ok(a.clone()),
        Atom::Float(v) => {
            if !v.is_finite() {
                return float_to_int(*v);
            }
            float_to_int(v.round_ties_even())
        }
        Atom::Str(_) => Err(EvalError::python("type str doesn't define __round__ method")),
    }
}

/// Python `int(v)`.
pub fn to_int(a: &Atom) -> EvalResult<Atom> {
    match a {
        Atom::Bool(b) => Ok(Atom::Int(i64::from(*b))),
        Atom::Int(_) | Atom::BigInt(_) => Ok(a.clone()),
        Atom::Float(v) => float_to_int(v.trunc()),
        Atom::Str(s) => parse_int(s),
    }
}

/// Python `float(v)`.
pub fn to_float(a: &Atom) -> EvalResult<Atom> {
    match a {
        Atom::Str(s) => parse_float(s).map(Atom::Float),
        other => to_f64(other).map(Atom::Float),
    }
}

/// A number's value as f64 (ints correctly rounded, as `PyLong_AsDouble`).
pub fn to_f64(a: &Atom) -> EvalResult<f64> {
    match a {
        Atom::Bool(b) => Ok(f64::from(u8::from(*b))),
        Atom::Int(v) => Ok(*v as f64),
        Atom::BigInt(v) => big_to_f64(v).ok_or_else(|| EvalError::python("int too large to convert to float")),
        Atom::Float(v) => Ok(*v),
        Atom::Str(_) => Err(EvalError::python("must be real number, not str")),
    }
}

/// Correctly rounded (half-to-even) conversion; `None` if it overflows.
fn big_to_f64(v: &BigInt) -> Option<f64> {
    let mag = v.magnitude();
    let bits = mag.bits();
    let abs = if bits <= 64 {
        mag.to_u64()? as f64
    } else if bits > 1024 {
        return None;
    } else {
        let shift = bits - 64;
        let top: BigUint = mag >> shift;
        let sticky = mag.trailing_zeros().is_some_and(|tz| tz < shift);
        // The sticky bit below the 64 kept bits makes the u64 -> f64
        // rounding see whether anything non-zero was dropped.
        let t = top.to_u64()? | u64::from(sticky);
        ldexp(t as f64, shift as i64)
    };
    if abs.is_infinite() {
        return None;
    }
    Some(if v.is_negative() { -abs } else { abs })
}

// ---------------------------------------------------------------------------
// int() and float() of strings

/// Code points whose Unicode decimal value is 0; digits 1..9 follow each
/// (Python 3.11, Unicode 14.0: `unicodedata.decimal`).
#[rustfmt::skip]
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

fn unicode_decimal(c: char) -> Option<u8> {
    let c = c as u32;
    let idx = DECIMAL_ZEROS.partition_point(|&z| z <= c);
    let zero = *DECIMAL_ZEROS.get(idx.checked_sub(1)?)?;
    u8::try_from(c - zero).ok().filter(|d| *d < 10)
}

/// `Py_UNICODE_ISSPACE` for non-ASCII code points.
fn is_unicode_space(c: char) -> bool {
    matches!(
        c,
        '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// `Py_ISSPACE`: the ASCII whitespace the C number parsers skip.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`: Unicode spaces
/// become ' ', Unicode decimal digits their ASCII digit, and the first other
/// non-ASCII character ends the text with '?'.
fn to_ascii_number_text(s: &str) -> Vec<u8> {
    if s.is_ascii() {
        return s.as_bytes().to_vec();
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        if (c as u32) < 127 {
            out.push(c as u8);
        } else if is_unicode_space(c) {
            out.push(b' ');
        } else if let Some(d) = unicode_decimal(c) {
            out.push(b'0' + d);
        } else {
            out.push(b'?');
            break;
        }
    }
    out
}

fn invalid_int_literal(s: &str) -> EvalError {
    // CPython formats the repr with %.200R
    let repr: String = str_repr(s).chars().take(200).collect();
    EvalError::python(format!("invalid literal for int() with base 10: {repr}"))
}

/// CPython's `PyLong_FromUnicodeObject(s, 10)`.
fn parse_int(s: &str) -> EvalResult<Atom> {
    let text = to_ascii_number_text(s);
    // The C parser stops at a NUL; the caller then rejects the leftover.
    let nul = text.iter().position(|&c| c == 0);
    let buf = &text[..nul.unwrap_or(text.len())];
    let mut i = 0;
    while i < buf.len() && is_ascii_space(buf[i]) {
        i += 1;
    }
    let mut negative = false;
    match buf.get(i) {
        Some(b'+') => i += 1,
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        _ => {}
    }
    if buf.get(i) == Some(&b'_') {
        return Err(invalid_int_literal(s));
    }
    let mut digits: Vec<u8> = Vec::new();
    let mut prev = 0u8;
    while let Some(&c) = buf.get(i) {
        if c == b'_' {
            if prev == b'_' {
                return Err(invalid_int_literal(s));
            }
        } else if c.is_ascii_digit() {
            digits.push(c);
        } else {
            break;
        }
        prev = c;
        i += 1;
    }
    if prev == b'_' {
        return Err(invalid_int_literal(s));
    }
    if digits.len() > INT_MAX_STR_DIGITS {
        return Err(EvalError::python(format!(
            "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: \
             value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
            digits.len()
        )));
    }
    if digits.is_empty() {
        return Err(invalid_int_literal(s));
    }
    while i < buf.len() && is_ascii_space(buf[i]) {
        i += 1;
    }
    if i != buf.len() || nul.is_some() {
        return Err(invalid_int_literal(s));
    }
    let value = if digits.len() <= 18 {
        let v = digits.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
        BigInt::from(if negative { -v } else { v })
    } else {
        let v = BigInt::parse_bytes(&digits, 10).ok_or_else(|| invalid_int_literal(s))?;
        if negative { -v } else { v }
    };
    Ok(int_atom(value))
}

/// CPython's `PyFloat_FromString`.
fn parse_float(s: &str) -> EvalResult<f64> {
    let invalid = || EvalError::python(format!("could not convert string to float: {}", str_repr(s)));
    let text = to_ascii_number_text(s);
    if text.contains(&0) {
        return Err(invalid());
    }
    // Underscores only between digits (`_Py_string_to_number_with_underscores`).
    let mut cleaned = Vec::with_capacity(text.len());
    for (i, &c) in text.iter().enumerate() {
        if c == b'_' {
            let before = i.checked_sub(1).and_then(|j| text.get(j));
            let after = text.get(i + 1);
            if !before.is_some_and(u8::is_ascii_digit) || !after.is_some_and(u8::is_ascii_digit) {
                return Err(invalid());
            }
        } else {
            cleaned.push(c);
        }
    }
    let mut start = 0;
    let mut end = cleaned.len();
    while start < end && is_ascii_space(cleaned[start]) {
        start += 1;
    }
    while end > start && is_ascii_space(cleaned[end - 1]) {
        end -= 1;
    }
    let body = &cleaned[start..end];
    if !is_float_literal(body) {
        return Err(invalid());
    }
    std::str::from_utf8(body).ok().and_then(|t| t.parse::<f64>().ok()).ok_or_else(invalid)
}

/// `[sign] (inf | infinity | nan | digits[.digits][e[sign]digits] | .digits[...])`
fn is_float_literal(body: &[u8]) -> bool {
    let rest = match body.first() {
        Some(b'+' | b'-') => &body[1..],
        _ => body,
    };
    if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") || rest.eq_ignore_ascii_case(b"nan")
    {
        return true;
    }
    let mut i = 0;
    let count_digits = |from: usize| rest[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_digits = count_digits(i);
    i += int_digits;
    let mut frac_digits = 0;
    if rest.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(i);
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(rest.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(rest.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(i);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == rest.len()
}

// ---------------------------------------------------------------------------
// Dict keys

/// An atom as a hash-map key with Python's dict-key semantics: `1`, `1.0`
/// and `True` are the same key, `"1"` another. NaN equals itself here so
/// that `Eq` is an equivalence.
#[derive(Clone, Debug)]
pub struct AtomKey(pub Atom);

impl PartialEq for AtomKey {
    fn eq(&self, other: &AtomKey) -> bool {
        match (&self.0, &other.0) {
            (Atom::Float(x), Atom::Float(y)) if x.is_nan() && y.is_nan() => true,
            (a, b) => py_eq(a, b),
        }
    }
}

impl Eq for AtomKey {}

impl Hash for AtomKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal numbers hash alike: integral values (of any kind) as ints,
        // other floats by their bits.
        fn small<H: Hasher>(v: i64, state: &mut H) {
            state.write_u8(1);
            v.hash(state);
        }
        fn big<H: Hasher>(v: &BigInt, state: &mut H) {
            match v.to_i64() {
                Some(s) => small(s, state),
                None => {
                    state.write_u8(2);
                    v.hash(state);
                }
            }
        }
        match &self.0 {
            Atom::Str(s) => {
                state.write_u8(0);
                s.hash(state);
            }
            Atom::Bool(b) => small(i64::from(*b), state),
            Atom::Int(v) => small(*v, state),
            Atom::BigInt(v) => big(v, state),
            Atom::Float(f) => {
                if f.is_nan() {
                    state.write_u8(3);
                } else if f.is_finite() && f.fract() == 0.0 {
                    match BigInt::from_f64(*f) {
                        Some(v) => big(&v, state),
                        None => state.write_u8(3),
                    }
                } else {
                    state.write_u8(4);
                    f.to_bits().hash(state);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_bounds() {
        assert_eq!(pow2(0), 1.0);
        assert_eq!(pow2(-1022), f64::MIN_POSITIVE);
        assert_eq!(ldexp(1.0, -1074), 5e-324);
        assert_eq!(ldexp(1.0, 1024), f64::INFINITY);
    }
}
