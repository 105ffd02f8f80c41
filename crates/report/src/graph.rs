//! The picture of the dependency graph, laid out once: which assets and components it shows, the
//! column of each kind, every node's centre, radius, label and hit area, every edge's curve and
//! the picture's size. The HTML report writes it as SVG ([`GraphLayout::svg`]); the dashboard
//! gets the same data from `GET /api/graph` and only turns it into SVG elements.
//!
//! ```
//! use ringfence_report::graph::{AssetIn, ComponentIn, GraphLayout};
//!
//! let components = [ComponentIn { id: "kms-key", kind: "key", value_at_risk_usd: 5e6 }];
//! let assets = [AssetIn { id: "USR", value_usd: 5e6, own: &[0] }];
//! let g = GraphLayout::new(&assets, &components);
//! assert_eq!((g.assets.len(), g.components.len(), g.edges.len()), (1, 1, 1));
//! assert!(g.svg().contains("data-id=\"kms-key\""));
//! ```

use std::fmt::Write as _;

use serde::Serialize;

use crate::{esc, usd};

/// The most assets the picture shows (the largest by value).
pub const MAX_ASSETS: usize = 40;
/// The most components the picture shows (those the shown assets depend on directly with the
/// most value at risk).
pub const MAX_COMPONENTS: usize = 70;

/// The component columns, left to right after the asset column: the kind as the spec spells it,
/// the column's title and the fill of its circles. A column with nothing in it is left out.
pub const COLUMNS: [(&str, &str, &str); 7] = [
    ("layer", "layer", "#805ad5"),
    ("verifier_set", "verifier set", "#d69e2e"),
    ("key", "key", "#c53030"),
    ("operator", "operator", "#38a169"),
    ("org", "org", "#dd6b20"),
    ("hosting", "hosting", "#e53e3e"),
    ("chain", "chain", "#4a5568"),
];

/// The fill of an asset's circle.
pub const ASSET_FILL: &str = "#2b6cb0";

/// Height of a row.
const ROW_H: f64 = 24.0;
/// Room above the first row, for the column titles.
const TOP: f64 = 34.0;
/// Baseline of the column titles.
const TITLE_Y: f64 = 16.0;
/// Width of a component column: a label of [`LABEL_CHARS`] never runs into the next column's
/// fraction.
const COL_W: f64 = 190.0;
/// Width of a character of an 11px label, for the room the asset labels need.
const CHAR_W: f64 = 6.6;
/// The narrowest asset column.
const MIN_LEFT: f64 = 116.0;
/// Longest component label; a longer id is cut and ends in `…`.
const LABEL_CHARS: usize = 20;

/// An asset the picture may show.
#[derive(Clone, Copy, Debug)]
pub struct AssetIn<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its value, USD.
    pub value_usd: f64,
    /// The components it depends on directly, as indices into the components given with it.
    pub own: &'a [u32],
}

/// A component the picture may show.
#[derive(Clone, Copy, Debug)]
pub struct ComponentIn<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its kind as the spec spells it (`layer`, `verifier_set`…; see [`COLUMNS`]).
    pub kind: &'a str,
    /// The value at risk behind it, USD.
    pub value_at_risk_usd: f64,
}

/// Where a text goes: `x`, `y` (baseline) and its `text-anchor`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GraphPlace))]
pub struct Place {
    /// Horizontal position.
    pub x: f64,
    /// Baseline.
    pub y: f64,
    /// `start`, `middle` or `end`.
    pub anchor: &'static str,
}

/// A text and where it goes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GraphText))]
pub struct Text {
    /// What it says.
    pub text: String,
    /// Where.
    #[serde(flatten)]
    pub at: Place,
}

