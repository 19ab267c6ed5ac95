//! Bar charts drawn on the server as SVG: no script and no chart library in the browser. The
//! geometry is worked out here; the partial in `statistics.hbs` draws it (escaping every text).
//! Each chart comes with its numbers as a table, which is what assistive technology reads.

use serde::Serialize;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 44.0;
/// At most this many category labels under the bars; the others are left out (the table has all).
const MAX_LABELS: usize = 12;

/// One coloured part of every column, stacked in the order given.
pub struct Series {
    /// CSS class of its bars and legend swatch.
    pub class: &'static str,
    pub label: String,
    pub values: Vec<f64>,
}

#[derive(Serialize)]
pub struct Bar {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    class: &'static str,
    /// The bar's tooltip: category, series and value.
    title: String,
}

#[derive(Serialize)]
pub struct Tick {
    y: f64,
    label: String,
}

#[derive(Serialize)]
pub struct CategoryLabel {
    x: f64,
    label: String,
}

#[derive(Serialize)]
pub struct LegendItem {
    class: &'static str,
    label: String,
}

#[derive(Serialize)]
pub struct Chart {
    id: String,
    title: String,
    width: f64,
    height: f64,
    axis_x: f64,
    axis_y: f64,
    axis_end: f64,
    bars: Vec<Bar>,
    ticks: Vec<Tick>,
    labels: Vec<CategoryLabel>,
    legend: Vec<LegendItem>,
    label_y: f64,
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value` (at least 1).
fn nice_ceiling(value: f64) -> f64 {
    if value <= 1.0 || !value.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * power).find(|c| *c >= value).unwrap_or(10.0 * power)
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Columns of stacked `series` over `categories`, values shown by `format` (on the axis too).
pub fn columns(
    id: &str,
    title: String,
    categories: &[String],
    series: &[Series],
    format: &dyn Fn(f64) -> String,
) -> Chart {
    let totals: Vec<f64> =
        (0..categories.len()).map(|i| series.iter().map(|s| s.values.get(i).copied().unwrap_or(0.0)).sum()).collect();
    let top = nice_ceiling(totals.iter().copied().fold(0.0, f64::max));
    let plot_height = HEIGHT - TOP - BOTTOM;
    let plot_width = WIDTH - LEFT - RIGHT;
    let slot = plot_width / categories.len().max(1) as f64;
    let bar_width = (slot * 0.75).max(1.0);
    let scale = |v: f64| v / top * plot_height;
    let mut bars = Vec::new();
    for (i, category) in categories.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_width) / 2.0;
        let mut base = HEIGHT - BOTTOM;
        for s in series {
            let value = s.values.get(i).copied().unwrap_or(0.0);
            if value <= 0.0 {
                continue;
            }
            let height = scale(value);
            base -= height;
            bars.push(Bar {
                x: round(x),
                y: round(base),
                width: round(bar_width),
                height: round(height),
                class: s.class,
                title: format!("{category} – {}: {}", s.label, format(value)),
            });
        }
    }
    let ticks = (0..=4)
        .map(|k| {
            let value = top * f64::from(k) / 4.0;
            Tick { y: round(HEIGHT - BOTTOM - scale(value)), label: format(value) }
        })
        .collect();
    let every = categories.len().div_ceil(MAX_LABELS).max(1);
    let labels = categories
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, label)| CategoryLabel { x: round(LEFT + slot * (i as f64 + 0.5)), label: label.clone() })
        .collect();
    Chart {
        id: id.to_owned(),
        title,
        width: WIDTH,
        height: HEIGHT,
        axis_x: LEFT,
        axis_y: HEIGHT - BOTTOM,
        axis_end: WIDTH - RIGHT,
        bars,
        ticks,
        labels,
        legend: match series.len() {
            0 | 1 => Vec::new(),
            _ => series.iter().map(|s| LegendItem { class: s.class, label: s.label.clone() }).collect(),
        },
        label_y: HEIGHT - BOTTOM + 18.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_at_a_round_number() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(13.0), 20.0);
        assert_eq!(nice_ceiling(21.0), 25.0);
        assert_eq!(nice_ceiling(380.0), 500.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
    }

    #[test]
    fn stacked_bars_are_as_tall_as_their_values() {
        let series = [
            Series { class: "a", label: "A".into(), values: vec![2.0, 0.0] },
            Series { class: "b", label: "B".into(), values: vec![3.0, 5.0] },
        ];
        let chart = columns("c", "C".into(), &["1".into(), "2".into()], &series, &|v| format!("{v}"));
        // The axis tops at 5: column 1 is full height, A's part 2/5 of it at the bottom.
        let full = HEIGHT - TOP - BOTTOM;
        assert_eq!(chart.bars.len(), 3);
        assert_eq!(chart.bars[0].height, round(full * 2.0 / 5.0));
        assert_eq!(chart.bars[0].y, round(HEIGHT - BOTTOM - full * 2.0 / 5.0));
        assert_eq!(chart.bars[1].y, round(TOP));
        assert_eq!(chart.bars[2].height, round(full));
        assert_eq!(chart.bars[1].title, "1 – B: 3");
        assert_eq!(chart.legend.len(), 2);
    }
}
