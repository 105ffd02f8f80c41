//! The waterfall of realized loss, laid out once: round 0 is the direct loss, each later round
//! stacks the bad debt, liquidation penalties and fire-sale losses it adds (rounds past the tenth
//! fold into one bar), then the holders' depeg loss and the clearing costs settled at the end,
//! and the total realized loss; a value axis with grid lines, a label on every bar, a legend and
//! the loss multiplier. The stress HTML report writes it as SVG ([`Waterfall::svg`]); the
//! dashboard gets the same data with `POST /api/stress` and only turns it into SVG elements.
//! Value that only moved (liquidations, withdrawals) is in the tables, not here.
//!
//! ```
//! use ringfence_report::waterfall::{Losses, RoundLoss, Waterfall};
//!
//! let rounds = [
//!     RoundLoss { round: 0, direct_usd: 20e6, ..RoundLoss::default() },
//!     RoundLoss { round: 1, bad_debt_usd: 60e6, ..RoundLoss::default() },
//! ];
//! let w = Waterfall::new(&Losses {
//!     rounds: &rounds,
//!     depeg_usd: 40e6,
//!     clearing_costs_usd: 0.0,
//!     realized_loss_usd: 120e6,
//!     direct_loss_usd: 20e6,
//!     secondary_damage_usd: 100e6,
//!     loss_multiplier: Some(5.0),
//! });
//! let labels: Vec<&str> = w.bars.iter().map(|b| b.label.as_str()).collect();
//! assert_eq!(labels, ["round 0", "round 1", "depeg", "total"]);
//! assert_eq!(w.bars[2].base_usd, 80e6);
//! ```

use std::fmt::Write as _;

use serde::Serialize;

use crate::{multiplier, usd};

/// The parts a bar stacks, in order, with their colours: the four a round adds, then the two
/// settled at the end.
pub const PARTS: [(&str, &str); 6] = [
    ("direct", "#2b6cb0"),
    ("bad debt", "#b00020"),
    ("liquidation penalties", "#dd6b20"),
    ("fire-sale losses", "#805ad5"),
    ("holders' depeg", "#d69e2e"),
    ("clearing costs", "#718096"),
];

/// The total bar's part and colour.
pub const TOTAL: (&str, &str) = ("total", "#101828");

/// Bars of single rounds before the later rounds fold into one.
const ROUND_BARS: usize = 11;
/// The picture's width and height, and its left, bottom and top margins.
const W: f64 = 1100.0;
const H: f64 = 330.0;
const L: f64 = 76.0;
const B: f64 = 40.0;
const T: f64 = 44.0;
/// Grid lines above the zero line.
const TICKS: u32 = 4;
/// Horizontal room of a legend entry.
const LEGEND_STEP: f64 = 132.0;

/// The losses of one round that the waterfall stacks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RoundLoss {
    /// Round number (0: the direct loss).
    pub round: usize,
    /// What the attacker extracted.
    pub direct_usd: f64,
    /// Bad debt recognised.
    pub bad_debt_usd: f64,
    /// Liquidation penalties paid.
    pub liquidation_penalties_usd: f64,
    /// Fire-sale losses.
    pub fire_sale_losses_usd: f64,
}

/// What the waterfall is drawn from.
#[derive(Clone, Copy, Debug)]
pub struct Losses<'a> {
    /// Every round.
    pub rounds: &'a [RoundLoss],
    /// The holders' depeg loss, settled at the end.
    pub depeg_usd: f64,
    /// Deadweight clearing costs, settled at the end.
    pub clearing_costs_usd: f64,
    /// The total realized loss (the last bar).
    pub realized_loss_usd: f64,
    /// The direct loss (in the caption).
    pub direct_loss_usd: f64,
    /// Realized loss beyond the direct loss (in the caption).
    pub secondary_damage_usd: f64,
    /// Secondary over direct (in the caption).
    pub loss_multiplier: Option<f64>,
}

/// A line.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = WaterfallLine))]
pub struct Line {
    /// Start.
    pub x1: f64,
    /// End.
    pub x2: f64,
    /// Start.
    pub y1: f64,
    /// End.
    pub y2: f64,
}