/// A rectangle.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GraphRect))]
pub struct Rect {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// A column's title.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GraphColumn))]
pub struct Column {
    /// `asset`, or the component kind as the spec spells it.
    pub kind: &'static str,
    /// The title and where it goes (centred on the column).
    pub title: Text,
}

/// A circle of the picture: an asset or a component.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GraphNode))]
pub struct Node {
    /// The asset or component id.
    pub id: String,
    /// `asset`, or the component kind as the spec spells it.
    pub kind: &'static str,
    /// Centre.
    pub x: f64,
    /// Centre.
    pub y: f64,
    /// Radius: 3 to 11, by area, against the largest shown of its side (value for assets, value
    /// at risk for components).
    pub r: f64,
    /// Fill colour.
    pub fill: &'static str,
    /// The tooltip: id and value (assets) or value at risk (components).
    pub title: String,
    /// The label: the id, left of an asset, right of a component (cut to 20 characters).
    pub label: Text,
    /// Where the dashboard writes the fraction a selection puts on the node (the other side).
    pub frac: Place,
    /// The area a click on the node may land in (its row, label included).
    pub hit: Rect,
}

/// A curve from an asset to a component it depends on directly.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GraphEdge))]
pub struct Edge {
    /// The asset's id.
    pub asset: String,
    /// The component's id.
    pub component: String,
    /// The SVG path: a cubic curve from the asset's centre to the component's.
    pub d: String,
}

/// The laid-out picture of the dependency graph.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GraphLayout {
    /// The picture's width (viewBox).
    pub width: f64,
    /// The picture's height (viewBox).
    pub height: f64,
    /// The asset column's title, then each non-empty component column's, left to right.
    pub columns: Vec<Column>,
    /// Every edge from a shown asset to a shown component.
    pub edges: Vec<Edge>,
    /// The assets shown, largest value first, top to bottom.
    pub assets: Vec<Node>,
    /// The components shown, column by column, each column sorted by id, top to bottom.
    pub components: Vec<Node>,
    /// What the picture leaves out, when it leaves something out.
    pub note: Option<String>,
}

/// A coordinate to a tenth of a unit, as the SVG writes it, so that the report and the dashboard
/// draw the very same numbers.
fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The radius of a circle for value `v` of at most `max`: 3 to 11, by area.
fn radius(v: f64, max: f64) -> f64 {
    tenth(3.0 + 8.0 * (v.max(0.0) / max).sqrt())
}

/// The vertical centre of row `i` of a column of `len` rows, centred among `rows`.
fn row_y(rows: usize, len: usize, i: usize) -> f64 {
    tenth(TOP + (rows - len) as f64 * ROW_H / 2.0 + ROW_H * i as f64 + ROW_H / 2.0)
}

/// Indices `0..n` sorted by a value, largest first, ties by index, cut at `most`.
fn largest(n: usize, value: impl Fn(usize) -> f64, most: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    v.sort_by(|&a, &b| value(b).total_cmp(&value(a)).then(a.cmp(&b)));
    v.truncate(most);
    v
}

