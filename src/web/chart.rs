//! Small bar charts drawn on the server as SVG (no script): per bar, what went well above the
//! line in green and what did not below it in red; each bar says its counts on hover and to
//! screen readers.

use std::fmt::Write;

/// One bar: `up` above the line, `down` below it, and what it says.
pub struct Bar {
    pub up: u64,
    pub down: u64,
    pub label: String,
}

/// The chart of `bars`, left to right; `summary` is what the whole says to screen readers.
pub fn bars(bars: &[Bar], summary: &str) -> String {
    let peak = bars
        .iter()
        .map(|b| b.up.max(b.down))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (bar, gap, half) = (14.0, 4.0, 40.0);
    let total_width = bars.len() as f64 * (bar + gap);
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {total_width} {h}" width="{total_width}" height="{h}" role="img" aria-label="{summary}">"#,
        h = half * 2.0 + 2.0,
        summary = escaped(summary),
    );
    let _ = write!(
        svg,
        r#"<line x1="0" y1="{half}" x2="{total_width}" y2="{half}" class="axis"/>"#
    );
    for (i, b) in bars.iter().enumerate() {
        let x = i as f64 * (bar + gap);
        let up = (b.up as f64 / peak) * (half - 2.0);
        let down = (b.down as f64 / peak) * (half - 2.0);
        let _ = write!(
            svg,
            r#"<g><title>{label}</title><rect x="{x}" y="{y}" width="{bar}" height="{up}" class="ok"/><rect x="{x}" y="{half}" width="{bar}" height="{down}" class="failed"/></g>"#,
            label = escaped(&b.label),
            y = half - up
        );
    }
    svg.push_str("</svg>");
    svg
}

fn escaped(text: &str) -> String {
    askama::filters::escape(text, askama::filters::Html)
        .map(|safe| safe.to_string())
        .unwrap_or_default()
}
