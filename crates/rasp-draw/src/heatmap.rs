//! Attention heatmaps: weights in [0, 1] as a grid per head, in rows of
//! panels, with the input tokens along both axes. Used to show a trained
//! or compiled model's real attention beside the program's selectors.

/// A selector as attention weights: each row's selected keys share 1.
/// A row selecting nothing stays 0.
pub fn row_normalised(m: &rasp_core::SelectorMatrix) -> Vec<Vec<f64>> {
    (0..m.len())
        .map(|q| {
            let count = m.count(q);
            (0..m.len()).map(|k| if m.get(q, k) { 1.0 / count as f64 } else { 0.0 }).collect()
        })
        .collect()
}

/// One heatmap: a title, a caption, and weights in [0, 1] (rows: queries).
#[derive(Debug, Clone)]
pub struct Panel {
    /// Bold heading above the grid, e.g. `trained head 1`.
    pub title: String,
    /// A line in monospace under the title (e.g. the selector as written,
    /// or how close a trained head comes to it); may be empty.
    pub caption: String,
    /// `weights[q][k]`: the attention of query position `q` on key position
    /// `k`, in [0, 1] (clamped when coloured: 0 white, 1 violet). Only the
    /// first `tokens.len()` rows and columns are drawn.
    pub weights: Vec<Vec<f64>>,
}

/// A row of heatmaps.
#[derive(Debug, Clone)]
pub struct PanelRow {
    /// Heading above the row, e.g. `Layer 1`.
    pub label: String,
    /// The heatmaps, left to right.
    pub panels: Vec<Panel>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// White to violet.
fn colour(w: f64) -> String {
    let w = w.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * w).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(255.0, 0x5b as f64), mix(255.0, 0x21 as f64), mix(255.0, 0xb6 as f64))
}

const CELL: f64 = 18.0;
const GAP: f64 = 28.0;
const FONT: &str = "font-family=\"ui-monospace, Menlo, Consolas, monospace\"";

/// Heatmaps in rows, with the input tokens along both axes (keys above,
/// queries left). Each cell's tooltip gives its weight.
pub fn heatmaps_svg(title: &str, tokens: &[String], rows: &[PanelRow]) -> String {
    let n = tokens.len();
    let label_w = 8.0 * tokens.iter().map(|t| t.chars().count()).max().unwrap_or(1) as f64 + 8.0;
    let grid = CELL * n as f64;
    let panel_w = label_w + grid;
    let panel_h = 40.0 + label_w + grid;
    let mut body = String::new();
    let mut y = 40.0;
    let mut width: f64 = 400.0;
    for row in rows {
        body.push_str(&format!(
            "<text x=\"16\" y=\"{:.1}\" font-family=\"sans-serif\" font-size=\"14\" font-weight=\"bold\" fill=\"#374151\">{}</text>\n",
            y + 14.0,
            escape(&row.label)
        ));
        y += 24.0;
        let mut x = 16.0;
        for panel in &row.panels {
            let gx = x + label_w;
            let gy = y + 40.0 + label_w;
            body.push_str(&format!(
                "<g class=\"heatmap\"><text x=\"{x:.1}\" y=\"{:.1}\" font-family=\"sans-serif\" font-size=\"12\" font-weight=\"bold\" fill=\"#1f2937\">{}</text>\n",
                y + 12.0,
                escape(&panel.title)
            ));
            body.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" {FONT} font-size=\"10\" fill=\"#6b7280\">{}</text>\n",
                y + 28.0,
                escape(&panel.caption)
            ));
            for (k, tok) in tokens.iter().enumerate() {
                let cx = gx + CELL * k as f64 + CELL / 2.0 + 4.0;
                body.push_str(&format!(
                    "<text x=\"{cx:.1}\" y=\"{:.1}\" {FONT} font-size=\"11\" fill=\"#1d4ed8\" transform=\"rotate(-90 {cx:.1} {:.1})\">{}</text>\n",
                    gy - 4.0,
                    gy - 4.0,
                    escape(tok)
                ));
            }
            for (q, tok) in tokens.iter().enumerate() {
                body.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"11\" fill=\"#15803d\" text-anchor=\"end\">{}</text>\n",
                    gx - 4.0,
                    gy + CELL * q as f64 + CELL * 0.7,
                    escape(tok)
                ));
            }
            for (q, weights) in panel.weights.iter().enumerate().take(n) {
                for (k, &w) in weights.iter().enumerate().take(n) {
                    body.push_str(&format!(
                        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{CELL}\" height=\"{CELL}\" fill=\"{}\" stroke=\"#e5e7eb\" stroke-width=\"0.5\"><title>query {q} ({}), key {k} ({}): {w:.3}</title></rect>\n",
                        gx + CELL * k as f64,
                        gy + CELL * q as f64,
                        colour(w),
                        escape(&tokens[q]),
                        escape(&tokens[k])
                    ));
                }
            }
            body.push_str("</g>\n");
            x += panel_w.max(8.0 * panel.title.chars().count().max(panel.caption.chars().count()) as f64) + GAP;
        }
        width = width.max(x);
        y += panel_h + GAP;
    }
    let height = y;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"{t}\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n<text x=\"16\" y=\"24\" font-family=\"sans-serif\" font-size=\"16\" font-weight=\"bold\" fill=\"#1f2937\">{t}</text>\n{body}</svg>\n",
        t = escape(title)
    )
}