/// A text and where it goes (`y` is the baseline).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = WaterfallText))]
pub struct Text {
    /// What it says.
    pub text: String,
    /// Horizontal position.
    pub x: f64,
    /// Baseline.
    pub y: f64,
    /// `start`, `middle` or `end`.
    pub anchor: &'static str,
}

/// A grid line of the value axis and its label.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = WaterfallTick))]
pub struct Tick {
    /// The value, USD.
    pub value_usd: f64,
    /// The grid line.
    pub line: Line,
    /// The value, formatted, left of the axis.
    pub label: Text,
}

/// One coloured part of a bar.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = WaterfallSegment))]
pub struct Segment {
    /// Which loss it is (one of the legend's names).
    pub part: &'static str,
    /// How much, USD.
    pub value_usd: f64,
    /// Fill colour.
    pub colour: &'static str,
    /// Top.
    pub y: f64,
    /// Height (at least 1, so that a small loss stays visible).
    pub height: f64,
    /// The tooltip: bar, part and amount.
    pub title: String,
}

/// The rounds a bar stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = WaterfallRounds))]
pub struct Rounds {
    /// The first.
    pub from: usize,
    /// The last (the first again for a single round).
    pub to: usize,
}

/// One bar of the waterfall.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = WaterfallBar))]
pub struct Bar {
    /// `round N`, `rounds N–M` (the folded rounds), `depeg`, `clearing` or `total`.
    pub label: String,
    /// The rounds it stands for; null for the bars settled at the end and the total.
    pub rounds: Option<Rounds>,
    /// Where it starts: the loss of every bar before it (0 for the total), USD.
    pub base_usd: f64,
    /// The total bar, which starts at zero.
    pub total: bool,
    /// Left.
    pub x: f64,
    /// Width.
    pub width: f64,
    /// Its parts, bottom to top.
    pub segments: Vec<Segment>,
    /// The dashed line from the previous bar's top to this one's base (not on the first bar or
    /// the total).
    pub connector: Option<Line>,
    /// What it adds, formatted, above it.
    pub value: Text,
    /// Its label, below the axis.
    pub name: Text,
}

/// A legend entry: a 10×10 swatch at `(x, y)` and its name.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = WaterfallLegend))]
pub struct Legend {
    /// Fill colour.
    pub colour: &'static str,
    /// Swatch left.
    pub x: f64,
    /// Swatch top.
    pub y: f64,
    /// The part's name.
    pub name: Text,
}

/// The laid-out waterfall.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Waterfall {
    /// The picture's width (viewBox).
    pub width: f64,
    /// The picture's height (viewBox).
    pub height: f64,
    /// The top of the value axis, USD (8 % above the largest of the total and the sum of the
    /// bars).
    pub max_usd: f64,
    /// The sum of every bar but the total, USD.
    pub stacked_usd: f64,
    /// The total realized loss, USD.
    pub total_usd: f64,
    /// Grid lines, from zero up.
    pub ticks: Vec<Tick>,
    /// The zero line.
    pub axis: Line,
    /// The bars, left to right.
    pub bars: Vec<Bar>,
    /// The loss multiplier, top right.
    pub caption: Text,
    /// The colours, top left.
    pub legend: Vec<Legend>,
}

/// A bar before it is placed: label, rounds, base and parts `(part, USD, colour)`.
struct Stack {
    label: String,
    rounds: Option<Rounds>,
    base: f64,
    parts: Vec<(&'static str, f64, &'static str)>,
    total: bool,
}

/// The losses a round adds, by part, leaving out the parts it adds nothing to.
fn parts_of(r: &RoundLoss) -> Vec<(&'static str, f64, &'static str)> {
    [
        r.direct_usd,
        r.bad_debt_usd,
        r.liquidation_penalties_usd,
        r.fire_sale_losses_usd,
    ]
    .into_iter()
    .zip(PARTS)
    .filter(|(v, _)| *v > 0.0)
    .map(|(v, (name, colour))| (name, v, colour))
    .collect()
}

