//! Serialising a scene: a standalone SVG (hover text as `<title>`), or a
//! self-contained HTML page with the same SVG inline and hover details
//! drawn by a few lines of inline script (no network).

use crate::layout::Scene;
use crate::scene::{Anchor, Font, Group, Item, Path, Rect, Text};
use std::fmt::Write;
use std::ops::Range;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `<title>` children for tooltips; `xmlns` for a standalone file.
    Standalone,
    /// `data-tip` attributes read by the page's script; no `xmlns`.
    Inline,
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// Appends `s` to `out`, escaped as [`escape`] does. (Writing in place: a
/// drawing has thousands of values and hover texts, and the playground
/// serialises one on every edit.)
fn push_escaped(out: &mut String, s: &str) {
    // Runs of bytes that need nothing are copied whole; only the bytes
    // that need escaping (all ASCII, so never inside a multi-byte
    // character) are looked at one by one.
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let replacement = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            // Characters XML 1.0 forbids, whatever the value held.
            b if b < 0x20 && b != b'\n' && b != b'\t' => "\u{fffd}",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(replacement);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// A coordinate: at most two decimals, no trailing zeros.
fn num(v: f64) -> String {
    let mut out = String::new();
    push_num(&mut out, v);
    out
}

/// Appends [`num`]`(v)` to `out`.
fn push_num(out: &mut String, v: f64) {
    let hundredths = (v * 100.0).round();
    // Below 2^53 hundredths are exact integers, and `hundredths / 100` is
    // the double nearest that decimal, whose shortest form is the decimal
    // itself: written from the integer without formatting a float (a
    // drawing writes tens of thousands of coordinates).
    if hundredths.is_finite() && hundredths.abs() < 9.0e15 {
        let h = hundredths as i64;
        let (whole, cents) = (h.unsigned_abs() / 100, h.unsigned_abs() % 100);
        if h < 0 {
            out.push('-');
        }
        push_digits(out, whole);
        if cents != 0 {
            out.push('.');
            out.push(char::from(b'0' + (cents / 10) as u8));
            if cents % 10 != 0 {
                out.push(char::from(b'0' + (cents % 10) as u8));
            }
        }
        return;
    }
    let r = hundredths / 100.0;
    if r == r.trunc() {
        let _ = write!(out, "{}", r as i64);
    } else {
        let start = out.len();
        let _ = write!(out, "{r}");
        while out.len() > start && out.ends_with('0') {
            out.pop();
        }
    }
}

/// Appends the decimal digits of `n`.
fn push_digits(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

struct Writer {
    out: String,
    mode: Mode,
    depth: usize,
    /// Where each element's own text is in `out` (see [`SvgParts`]).
    elements: Vec<Range<usize>>,
}

impl Writer {
    /// Ends the element whose text started at `start` (its line, without
    /// the newline).
    fn element(&mut self, start: usize) {
        self.elements.push(start..self.out.len());
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// ` name="value"` with the value escaped.
    fn attr(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        push_escaped(&mut self.out, value);
        self.out.push('"');
    }

    /// ` name="value"` for a value that needs no escaping (classes,
    /// colours and keywords the drawing code writes).
    fn plain_attr(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        self.out.push_str(value);
        self.out.push('"');
    }

    /// ` name="number"`, the number as [`num`] writes it.
    fn num_attr(&mut self, name: &str, value: f64) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        push_num(&mut self.out, value);
        self.out.push('"');
    }

    fn tip_attr(&mut self, tip: &Option<String>) {
        if let (Mode::Inline, Some(t)) = (self.mode, tip) {
            self.attr("data-tip", t);
        }
    }

    fn data_attrs(&mut self, data: &[(&'static str, String)]) {
        for (name, value) in data {
            self.out.push_str(" data-");
            self.out.push_str(name);
            self.out.push_str("=\"");
            push_escaped(&mut self.out, value);
            self.out.push('"');
        }
    }

    /// Ends an element's opening tag, with a `<title>` child in a standalone
    /// SVG; `has_content` says whether content and a closing tag follow
    /// ([`Writer::end`]), else the element ends here.
    fn open_end(&mut self, start: usize, tip: &Option<String>, tag: &str, has_content: bool) {
        match (self.mode, tip) {
            (Mode::Standalone, Some(t)) => {
                self.out.push_str("><title>");
                push_escaped(&mut self.out, t);
                self.out.push_str("</title>");
                if !has_content {
                    self.end(start, tag);
                }
            }
            _ if has_content => self.out.push('>'),
            _ => {
                self.out.push_str("/>");
                self.element(start);
                self.out.push('\n');
            }
        }
    }

    /// Writes the closing tag of an element whose text started at `start`.
    fn end(&mut self, start: usize, tag: &str) {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self.element(start);
        self.out.push('\n');
    }

    fn group(&mut self, g: &Group) {
        self.indent();
        let start = self.out.len();
        self.out.push_str("<g");
        if !g.class.is_empty() {
            self.plain_attr("class", g.class);
        }
        if let Some(id) = &g.id {
            self.attr("id", id);
        }
        if g.x != 0.0 || g.y != 0.0 {
            self.out.push_str(" transform=\"translate(");
            push_num(&mut self.out, g.x);
            self.out.push(' ');
            push_num(&mut self.out, g.y);
            self.out.push_str(")\"");
        }
        self.data_attrs(&g.data);
        self.tip_attr(&g.tip);
        self.out.push('>');
        self.element(start);
        self.out.push('\n');
        if let (Mode::Standalone, Some(t)) = (self.mode, &g.tip) {
            self.indent();
            self.out.push_str("  ");
            let start = self.out.len();
            self.out.push_str("<title>");
            push_escaped(&mut self.out, t);
            self.out.push_str("</title>");
            self.element(start);
            self.out.push('\n');
        }
        self.depth += 1;
        for item in &g.items {
            match item {
                Item::Group(child) => self.group(child),
                Item::Rect(r) => self.rect(r),
                Item::Text(t) => self.text(t),
                Item::Path(p) => self.path(p),
            }
        }
        self.depth -= 1;
        self.indent();
        self.out.push_str("</g>\n");
    }

    fn rect(&mut self, r: &Rect) {
        self.indent();
        let start = self.out.len();
        self.out.push_str("<rect");
        if !r.class.is_empty() {
            self.plain_attr("class", r.class);
        }
        self.num_attr("x", r.x);
        self.num_attr("y", r.y);
        self.num_attr("width", r.width);
        self.num_attr("height", r.height);
        if r.radius > 0.0 {
            self.num_attr("rx", r.radius);
        }
        self.plain_attr("fill", r.fill);
        if let Some((colour, width)) = r.stroke {
            self.plain_attr("stroke", colour);
            self.num_attr("stroke-width", width);
        }
        self.data_attrs(&r.data);
        self.tip_attr(&r.tip);
        self.open_end(start, &r.tip, "rect", false);
    }

    fn text(&mut self, t: &Text) {
        self.indent();
        let start = self.out.len();
        self.out.push_str("<text");
        if !t.class.is_empty() {
            self.plain_attr("class", t.class);
        }
        self.num_attr("x", t.x);
        self.num_attr("y", t.y);
        match t.anchor {
            Anchor::Start => {}
            Anchor::Middle => self.out.push_str(" text-anchor=\"middle\""),
            Anchor::End => self.out.push_str(" text-anchor=\"end\""),
        }
        self.plain_attr("font-family", family_value(t.font));
        self.num_attr("font-size", t.size);
        if t.bold {
            self.out.push_str(" font-weight=\"bold\"");
        }
        self.plain_attr("fill", t.fill);
        // Keep spaces inside values (`" "` tokens) as they are.
        if t.text.starts_with(' ') || t.text.ends_with(' ') || t.text.contains("  ") {
            self.out.push_str(" xml:space=\"preserve\"");
        }
        self.tip_attr(&t.tip);
        self.open_end(start, &t.tip, "text", true);
        push_escaped(&mut self.out, &t.text);
        for span in &t.spans {
            self.out.push_str("<tspan class=\"");
            self.out.push_str(span.class);
            self.out.push_str("\" dx=\"");
            push_num(&mut self.out, span.gap);
            self.out.push_str("\" font-family=\"");
            self.out.push_str(family_value(span.font));
            self.out.push_str("\" font-size=\"");
            push_num(&mut self.out, span.size);
            self.out.push_str(if span.bold {
                "\" font-weight=\"bold\" fill=\""
            } else {
                "\" font-weight=\"normal\" fill=\""
            });
            self.out.push_str(span.fill);
            self.out.push_str("\">");
            push_escaped(&mut self.out, &span.text);
            self.out.push_str("</tspan>");
        }
        self.end(start, "text");
    }

    fn path(&mut self, p: &Path) {
        self.indent();
        let start = self.out.len();
        let _ = write!(
            self.out,
            "<path class=\"{}\" d=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\"/>",
            p.class,
            p.d,
            p.fill,
            p.stroke,
            num(p.width)
        );
        self.element(start);
        self.out.push('\n');
    }
}

/// The `font-family` attribute value of a font, escaped once here rather
/// than for every text.
fn family_value(font: Font) -> &'static str {
    match font {
        Font::Mono => MONO_ESCAPED,
        Font::Sans => SANS_ESCAPED,
    }
}

/// The font lists of texts (monospace and sans-serif), escaped as attribute
/// values (`'` as `&#39;`).
const MONO_ESCAPED: &str = "ui-monospace, &#39;SF Mono&#39;, Menlo, Consolas, &#39;DejaVu Sans Mono&#39;, &#39;Liberation Mono&#39;, monospace";
const SANS_ESCAPED: &str = "Inter, system-ui, -apple-system, &#39;Segoe UI&#39;, &#39;Helvetica Neue&#39;, Arial, &#39;DejaVu Sans&#39;, &#39;Liberation Sans&#39;, sans-serif";

/// An SVG document with where each element's own text is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgParts {
    /// The document, as [`to_svg`] writes it.
    pub text: String,
    /// Byte ranges in `text`, one per element in document order, each the
    /// element's own line without its newline: for `<svg>` and `<g>` their
    /// opening tag (their children follow as elements of their own), for
    /// any other element all of it (a `<rect>` with its `<title>`, a
    /// `<text>` with its spans). Closing tags belong to no element.
    pub elements: Vec<Range<usize>>,
}

fn svg(scene: &Scene, mode: Mode, prefix: &str) -> (String, Vec<Range<usize>>) {
    // About 200 bytes per element: one allocation, not a doubling series
    // of copies of a megabyte.
    let capacity = prefix.len() + 256 + 200 * count_elements(&scene.root);
    let mut w = Writer { out: String::with_capacity(capacity), mode, depth: 1, elements: Vec::new() };
    w.out.push_str(prefix);
    let (width, height) = (num(scene.width), num(scene.height));
    let xmlns = match mode {
        Mode::Standalone => " xmlns=\"http://www.w3.org/2000/svg\"",
        Mode::Inline => "",
    };
    let start = w.out.len();
    let _ = write!(
        w.out,
        "<svg{xmlns} width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">",
        escape(&scene.label)
    );
    w.element(start);
    w.out.push_str("\n  ");
    let start = w.out.len();
    let _ = write!(
        w.out,
        "<rect class=\"page\" width=\"{width}\" height=\"{height}\" fill=\"{}\"/>",
        crate::layout::palette::PAGE
    );
    w.element(start);
    w.out.push('\n');
    w.group(&scene.root);
    w.out.push_str("</svg>\n");
    (w.out, w.elements)
}

/// The elements below `group`, itself included (for the SVG's capacity).
fn count_elements(group: &Group) -> usize {
    1 + group
        .items
        .iter()
        .map(|item| match item {
            Item::Group(child) => count_elements(child),
            Item::Rect(_) | Item::Text(_) | Item::Path(_) => 1,
        })
        .sum::<usize>()
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

pub fn to_svg(scene: &Scene) -> String {
    svg(scene, Mode::Standalone, XML_DECLARATION).0
}

pub fn to_svg_parts(scene: &Scene) -> SvgParts {
    let (text, elements) = svg(scene, Mode::Standalone, XML_DECLARATION);
    SvgParts { text, elements }
}

const STYLE: &str = r#"
  body { margin: 0; padding: 24px; background: #f5f5f4; color: #1f2937;
         font-family: Inter, system-ui, -apple-system, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif; }
  .frame { display: inline-block; background: #fff; border-radius: 12px;
           box-shadow: 0 1px 3px rgba(0,0,0,.08), 0 8px 24px rgba(0,0,0,.06); }
  svg { display: block; }
  svg text { pointer-events: none; }
  svg text[data-tip] { pointer-events: auto; }
  rect.cell, rect.key, rect.query, rect.value, rect.result, rect.input, rect.operand, rect.output { cursor: default; }
  rect.hl { stroke: #111827; stroke-width: 1.5; }
  rect.cell.off.hl { fill: #ddd6fe; }
  rect.cell:hover, rect.key:hover, rect.query:hover, rect.value:hover, rect.result:hover,
  rect.input:hover, rect.operand:hover, rect.output:hover { stroke: #111827; stroke-width: 2; }
  #tip { position: fixed; z-index: 10; display: none; max-width: 520px; padding: 8px 10px;
         background: #111827; color: #f9fafb; border-radius: 6px; white-space: pre-wrap;
         font: 12px/1.45 ui-monospace, 'SF Mono', Menlo, Consolas, 'DejaVu Sans Mono', monospace;
         box-shadow: 0 4px 14px rgba(0,0,0,.25); pointer-events: none; }
  p.hint { color: #6b7280; font-size: 13px; margin: 12px 4px 0; }
"#;

/// Shows `data-tip` of what is under the pointer; over a grid cell, also
/// outlines its query row and key column in that head.
const SCRIPT: &str = r#"
(function () {
  var tip = document.getElementById('tip');
  var lit = [];
  function clear() { lit.forEach(function (e) { e.classList.remove('hl'); }); lit = []; }
  function light(el) {
    clear();
    var head = el.closest('g.head');
    if (!head || !el.classList.contains('cell')) return;
    var q = el.getAttribute('data-q'), k = el.getAttribute('data-k');
    head.querySelectorAll('rect[data-q="' + q + '"], rect[data-k="' + k + '"]').forEach(function (e) {
      if (e !== el) { e.classList.add('hl'); lit.push(e); }
    });
  }
  document.addEventListener('mousemove', function (ev) {
    var el = ev.target.closest ? ev.target.closest('[data-tip]') : null;
    if (!el) { tip.style.display = 'none'; clear(); return; }
    if (tip.dataset.owner !== el.id + el.getAttribute('data-tip')) {
      tip.textContent = el.getAttribute('data-tip');
      tip.dataset.owner = el.id + el.getAttribute('data-tip');
      light(el);
    }
    tip.style.display = 'block';
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 8) x = ev.clientX - w - 14;
    if (y + h > window.innerHeight - 8) y = ev.clientY - h - 14;
    tip.style.left = Math.max(8, x) + 'px';
    tip.style.top = Math.max(8, y) + 'px';
  });
})();
"#;

pub fn to_html(scene: &Scene, title: &str, hint: &str) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<div class=\"frame\">\n");
    out.push_str(&svg(scene, Mode::Inline, "").0);
    out.push_str("</div>\n");
    let _ = writeln!(out, "<p class=\"hint\">{}</p>", escape(hint));
    out.push_str("<div id=\"tip\"></div>\n");
    let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONO: &str = "ui-monospace, 'SF Mono', Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace";
    const SANS: &str = "Inter, system-ui, -apple-system, 'Segoe UI', 'Helvetica Neue', Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif";

    #[test]
    fn the_escaped_font_lists_are_the_font_lists_escaped() {
        assert_eq!(MONO_ESCAPED, escape(MONO));
        assert_eq!(SANS_ESCAPED, escape(SANS));
    }

    #[test]
    fn numbers_have_at_most_two_decimals_and_no_trailing_zeros() {
        // Expected strings written by hand.
        for (value, shown) in
            [(3.0, "3"), (-2.0, "-2"), (22.64, "22.64"), (1.005_1, "1.01"), (0.5, "0.5"), (7.1999, "7.2")]
                .into_iter()
                .chain([(-0.5, "-0.5"), (-0.001, "0"), (-12.06, "-12.06"), (0.05, "0.05"), (1234.5, "1234.5")])
        {
            assert_eq!(num(value), shown, "{value}");
        }
    }

    #[test]
    fn every_element_is_found_in_the_svg() {
        use crate::scene::{Anchor, Font};
        let mut root = Group { class: "picture", tip: Some("the whole".to_string()), ..Group::default() };
        root.items.push(Item::Rect(Rect {
            x: 1.0,
            y: 2.0,
            width: 3.0,
            height: 4.0,
            radius: 0.0,
            fill: "#fff",
            stroke: None,
            class: "cell",
            tip: Some("a\nb".to_string()),
            data: Vec::new(),
        }));
        root.items.push(Item::Text(Text {
            x: 5.0,
            y: 6.5,
            anchor: Anchor::Start,
            font: Font::Sans,
            size: 10.0,
            bold: false,
            fill: "#000",
            class: "",
            text: "x<y".to_string(),
            tip: None,
            spans: Vec::new(),
        }));
        let scene = Scene { width: 10.0, height: 20.0, label: "l".to_string(), root };
        let parts = to_svg_parts(&scene);
        assert_eq!(parts.text, to_svg(&scene));
        let elements: Vec<&str> = parts.elements.iter().map(|r| &parts.text[r.clone()]).collect();
        // Written by hand: the root, the page, the group's opening tag and
        // its title, then its two leaves whole; no closing tags.
        assert_eq!(
            elements,
            [
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"20\" viewBox=\"0 0 10 20\" role=\"img\" aria-label=\"l\">",
                "<rect class=\"page\" width=\"10\" height=\"20\" fill=\"#ffffff\"/>",
                "<g class=\"picture\">",
                "<title>the whole</title>",
                "<rect class=\"cell\" x=\"1\" y=\"2\" width=\"3\" height=\"4\" fill=\"#fff\"><title>a\nb</title></rect>",
                &format!(
                    "<text x=\"5\" y=\"6.5\" font-family=\"{SANS_ESCAPED}\" font-size=\"10\" fill=\"#000\">x&lt;y</text>"
                ),
            ]
        );
    }

    #[test]
    fn escaping_covers_markup_quotes_and_forbidden_characters() {
        assert_eq!(escape("plain text"), "plain text");
        assert_eq!(escape("a<b & 'c' \"d\">\u{1}\n"), "a&lt;b &amp; &#39;c&#39; &quot;d&quot;&gt;\u{fffd}\n");
    }
}