impl GraphLayout {
    /// Lays out the largest assets ([`MAX_ASSETS`]) and the components they depend on directly
    /// with the most value at risk ([`MAX_COMPONENTS`]): assets in the left column, components in
    /// one column per kind ([`COLUMNS`]), each column sorted by id and centred vertically.
    pub fn new(assets: &[AssetIn<'_>], components: &[ComponentIn<'_>]) -> Self {
        let shown_assets = largest(assets.len(), |a| assets[a].value_usd, MAX_ASSETS);
        let mut candidates: Vec<usize> = Vec::new();
        for &a in &shown_assets {
            for &c in assets[a].own {
                let c = c as usize;
                if c < components.len() && !candidates.contains(&c) {
                    candidates.push(c);
                }
            }
        }
        let var = |c: usize| components[c].value_at_risk_usd;
        let mut picked = largest(candidates.len(), |i| var(candidates[i]), MAX_COMPONENTS);
        picked.iter_mut().for_each(|i| *i = candidates[*i]);
        let columns: Vec<(usize, Vec<usize>)> = COLUMNS
            .iter()
            .enumerate()
            .map(|(k, (kind, _, _))| {
                let mut col: Vec<usize> = picked
                    .iter()
                    .copied()
                    .filter(|&c| components[c].kind == *kind)
                    .collect();
                col.sort_by(|&a, &b| components[a].id.cmp(components[b].id));
                (k, col)
            })
            .filter(|(_, col)| !col.is_empty())
            .collect();
        let rows = columns
            .iter()
            .map(|(_, col)| col.len())
            .chain([shown_assets.len(), 1])
            .max()
            .unwrap_or(1);
        let longest = shown_assets
            .iter()
            .map(|&a| assets[a].id.chars().count())
            .max()
            .unwrap_or(0);
        let left = MIN_LEFT.max((longest as f64 * CHAR_W).ceil() + 24.0);
        let column_x = |ci: usize| left + COL_W * (ci + 1) as f64 - 20.0;

        let max_value = shown_assets
            .first()
            .map_or(1.0, |&a| assets[a].value_usd.max(1.0));
        let asset_nodes: Vec<Node> = shown_assets
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                let (x, y) = (left, row_y(rows, shown_assets.len(), i));
                asset_node(
                    &assets[a],
                    x,
                    y,
                    radius(assets[a].value_usd, max_value),
                    left,
                )
            })
            .collect();
        let max_var = picked.iter().map(|&c| var(c)).fold(1.0, f64::max);
        let mut component_nodes = Vec::new();
        let mut title = vec![Column {
            kind: "asset",
            title: Text {
                text: "asset".into(),
                at: Place {
                    x: left,
                    y: TITLE_Y,
                    anchor: "middle",
                },
            },
        }];
        for (ci, (k, col)) in columns.iter().enumerate() {
            let (kind, name, fill) = COLUMNS[*k];
            let x = column_x(ci);
            title.push(Column {
                kind,
                title: Text {
                    text: name.into(),
                    at: Place {
                        x,
                        y: TITLE_Y,
                        anchor: "middle",
                    },
                },
            });
            for (ri, &c) in col.iter().enumerate() {
                let y = row_y(rows, col.len(), ri);
                let node = component_node(&components[c], (kind, name, fill), x, y, max_var);
                component_nodes.push((c, node));
            }
        }
        let edges = shown_assets
            .iter()
            .zip(&asset_nodes)
            .flat_map(|(&a, from)| {
                let nodes = &component_nodes;
                assets[a].own.iter().filter_map(move |&c| {
                    let (_, to) = nodes.iter().find(|(i, _)| *i == c as usize)?;
                    Some(edge(from, to))
                })
            })
            .collect();
        let cut = assets.len() > MAX_ASSETS || candidates.len() > MAX_COMPONENTS;
        GraphLayout {
            width: left + COL_W * columns.len() as f64 + 70.0,
            height: TOP + ROW_H * rows as f64 + 10.0,
            columns: title,
            edges,
            note: cut.then(|| {
                format!(
                    "Showing the {} largest assets and the {} largest components they depend on.",
                    asset_nodes.len(),
                    component_nodes.len()
                )
            }),
            assets: asset_nodes,
            components: component_nodes.into_iter().map(|(_, n)| n).collect(),
        }
    }

    /// The picture as one SVG element, with the note under it when the picture leaves something
    /// out.
    pub fn svg(&self) -> String {
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"dependency graph\" viewBox=\"0 0 {:.0} {:.0}\" width=\"100%\">",
            self.width, self.height
        );
        for c in &self.columns {
            let t = &c.title;
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{}\" font-weight=\"600\">{}</text>",
                t.at.x,
                t.at.y,
                t.at.anchor,
                esc(&t.text)
            );
        }
        s.push_str("<g stroke=\"#9aa7bd\" stroke-opacity=\".45\" fill=\"none\">");
        for e in &self.edges {
            let _ = write!(s, "<path d=\"{}\"/>", e.d);
        }
        s.push_str("</g>");
        for (class, nodes) in [("asset", &self.assets), ("component", &self.components)] {
            for n in nodes {
                node_svg(&mut s, class, n);
            }
        }
        s.push_str("</svg>");
        if let Some(note) = &self.note {
            let _ = write!(s, "<p>{}</p>", esc(note));
        }
        s
    }
}