/// Round 0 and every later round that adds a loss, one bar each up to [`ROUND_BARS`], the rest
/// folded into one bar that sums each part; and the loss they add up to.
fn round_stacks(rounds: &[RoundLoss]) -> (Vec<Stack>, f64) {
    let mut stacks: Vec<Stack> = Vec::new();
    let mut cum = 0.0;
    let mut folded: Option<Stack> = None;
    for (i, r) in rounds.iter().enumerate() {
        let parts = parts_of(r);
        let inc: f64 = parts.iter().map(|x| x.1).sum();
        if i > 0 && inc <= 0.0 {
            continue;
        }
        if stacks.len() >= ROUND_BARS {
            let f = folded.get_or_insert_with(|| Stack {
                label: String::new(),
                rounds: Some(Rounds {
                    from: r.round,
                    to: r.round,
                }),
                base: cum,
                parts: Vec::new(),
                total: false,
            });
            if let Some(span) = &mut f.rounds {
                span.to = r.round;
            }
            for p in parts {
                match f.parts.iter_mut().find(|x| x.0 == p.0) {
                    Some(e) => e.1 += p.1,
                    None => f.parts.push(p),
                }
            }
        } else {
            stacks.push(Stack {
                label: format!("round {}", r.round),
                rounds: Some(Rounds {
                    from: r.round,
                    to: r.round,
                }),
                base: cum,
                parts,
                total: false,
            });
        }
        cum += inc;
    }
    if let Some(mut f) = folded {
        if let Some(span) = f.rounds {
            f.label = format!("rounds {}–{}", span.from, span.to);
        }
        stacks.push(f);
    }
    (stacks, cum)
}

/// The round bars, then the depeg and clearing bars where there is such a loss, then the total;
/// and the sum of every bar but the total.
fn stacks(l: &Losses<'_>) -> (Vec<Stack>, f64) {
    let (mut stacks, mut cum) = round_stacks(l.rounds);
    for (label, v, part) in [
        ("depeg", l.depeg_usd, PARTS[4]),
        ("clearing", l.clearing_costs_usd, PARTS[5]),
    ] {
        if v > 0.0 {
            stacks.push(Stack {
                label: label.into(),
                rounds: None,
                base: cum,
                parts: vec![(part.0, v, part.1)],
                total: false,
            });
            cum += v;
        }
    }
    stacks.push(Stack {
        label: "total".into(),
        rounds: None,
        base: 0.0,
        parts: vec![(TOTAL.0, l.realized_loss_usd, TOTAL.1)],
        total: true,
    });
    (stacks, cum)
}

/// The vertical scale: a value in USD to its height in the picture.
#[derive(Clone, Copy)]
struct Scale {
    max: f64,
}

impl Scale {
    fn y(self, v: f64) -> f64 {
        T + (H - T - B) * (1.0 - v / self.max)
    }
}

/// Places a bar: its parts stacked from its base, the connector from the previous bar, its
/// value above and its label below.
fn place(i: usize, st: Stack, scale: Scale, step: f64, bw: f64) -> Bar {
    let x = L + step * i as f64 + (step - bw) / 2.0;
    let mut acc = st.base;
    let mut segments = Vec::with_capacity(st.parts.len());
    for (part, v, colour) in st.parts {
        let (y1, y0) = (scale.y(acc + v), scale.y(acc));
        segments.push(Segment {
            part,
            value_usd: v,
            colour,
            y: y1,
            height: (y0 - y1).max(1.0),
            title: format!("{} · {part}: {}", st.label, usd(v)),
        });
        acc += v;
    }
    let connector = (i > 0 && !st.total).then(|| Line {
        x1: x - (step - bw),
        x2: x,
        y1: scale.y(st.base),
        y2: scale.y(st.base),
    });
    Bar {
        value: Text {
            text: usd(acc - st.base),
            x: x + bw / 2.0,
            y: scale.y(acc) - 5.0,
            anchor: "middle",
        },
        name: Text {
            text: st.label.clone(),
            x: x + bw / 2.0,
            y: H - B + 16.0,
            anchor: "middle",
        },
        label: st.label,
        rounds: st.rounds,
        base_usd: st.base,
        total: st.total,
        x,
        width: bw,
        segments,
        connector,
    }
}

/// The grid lines at quarters of the axis, with their values.
fn ticks(scale: Scale) -> Vec<Tick> {
    (0..=TICKS)
        .map(|i| {
            let v = scale.max / f64::from(TICKS) * f64::from(i);
            let y = scale.y(v);
            Tick {
                value_usd: v,
                line: Line {
                    x1: L,
                    x2: W - 10.0,
                    y1: y,
                    y2: y,
                },
                label: Text {
                    text: usd(v),
                    x: L - 6.0,
                    y: y + 4.0,
                    anchor: "end",
                },
            }
        })
        .collect()
}

