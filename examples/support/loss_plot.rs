//! The loss curve of `examples/mlp.rs` as a PNG: drawn by plotters' bitmap backend into an RGB
//! buffer, encoded by the `png` crate.
//!
//! plotters renders text through a font library (FreeType/fontconfig, or a font file), which
//! would need system libraries or a font shipped with the crate. The picture only needs a few
//! short labels, so they are drawn here with a tiny 5×7 pixel font defined below (digits,
//! lowercase letters, a few capitals and punctuation), scaled up by whole pixels: the output is
//! the same on every machine.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;
const LEFT: u32 = 110;
const RIGHT: u32 = 40;
const TOP: u32 = 70;
const BOTTOM: u32 = 90;

const AXIS: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(225, 225, 225);
const CURVE: RGBColor = RGBColor(31, 100, 180);

/// Draws `losses[e]` (the mean loss of epoch `e + 1`) against the epoch and writes the PNG.
pub fn draw_loss_curve(path: &Path, title: &str, losses: &[f32]) -> Result<(), String> {
    if losses.is_empty() {
        return Err("no losses to plot".into());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, title, losses).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    write_png(path, &rgb).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// Encodes the RGB buffer as an 8-bit RGB PNG.
fn write_png(path: &Path, rgb: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawResult<'a> =
    Result<(), DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>>;

fn draw<'a>(root: &Area<'a>, title: &str, losses: &[f32]) -> DrawResult<'a> {
    root.fill(&WHITE)?;
    let epochs = losses.len();
    let top = losses.iter().copied().fold(0.0f32, f32::max).max(1e-6) as f64;
    let y_step = nice_step(top / 5.0);
    let y_max = (top / y_step).ceil() * y_step;
    let x_step = nice_step(epochs as f64 / 6.0).max(1.0);

    let chart = ChartBuilder::on(root)
        .margin_left(LEFT)
        .margin_right(RIGHT)
        .margin_top(TOP)
        .margin_bottom(BOTTOM)
        .build_cartesian_2d(0.0..epochs as f64, 0.0..y_max)?;
    let area = chart.plotting_area();
    let px = |x: f64, y: f64| chart.backend_coord(&(x, y));

    // Grid lines, then the curve, then the frame on top.
    let y_ticks: Vec<f64> = (0..)
        .map(|i| i as f64 * y_step)
        .take_while(|&y| y <= y_max + y_step * 1e-9)
        .collect();
    let x_ticks: Vec<f64> = (0..)
        .map(|i| i as f64 * x_step)
        .take_while(|&x| x <= epochs as f64 + 1e-9)
        .collect();
    for &y in &y_ticks[1..] {
        area.draw(&PathElement::new(vec![(0.0, y), (epochs as f64, y)], GRID))?;
    }
    for &x in &x_ticks[1..] {
        area.draw(&PathElement::new(vec![(x, 0.0), (x, y_max)], GRID))?;
    }
    let points: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .map(|(e, &l)| ((e + 1) as f64, f64::from(l)))
        .collect();
    // A 3-pixel line as nine 1-pixel copies (plotters' wide strokes thin out on steep
    // segments).
    let pixels: Vec<(i32, i32)> = points.iter().map(|&(x, y)| px(x, y)).collect();
    for dx in -1..=1 {
        for dy in -1..=1 {
            let shifted = pixels.iter().map(|&(x, y)| (x + dx, y + dy));
            root.draw(&PathElement::new(shifted.collect::<Vec<_>>(), CURVE))?;
        }
    }
    for &p in &points {
        area.draw(&Circle::new(p, 3, CURVE.filled()))?;
    }
    let (x0, y0) = px(0.0, 0.0);
    let (x1, y1) = px(epochs as f64, y_max);
    root.draw(&Rectangle::new([(x0, y1), (x1, y0)], AXIS.stroke_width(2)))?;

    // Ticks and their labels (the font is 8 pixels high at scale 1, digits 5 wide).
    let scale = 2;
    let y_decimals = decimals(y_step);
    for &y in &y_ticks {
        let (x, py) = px(0.0, y);
        root.draw(&PathElement::new(
            vec![(x - 6, py), (x, py)],
            AXIS.stroke_width(2),
        ))?;
        let label = format!("{y:.y_decimals$}");
        let w = text_width(&label, scale);
        draw_text(
            root,
            &label,
            x - 12 - w,
            py - 7 * scale as i32 / 2,
            scale,
            &AXIS,
        )?;
    }
    for &x in &x_ticks {
        let (px_, y) = px(x, 0.0);
        root.draw(&PathElement::new(
            vec![(px_, y), (px_, y + 6)],
            AXIS.stroke_width(2),
        ))?;
        let label = format!("{x:.0}");
        draw_text(
            root,
            &label,
            px_ - text_width(&label, scale) / 2,
            y + 14,
            scale,
            &AXIS,
        )?;
    }

    // Axis titles and the title.
    let x_title = "epoch";
    draw_text(
        root,
        x_title,
        (x0 + x1) / 2 - text_width(x_title, scale) / 2,
        y0 + 50,
        scale,
        &BLACK,
    )?;
    let y_title = "mean training loss";
    draw_text_up(
        root,
        y_title,
        x0 - 95,
        (y0 + y1) / 2 + text_width(y_title, scale) / 2,
        scale,
        &BLACK,
    )?;
    draw_text(root, title, x0, 24, scale, &BLACK)
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * p)
}