/// An asset's node at `(x, y)`: labelled on its left, its fraction on its right; its hit area
/// spans the asset column.
fn asset_node(a: &AssetIn<'_>, x: f64, y: f64, r: f64, left: f64) -> Node {
    Node {
        id: a.id.to_owned(),
        kind: "asset",
        x,
        y,
        r,
        fill: ASSET_FILL,
        title: format!("{}: {}", a.id, usd(a.value_usd)),
        label: Text {
            text: a.id.to_owned(),
            at: Place {
                x: tenth(x - r - 4.0),
                y: y + 4.0,
                anchor: "end",
            },
        },
        frac: Place {
            x: tenth(x + r + 3.0),
            y: y + 4.0,
            anchor: "start",
        },
        hit: Rect {
            x: x - left + 4.0,
            y: y - ROW_H / 2.0,
            width: tenth(left - 4.0 + r + 36.0),
            height: ROW_H,
        },
    }
}

/// A component's node at `(x, y)`: labelled on its right, its fraction on its left; its hit area
/// spans its column.
fn component_node(
    c: &ComponentIn<'_>,
    (kind, name, fill): (&'static str, &str, &'static str),
    x: f64,
    y: f64,
    max_var: f64,
) -> Node {
    let r = radius(c.value_at_risk_usd, max_var);
    let label = if c.id.chars().count() > LABEL_CHARS {
        let mut l: String = c.id.chars().take(LABEL_CHARS - 1).collect();
        l.push('…');
        l
    } else {
        c.id.to_owned()
    };
    Node {
        id: c.id.to_owned(),
        kind,
        x,
        y,
        r,
        fill,
        title: format!("{} ({name}): {} at risk", c.id, usd(c.value_at_risk_usd)),
        label: Text {
            text: label,
            at: Place {
                x: tenth(x + r + 3.0),
                y: y + 4.0,
                anchor: "start",
            },
        },
        frac: Place {
            x: tenth(x - r - 3.0),
            y: y + 4.0,
            anchor: "end",
        },
        hit: Rect {
            x: tenth(x - r - 36.0),
            y: y - ROW_H / 2.0,
            width: COL_W + 16.0,
            height: ROW_H,
        },
    }
}

/// The curve from an asset's centre to a component's, its control points half-way across.
fn edge(from: &Node, to: &Node) -> Edge {
    let mid = tenth((from.x + to.x) / 2.0);
    Edge {
        asset: from.id.clone(),
        component: to.id.clone(),
        d: format!(
            "M{:.1},{:.1} C{mid:.1},{:.1} {mid:.1},{:.1} {:.1},{:.1}",
            from.x, from.y, from.y, to.y, to.x, to.y
        ),
    }
}