/// A legend entry per part, then the total's.
fn legend() -> Vec<Legend> {
    PARTS
        .iter()
        .chain([TOTAL].iter())
        .enumerate()
        .map(|(i, &(name, colour))| {
            let x = L + i as f64 * LEGEND_STEP;
            Legend {
                colour,
                x,
                y: 4.0,
                name: Text {
                    text: name.into(),
                    x: x + 14.0,
                    y: 13.0,
                    anchor: "start",
                },
            }
        })
        .collect()
}

impl Waterfall {
    /// Lays out the waterfall of `l`.
    pub fn new(l: &Losses<'_>) -> Self {
        let (stacks, cum) = stacks(l);
        let total = l.realized_loss_usd;
        let scale = Scale {
            max: total.max(cum).max(1.0) * 1.08,
        };
        let step = (W - L - 20.0) / stacks.len() as f64;
        let bw = (step * 0.65).min(70.0);
        let bars = stacks
            .into_iter()
            .enumerate()
            .map(|(i, st)| place(i, st, scale, step, bw))
            .collect();
        Waterfall {
            width: W,
            height: H,
            max_usd: scale.max,
            stacked_usd: cum,
            total_usd: total,
            ticks: ticks(scale),
            axis: Line {
                x1: L,
                x2: W - 10.0,
                y1: scale.y(0.0),
                y2: scale.y(0.0),
            },
            bars,
            caption: Text {
                text: format!(
                    "loss multiplier {} = secondary realized {} / direct {}",
                    multiplier(l.loss_multiplier),
                    usd(l.secondary_damage_usd),
                    usd(l.direct_loss_usd)
                ),
                x: W - 12.0,
                y: 32.0,
                anchor: "end",
            },
            legend: legend(),
        }
    }

    /// The waterfall as one SVG element.
    pub fn svg(&self) -> String {
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" aria-label=\"waterfall of losses by round\" font-size=\"12\" font-family=\"sans-serif\">",
            self.width, self.height
        );
        for t in &self.ticks {
            line_svg(&mut s, &t.line, "#e4e7ec");
            text_svg(&mut s, &t.label, &format!("{:.1}", t.label.y), "");
        }
        line_svg(&mut s, &self.axis, "#344054");
        for bar in &self.bars {
            bar_svg(&mut s, bar);
        }
        text_svg(
            &mut s,
            &self.caption,
            &self.caption.y.to_string(),
            " font-weight=\"700\"",
        );
        for e in &self.legend {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>",
                e.x, e.y, e.colour
            );
            text_svg(&mut s, &e.name, &e.name.y.to_string(), "");
        }
        s.push_str("</svg>");
        s
    }
}

/// A line of the value axis (its left end is a whole number).
fn line_svg(s: &mut String, l: &Line, stroke: &str) {
    let _ = write!(
        s,
        "<line x1=\"{}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{stroke}\"/>",
        l.x1, l.x2, l.y1, l.y2
    );
}

/// A text whose baseline is written as `y`; a `start` anchor is the default and not written.
fn text_svg(s: &mut String, t: &Text, y: &str, extra: &str) {
    let anchor = if t.anchor == "start" {
        String::new()
    } else {
        format!(" text-anchor=\"{}\"", t.anchor)
    };
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{y}\"{anchor}{extra}>{}</text>",
        t.x,
        esc_content(&t.text)
    );
}

/// Escapes text inside an element (quotes need no escaping there).
fn esc_content(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A bar: its segments with their tooltips, the connector, its value and its label.
fn bar_svg(s: &mut String, bar: &Bar) {
    s.push_str("<g>");
    for seg in &bar.segments {
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}</title></rect>",
            bar.x,
            seg.y,
            bar.width,
            seg.height,
            seg.colour,
            esc_content(&seg.title)
        );
    }
    if let Some(c) = &bar.connector {
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#98a2b3\" stroke-dasharray=\"3,3\"/>",
            c.x1, c.x2, c.y1, c.y2
        );
    }
    for t in [&bar.value, &bar.name] {
        text_svg(s, t, &format!("{:.1}", t.y), "");
    }
    s.push_str("</g>");
}
