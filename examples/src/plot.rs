//! Line charts as SVG (plotters), for the training programs' loss and accuracy curves:
//! the book's figures 5-? and 6-9 drawn from our runs.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

/// One named line: `(x, y)` points in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend's label.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
}

/// One chart of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Above the chart.
    pub title: String,
    /// Under the x axis.
    pub x_label: String,
    /// Beside the y axis.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
}

/// The book's colours, roughly: matplotlib's first four.
const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// Writes `charts` side by side into one SVG file of `width × 400` pixels.
pub fn write_svg(path: &Path, charts: &[Chart], width: u32) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let root = SVGBackend::new(path, (width, 400)).into_drawing_area();
    draw(&root, charts).with_context(|| format!("cannot draw {}", path.display()))?;
    root.present()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    charts: &[Chart],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, charts.len().max(1)));
    for (area, chart) in areas.iter().zip(charts) {
        let points = chart.series.iter().flat_map(|s| s.points.iter());
        let (mut x_max, mut y_min, mut y_max) = (1.0_f64, f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in points.filter(|(_, y)| y.is_finite()) {
            x_max = x_max.max(x);
            y_min = y_min.min(y);
            y_max = y_max.max(y);
        }
        if !y_min.is_finite() {
            (y_min, y_max) = (0.0, 1.0);
        }
        let margin = ((y_max - y_min) * 0.05).max(1e-3);
        let mut context = ChartBuilder::on(area)
            .caption(&chart.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..x_max, (y_min - margin)..(y_max + margin))?;
        context
            .configure_mesh()
            .x_desc(chart.x_label.as_str())
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc(chart.y_label.as_str())
            .draw()?;
        for (series, colour) in chart.series.iter().zip(COLOURS.iter().cycle()) {
            let colour = *colour;
            context
                .draw_series(LineSeries::new(
                    series.points.iter().copied().filter(|(_, y)| y.is_finite()),
                    colour.stroke_width(2),
                ))?
                .label(series.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        context
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_svg_naming_its_series() {
        let dir = std::env::temp_dir().join(format!("nn-dsl-plot-{}", std::process::id()));
        let path = dir.join("chart.svg");
        let chart = Chart {
            title: "loss".into(),
            x_label: "iterations".into(),
            y_label: "loss".into(),
            series: vec![
                Series {
                    name: "SGD".into(),
                    points: vec![(0.0, 2.3), (1.0, 1.0), (2.0, f64::NAN), (3.0, 0.5)],
                },
                Series {
                    name: "Adam".into(),
                    points: vec![(0.0, 2.3), (3.0, 0.1)],
                },
            ],
        };
        write_svg(&path, &[chart], 600).expect("writable");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.starts_with("<svg") && svg.contains("SGD") && svg.contains("Adam"));
        std::fs::remove_dir_all(dir).ok();
    }
}