/// One node as an SVG group: the circle with its tooltip, and its label.
fn node_svg(s: &mut String, class: &str, n: &Node) {
    let _ = write!(
        s,
        "<g class=\"{class}\" data-id=\"{id}\"><circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\" fill=\"{}\"><title>{}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{}\">{}</text></g>",
        n.x,
        n.y,
        n.r,
        n.fill,
        esc(&n.title),
        n.label.at.x,
        n.label.at.y,
        n.label.at.anchor,
        esc(&n.label.text),
        id = esc(&n.id),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp<'a>(id: &'a str, kind: &'a str, value_at_risk_usd: f64) -> ComponentIn<'a> {
        ComponentIn {
            id,
            kind,
            value_at_risk_usd,
        }
    }

    fn asset<'a>(id: &'a str, value_usd: f64, own: &'a [u32]) -> AssetIn<'a> {
        AssetIn { id, value_usd, own }
    }

    fn components(n: usize) -> Vec<(String, &'static str, f64)> {
        (0..n)
            .map(|i| {
                let kind = COLUMNS[i % COLUMNS.len()].0;
                (format!("c{i:03}-{kind}"), kind, 1e6 * (i + 1) as f64)
            })
            .collect()
    }

    #[test]
    fn columns_are_sorted_centred_and_empty_ones_left_out() {
        let comps = [
            comp("zeta", "key", 1.0),
            comp("alpha", "key", 4.0),
            comp("eth", "chain", 9.0),
        ];
        let assets = [
            asset("A", 1.0, &[0, 2]),
            asset("B", 4.0, &[1, 2]),
            asset("C", 2.0, &[2]),
        ];
        let g = GraphLayout::new(&assets, &comps);
        let titles: Vec<&str> = g.columns.iter().map(|c| c.title.text.as_str()).collect();
        assert_eq!(titles, ["asset", "key", "chain"]);
        let ids: Vec<&str> = g.assets.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["B", "C", "A"]);
        let ids: Vec<&str> = g.components.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["alpha", "zeta", "eth"]);
        // Three rows: the single chain sits in the middle one; the two keys around it.
        assert_eq!(g.components[2].y, g.assets[1].y);
        assert_eq!(g.components[0].y + ROW_H / 2.0, g.assets[1].y);
        // Each column to the right of the previous one, the chain's circle the largest.
        assert!(g.components[0].x == g.components[1].x && g.components[2].x > g.components[0].x);
        assert_eq!(g.components[2].r, 11.0);
        assert_eq!(g.assets[0].r, 11.0);
        assert_eq!(g.edges.len(), 5);
        assert_eq!(g.note, None);
    }

    #[test]
    fn large_graphs_are_cut_and_say_so() {
        let comps = components(100);
        let comps: Vec<ComponentIn<'_>> = comps
            .iter()
            .map(|(id, kind, v)| comp(id, kind, *v))
            .collect();
        let own: Vec<u32> = (0..100).collect();
        let names: Vec<String> = (0..50).map(|i| format!("asset-{i}")).collect();
        let assets: Vec<AssetIn<'_>> = names
            .iter()
            .enumerate()
            .map(|(i, id)| asset(id, i as f64, &own))
            .collect();
        let g = GraphLayout::new(&assets, &comps);
        assert_eq!((g.assets.len(), g.components.len()), (40, 70));
        // The largest components are the ones kept.
        assert!(g.components.iter().all(|n| n.id.as_str() >= "c030"));
        assert_eq!(
            g.note.as_deref(),
            Some("Showing the 40 largest assets and the 70 largest components they depend on.")
        );
        assert!(g.svg().ends_with("they depend on.</p>"));
    }

    #[test]
    fn long_labels_are_cut_and_the_asset_column_makes_room() {
        let comps = [comp("a-very-long-component-identifier", "operator", 0.0)];
        let assets = [asset("an-asset-with-a-long-name@somewhere", 0.0, &[0])];
        let g = GraphLayout::new(&assets, &comps);
        assert_eq!(g.components[0].label.text, "a-very-long-compone…");
        assert_eq!(g.assets[0].x, (35.0 * CHAR_W).ceil() + 24.0);
        assert!(g.assets[0].label.at.x - 35.0 * CHAR_W >= 0.0);
        assert_eq!((g.assets[0].r, g.components[0].r), (3.0, 3.0));
    }

    #[test]
    fn the_svg_escapes_ids() {
        let comps = [comp("<k>", "key", 1.0)];
        let assets = [asset("a&b", 1.0, &[0, 7])];
        let s = GraphLayout::new(&assets, &comps).svg();
        assert!(s.contains("data-id=\"&lt;k&gt;\"") && s.contains(">a&amp;b</text>"));
        assert!(!s.contains("<k>"));
    }
}