/// Decimals that show every multiple of `step` exactly.
fn decimals(step: f64) -> usize {
    (0..6)
        .find(|&d| (step * 10f64.powi(d)).fract().abs() < 1e-6)
        .unwrap_or(6) as usize
}

/// Width in pixels of `text` at `scale` (6 columns per glyph, no space after the last).
fn text_width(text: &str, scale: u32) -> i32 {
    (text.chars().count() as i32 * 6 - 1).max(0) * scale as i32
}

/// Draws `text` left to right with its top left corner at `(x, y)`.
fn draw_text<'a>(
    area: &Area<'a>,
    text: &str,
    x: i32,
    y: i32,
    scale: u32,
    color: &RGBColor,
) -> DrawResult<'a> {
    for (i, c) in text.chars().enumerate() {
        let left = x + i as i32 * 6 * scale as i32;
        draw_glyph(area, c, scale, color, |gx, gy| (left + gx, y + gy))?;
    }
    Ok(())
}

/// Draws `text` bottom to top (rotated a quarter turn anticlockwise), starting at the bottom
/// left corner `(x, y)`.
fn draw_text_up<'a>(
    area: &Area<'a>,
    text: &str,
    x: i32,
    y: i32,
    scale: u32,
    color: &RGBColor,
) -> DrawResult<'a> {
    for (i, c) in text.chars().enumerate() {
        let bottom = y - i as i32 * 6 * scale as i32;
        draw_glyph(area, c, scale, color, |gx, gy| (x + gy, bottom - gx))?;
    }
    Ok(())
}

/// Draws one glyph; `place` maps a pixel of the upright glyph (scaled) to the picture.
fn draw_glyph<'a>(
    area: &Area<'a>,
    c: char,
    scale: u32,
    color: &RGBColor,
    place: impl Fn(i32, i32) -> (i32, i32),
) -> DrawResult<'a> {
    let rows = glyph(c);
    let s = scale as i32;
    for (row, bits) in rows.iter().enumerate() {
        for col in 0..5 {
            if bits & (0x10 >> col) != 0 {
                for dy in 0..s {
                    for dx in 0..s {
                        area.draw_pixel(place(col * s + dx, row as i32 * s + dy), color)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The 5×7 pixel font: one byte per row, top to bottom, bit 4 the leftmost column; the eighth
/// row is the descender of g, j, p, q, y. An unknown character is drawn as a box.
#[rustfmt::skip]
fn glyph(c: char) -> [u8; 8] {
    match c {
        ' ' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E, 0x00],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F, 0x00],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E, 0x00],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02, 0x00],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E, 0x00],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E, 0x00],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08, 0x00],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E, 0x00],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C, 0x00],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08, 0x00],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00, 0x00],
        '-' => [0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x00, 0x00],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00, 0x00],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03, 0x00],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02, 0x00],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08, 0x00],
        'a' => [0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F, 0x00],
        'b' => [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E, 0x00],
        'c' => [0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E, 0x00],
        'd' => [0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F, 0x00],
        'e' => [0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E, 0x00],
        'f' => [0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08, 0x00],
        'g' => [0x00, 0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E],
        'h' => [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00],
        'i' => [0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E, 0x00],
        'j' => [0x02, 0x00, 0x06, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'k' => [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12, 0x00],
        'l' => [0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00],
        'm' => [0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11, 0x00],
        'n' => [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00],
        'o' => [0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E, 0x00],
        'p' => [0x00, 0x00, 0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10],
        'q' => [0x00, 0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x01],
        'r' => [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10, 0x00],
        's' => [0x00, 0x00, 0x0F, 0x10, 0x0E, 0x01, 0x1E, 0x00],
        't' => [0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06, 0x00],
        'u' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D, 0x00],
        'v' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04, 0x00],
        'w' => [0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A, 0x00],
        'x' => [0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x00],
        'y' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x0E],
        'z' => [0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F, 0x00],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C, 0x00],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F, 0x00],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F, 0x00],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11, 0x00],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10, 0x00],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E, 0x00],
        _ => [0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F, 0x00],
    }
}
