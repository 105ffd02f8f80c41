//! Protocols and claims from CSV, beside the TOML spec: risk teams keep balance sheets and
//! exposures in tables, and a 500,000-claim network is a table, not a document.
//!
//! `protocols.csv` has a header with `id`, `kind`, `chain` and any of `external_assets_usd`,
//! `external_liabilities_usd`, `seniority`, `capital_usd`, `deposits_usd`, `outflow_sensitivity`,
//! `liquid_share`, `source` (empty cells are unset; `source` documents the row and is not kept).
//! `claims.csv` has `debtor`, `creditor`, `amount_usd` and optionally `id`, `source`. Rows are
//! added to an already validated [`Model`] with the checks the spec's `[[protocol]]` and
//! `[[claim]]` get ([`Model::add_protocol`], [`Model::add_claim`]); a bad row is an error naming
//! the file, the line and the fix.
//!
//! This is the path `ringfence stress --protocols --claims` runs, so it is built for size: the
//! rows of a large table without quotes are parsed on every core in chunks (a quoted cell may
//! hold a line break, so a table with quotes is read in one piece), each with a reused record (no
//! allocation per cell) and numbers parsed in place; claim ids are resolved through one compact
//! hash index (see `Index`); the rows are then added in the file's order, and the first bad row
//! in the file is the one reported (for protocols, a duplicate id is found while adding, after
//! the rows were parsed). The rows go straight into the model's dense arrays, not through the
//! spec: so a `[[claim]]` or `[[range]]` in the TOML cannot name a protocol that only the CSV
//! declares (put such claims in `claims.csv`). Line numbers are counted from byte offsets,
//! comment and blank lines included.

use std::hash::BuildHasher as _;

use rayon::prelude::*;

use ringfence_model::spec::{Liquidation, ProtocolKind, Seniority};
use ringfence_model::{ClaimNode, Model, ProtocolNode};

use crate::error::{Error, Result};

/// A CSV table: its name in errors and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    /// The file name, as errors print it.
    pub label: &'a str,
    /// The CSV text.
    pub bytes: &'a [u8],
}

fn bad(label: &str, line: u64, message: impl Into<String>) -> Error {
    Error::Invalid {
        entity: format!("{label}:{line}"),
        message: message.into(),
    }
}

fn reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(bytes)
}

/// Column positions, by header name.
struct Header<'a> {
    label: &'a str,
    names: Vec<String>,
}

impl Header<'_> {
    fn read<'a>(label: &'a str, rdr: &mut csv::Reader<&[u8]>) -> Result<Header<'a>> {
        let names = rdr
            .byte_headers()
            .map_err(|e| bad(label, 1, format!("cannot read the header: {e}")))?
            .iter()
            .map(|h| String::from_utf8_lossy(h.trim_ascii()).into_owned())
            .collect();
        Ok(Header { label, names })
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|h| h == name)
    }

    fn need(&self, name: &str) -> Result<usize> {
        self.col(name).ok_or_else(|| {
            bad(
                self.label,
                1,
                format!(
                    "the header has no `{name}` column (it has: {}); add it",
                    self.names.join(", ")
                ),
            )
        })
    }
}

/// The trimmed cell, `None` when absent or empty.
fn cell(row: &csv::ByteRecord, col: Option<usize>) -> Option<&[u8]> {
    col.and_then(|c| row.get(c))
        .map(<[u8]>::trim_ascii)
        .filter(|s| !s.is_empty())
}

fn text<'r>(label: &str, line: u64, name: &str, bytes: &'r [u8]) -> Result<&'r str> {
    std::str::from_utf8(bytes).map_err(|_| {
        bad(
            label,
            line,
            format!("`{name}` is not UTF-8 text; save the file as UTF-8"),
        )
    })
}

fn number(label: &str, line: u64, name: &str, bytes: Option<&[u8]>) -> Result<Option<f64>> {
    let Some(b) = bytes else { return Ok(None) };
    let t = text(label, line, name, b)?;
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(bad(
            label,
            line,
            format!("`{name}` is `{t}`, not a number; write a plain decimal such as 1500000"),
        )),
    }
}

/// Line numbers from byte offsets: the `csv` crate's own line count skips comment lines.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    /// Counts from `first_line` at the start of `text`.
    fn new(text: &'a [u8], first_line: u64) -> Self {
        Lines {
            text,
            at: 0,
            line: first_line,
        }
    }

    /// The line of byte `offset` (offsets only grow).
    fn at(&mut self, offset: u64) -> u64 {
        let end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .clamp(self.at, self.text.len());
        self.line += memchr::memchr_iter(b'\n', &self.text[self.at..end]).count() as u64;
        self.at = end;
        self.line
    }

    /// The line a record starts on: its position is where the reader started looking for it, so
    /// the comment and blank lines before it are skipped.
    fn of_record(&mut self, row: &csv::ByteRecord) -> u64 {
        let mut offset = row.position().map_or(self.at as u64, csv::Position::byte);
        while let Some(rest) = usize::try_from(offset)
            .ok()
            .and_then(|o| self.text.get(o..))
        {
            let skip =
                rest.starts_with(b"#") || rest.starts_with(b"\n") || rest.starts_with(b"\r\n");
            match memchr::memchr(b'\n', rest) {
                Some(i) if skip => offset += i as u64 + 1,
                _ => break,
            }
        }
        self.at(offset)
    }

    fn of_error(&mut self, e: &csv::Error) -> u64 {
        let offset = e.position().map_or(self.at as u64, csv::Position::byte);
        self.at(offset)
    }
}

fn record_error(label: &str, line: u64, e: &csv::Error) -> Error {
    bad(
        label,
        line,
        format!("{e}; every row needs as many cells as the header"),
    )
}

fn kind(b: &[u8]) -> Option<ProtocolKind> {
    Some(match b {
        b"lending" => ProtocolKind::Lending,
        b"dex" => ProtocolKind::Dex,
        b"vault" => ProtocolKind::Vault,
        b"cdp" => ProtocolKind::Cdp,
        b"restaking" => ProtocolKind::Restaking,
        b"treasury" => ProtocolKind::Treasury,
        _ => return None,
    })
}

const NUMBERS: [&str; 6] = [
    "external_assets_usd",
    "external_liabilities_usd",
    "capital_usd",
    "deposits_usd",
    "outflow_sensitivity",
    "liquid_share",
];

/// An upper bound on the rows of a table (its lines), to allocate once.
fn rows(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count() + 1
}

/// The columns of `protocols.csv` the reader uses.
#[derive(Clone, Copy)]
struct ProtocolCols {
    id: usize,
    kind: usize,
    chain: usize,
    numbers: [Option<usize>; 6],
    seniority: Option<usize>,
    /// Cells in the header: every row has as many.
    width: usize,
}

/// A reader of rows after the header, which every row is checked against.
fn body_reader(body: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(body)
}

fn width_error(label: &str, line: u64, got: usize, width: usize) -> Error {
    bad(
        label,
        line,
        format!(
            "the row has {got} cells, the header {width}; every row needs as many cells as the header"
        ),
    )
}

/// Protocols of one chunk of rows whose first line is `first_line`, with the line of each.
fn parse_protocols(
    body: &[u8],
    first_line: u64,
    cols: ProtocolCols,
    model: &Model,
    label: &str,
) -> Result<Vec<(ProtocolNode, u64)>> {
    let mut rdr = body_reader(body);
    let mut out = Vec::with_capacity(rows(body));
    let mut row = csv::ByteRecord::new();
    let mut last_chain: Option<(Vec<u8>, usize)> = None;
    let mut lines = Lines::new(body, first_line);
    loop {
        match rdr.read_byte_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(record_error(label, lines.of_error(&e), &e)),
        }
        let line = lines.of_record(&row);
        if row.len() != cols.width {
            return Err(width_error(label, line, row.len(), cols.width));
        }
        let get = |c: usize| row.get(c).map_or(&b""[..], <[u8]>::trim_ascii);
        let kind_bytes = get(cols.kind);
        let kind = kind(kind_bytes).ok_or_else(|| {
            bad(
                label,
                line,
                format!(
                    "`kind` is `{}`; use lending, dex, vault, cdp, restaking or treasury",
                    String::from_utf8_lossy(kind_bytes)
                ),
            )
        })?;
        let chain_bytes = get(cols.chain);
        let chain = match &last_chain {
            Some((name, i)) if name.as_slice() == chain_bytes => *i,
            _ => {
                let name = text(label, line, "chain", chain_bytes)?;
                let i = model.chain_index(name).ok_or_else(|| {
                    let known: Vec<&str> = model
                        .chains
                        .iter()
                        .filter_map(|&c| model.components.get(c as usize))
                        .map(|c| c.id.as_str())
                        .collect();
                    let hint = ringfence_model::diag::closest(name, &known)
                        .map(|k| format!("did you mean `{k}`? otherwise "))
                        .unwrap_or_default();
                    bad(
                        label,
                        line,
                        format!(
                            "`chain` is `{name}`, not a chain of the spec; {hint}declare a `[[chain]]` with that id in the spec"
                        ),
                    )
                })?;
                last_chain = Some((chain_bytes.to_vec(), i));
                i
            }
        };
        let mut v = [None; 6];
        for (slot, (c, n)) in v.iter_mut().zip(cols.numbers.iter().zip(NUMBERS)) {
            *slot = number(label, line, n, cell(&row, *c))?;
        }
        let seniority = match cell(&row, cols.seniority) {
            None | Some(b"pari_passu") => Seniority::PariPassu,
            Some(b"senior") => Seniority::Senior,
            Some(x) => {
                return Err(bad(
                    label,
                    line,
                    format!(
                        "`seniority` is `{}`; use pari_passu or senior",
                        String::from_utf8_lossy(x)
                    ),
                ));
            }
        };
        let node = ProtocolNode {
            id: text(label, line, "id", get(cols.id))?.to_owned(),
            kind,
            chain,
            holdings: Vec::new(),
            external_assets_usd: v[0].unwrap_or(0.0),
            external_liabilities_usd: v[1].unwrap_or(0.0),
            seniority,
            capital_usd: v[2],
            deposits_usd: v[3].unwrap_or(0.0),
            outflow_sensitivity: v[4].unwrap_or(0.0),
            liquid_share: v[5],
            liquidation: Liquidation::default(),
            markets: Vec::new(),
        };
        out.push((node, line));
    }
    Ok(out)
}

/// The rows after the header of a table: `(rows, line of the first)`.
fn body<'t>(table: &Table<'t>, rdr: &csv::Reader<&[u8]>) -> (&'t [u8], u64) {
    let offset = rdr.position().byte();
    let first_line = Lines::new(table.bytes, 1).at(offset);
    let body = table
        .bytes
        .get(usize::try_from(offset).unwrap_or(usize::MAX)..)
        .unwrap_or_default();
    (body, first_line)
}

/// The results of the chunks, in file order; the first error in the file if any.
fn in_order<T>(parts: Vec<Result<T>>) -> Result<Vec<T>> {
    parts.into_iter().collect()
}

/// Adds the rows of `protocols.csv` to the model; returns how many. A large table is parsed on
/// every core, in chunks of rows, then added in the file's order.
pub fn add_protocols(model: &mut Model, table: Table<'_>) -> Result<usize> {
    let label = table.label;
    let mut rdr = reader(table.bytes);
    let h = Header::read(label, &mut rdr)?;
    let cols = ProtocolCols {
        id: h.need("id")?,
        kind: h.need("kind")?,
        chain: h.need("chain")?,
        numbers: NUMBERS.map(|n| h.col(n)),
        seniority: h.col("seniority"),
        width: h.names.len(),
    };
    let (body, first_line) = body(&table, &rdr);
    let parts = {
        let shared: &Model = model;
        in_order(
            chunks(body, first_line)
                .into_par_iter()
                .map(|(chunk, line)| parse_protocols(chunk, line, cols, shared, label))
                .collect(),
        )?
    };
    let added = parts.iter().map(Vec::len).sum();
    model.reserve(added, 0);
    for (node, line) in parts.into_iter().flatten() {
        model
            .add_protocol(node)
            .map_err(|e| bad(label, line, e.to_string()))?;
    }
    Ok(added)
}

/// The id index of the claims reader. 500,000 claims make a million lookups at random, and
/// each cache miss costs more than the hashing, so a slot holds the protocol's index, the id's
/// length and its first 8 bytes: an id of up to 8 bytes is found with two memory accesses (the
/// control bytes and the slot; 2 MB for 100,000 protocols), a longer one also compares the rest
/// with the ids laid end to end in one buffer.
struct Index {
    ids: Vec<u8>,
    /// `ids[ends[i - 1]..ends[i]]` is protocol `i`'s id (`ends[-1]` = 0).
    ends: Vec<u32>,
    table: hashbrown::HashTable<Slot>,
    hasher: foldhash::fast::FixedState,
}

#[derive(Clone, Copy)]
struct Slot {
    head: u64,
    len: u32,
    index: u32,
}

/// The first 8 bytes of an id, zero-padded, as one word.
fn head(id: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(id) {
        *d = *s;
    }
    u64::from_le_bytes(b)
}

impl Index {
    fn new(model: &Model) -> Self {
        let n = model.protocols.len();
        let mut ix = Index {
            ids: Vec::with_capacity(model.protocols.iter().map(|p| p.id.len()).sum()),
            ends: Vec::with_capacity(n),
            table: hashbrown::HashTable::with_capacity(n),
            hasher: foldhash::fast::FixedState::default(),
        };
        for (i, p) in model.protocols.iter().enumerate() {
            let id = p.id.as_bytes();
            ix.ids.extend_from_slice(id);
            ix.ends.push(ix.ids.len() as u32);
            let slot = Slot {
                head: head(id),
                len: id.len() as u32,
                index: i as u32,
            };
            let (ids, ends, hasher) = (&ix.ids, &ix.ends, &ix.hasher);
            ix.table.insert_unique(hasher.hash_one(id), slot, |s| {
                hasher.hash_one(Self::id_of(ids, ends, s.index as usize))
            });
        }
        ix
    }

    fn id_of<'a>(ids: &'a [u8], ends: &[u32], i: usize) -> &'a [u8] {
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        &ids[start..ends[i] as usize]
    }

    fn get(&self, id: &[u8]) -> Option<usize> {
        let (h, first) = (self.hasher.hash_one(id), head(id));
        self.table
            .find(h, |s| {
                s.len as usize == id.len()
                    && s.head == first
                    && (id.len() <= 8 || Self::id_of(&self.ids, &self.ends, s.index as usize) == id)
            })
            .map(|s| s.index as usize)
    }
}

fn lookup(
    index: &Index,
    model: &Model,
    label: &str,
    line: u64,
    field: &str,
    name: &[u8],
) -> Result<usize> {
    if let Some(i) = index.get(name) {
        return Ok(i);
    }
    let name = String::from_utf8_lossy(name);
    let hint = if model.protocols.len() <= 100_000 {
        let known: Vec<&str> = model.protocols.iter().map(|p| p.id.as_str()).collect();
        ringfence_model::diag::closest(&name, &known)
            .map(|k| format!("did you mean `{k}`? otherwise "))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Err(bad(
        label,
        line,
        format!(
            "`{field}` is `{name}`, not a protocol of the spec or the protocols table; {hint}add it to protocols.csv or fix the cell"
        ),
    ))
}

/// The columns of `claims.csv` the reader uses.
#[derive(Clone, Copy)]
struct ClaimCols {
    debtor: usize,
    creditor: usize,
    amount: usize,
    /// Cells in the header: every row has as many.
    width: usize,
}

/// Claims of one chunk of rows whose first line is `first_line`, with the line of each.
fn parse_claims(
    body: &[u8],
    first_line: u64,
    cols: ClaimCols,
    index: &Index,
    model: &Model,
    label: &str,
) -> Result<Vec<ClaimNode>> {
    let mut rdr = body_reader(body);
    let mut claims = Vec::with_capacity(rows(body));
    let mut row = csv::ByteRecord::new();
    // Tables are usually grouped by debtor: the last one is kept aside.
    let mut last: (Vec<u8>, usize) = (Vec::new(), usize::MAX);
    let mut at = Lines::new(body, first_line);
    loop {
        match rdr.read_byte_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(bad(label, at.of_error(&e), format!("{e}"))),
        }
        let line = at.of_record(&row);
        if row.len() != cols.width {
            return Err(width_error(label, line, row.len(), cols.width));
        }
        let get = |c: usize| row.get(c).map_or(&b""[..], <[u8]>::trim_ascii);
        let name = get(cols.debtor);
        let d = if last.1 != usize::MAX && last.0 == name {
            last.1
        } else {
            let d = lookup(index, model, label, line, "debtor", name)?;
            last.0.clear();
            last.0.extend_from_slice(name);
            last.1 = d;
            d
        };
        let c = lookup(index, model, label, line, "creditor", get(cols.creditor))?;
        let amount_usd = number(label, line, "amount_usd", cell(&row, Some(cols.amount)))?
            .ok_or_else(|| bad(label, line, "`amount_usd` is empty; give the claim in USD"))?;
        let claim = ClaimNode {
            debtor: d,
            creditor: c,
            amount_usd,
        };
        model
            .check_claim(&claim)
            .map_err(|e| bad(label, line, e.to_string()))?;
        claims.push(claim);
    }
    Ok(claims)
}

/// Splits the rows after the header into one chunk per thread at line ends, each with the line
/// number of its first row, when that is safe: a large table without quotes (a quoted cell may
/// hold a line break, so a file with quotes is read in one piece).
fn chunks(body: &[u8], first_line: u64) -> Vec<(&[u8], u64)> {
    let threads = rayon::current_num_threads();
    if threads < 2 || body.len() < 1 << 20 || memchr::memchr(b'"', body).is_some() {
        return vec![(body, first_line)];
    }
    let mut out = Vec::with_capacity(threads);
    let (mut start, mut line) = (0, first_line);
    for k in 1..=threads {
        let end = if k == threads {
            body.len()
        } else {
            let target = (body.len() * k / threads).max(start);
            memchr::memchr(b'\n', &body[target..]).map_or(body.len(), |i| target + i + 1)
        };
        if end > start {
            let chunk = &body[start..end];
            out.push((chunk, line));
            line += memchr::memchr_iter(b'\n', chunk).count() as u64;
            start = end;
        }
    }
    out
}

/// Adds the rows of `claims.csv` to the model (after its protocols); returns how many. A large
/// table is parsed on every core, in chunks of rows; the claims keep the file's order and the
/// first bad row in the file is the one reported.
pub fn add_claims(model: &mut Model, table: Table<'_>) -> Result<usize> {
    let label = table.label;
    let mut rdr = reader(table.bytes);
    let h = Header::read(label, &mut rdr)?;
    let cols = ClaimCols {
        debtor: h.need("debtor")?,
        creditor: h.need("creditor")?,
        amount: h.need("amount_usd")?,
        width: h.names.len(),
    };
    let (body, first_line) = body(&table, &rdr);
    if model.protocols.iter().map(|p| p.id.len()).sum::<usize>() > u32::MAX as usize {
        return Err(bad(
            label,
            1,
            "the protocol ids add up to more than 4 GB; split the network",
        ));
    }
    let parts = {
        let index = Index::new(model);
        let shared: &Model = model;
        in_order(
            chunks(body, first_line)
                .into_par_iter()
                .map(|(chunk, line)| parse_claims(chunk, line, cols, &index, shared, label))
                .collect(),
        )?
    };
    let added = parts.iter().map(Vec::len).sum();
    model.reserve(0, added);
    // Every row passed `check_claim` where it was read, with its line.
    for (k, claim) in parts.into_iter().flatten().enumerate() {
        model
            .add_claim(claim)
            .map_err(|e| bad(label, 0, format!("claim {} of the table: {e}", k + 1)))?;
    }
    Ok(added)
}

/// Adds `protocols.csv`, then `claims.csv`, to a validated model: what `ringfence stress SPEC
/// --protocols P --claims C` runs before the stress.
pub fn add_tables(
    model: &mut Model,
    protocols: Option<Table<'_>>,
    claims: Option<Table<'_>>,
) -> Result<(usize, usize)> {
    let p = match protocols {
        Some(t) => add_protocols(model, t)?,
        None => 0,
    };
    let c = match claims {
        Some(t) => add_claims(model, t)?,
        None => 0,
    };
    Ok((p, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Model {
        Model::from_str("spec.toml", "[[chain]]\nid = \"ethereum\"\nchain_id = 1\n")
            .expect("valid spec")
    }

    fn protocols(text: &str) -> Result<Model> {
        let mut m = chain();
        add_protocols(
            &mut m,
            Table {
                label: "p.csv",
                bytes: text.as_bytes(),
            },
        )?;
        Ok(m)
    }

    fn claims(p: &str, c: &str) -> Result<Model> {
        let mut m = protocols(p)?;
        add_claims(
            &mut m,
            Table {
                label: "c.csv",
                bytes: c.as_bytes(),
            },
        )?;
        Ok(m)
    }

    const THREE: &str = "id,kind,chain\nn0,vault,ethereum\nn1,vault,ethereum\nn2,dex,ethereum\n";

    #[test]
    fn protocols_and_claims_read_with_optional_columns() {
        let m = protocols(
            "id,kind,chain,external_assets_usd,external_liabilities_usd,seniority\n\
             n0,vault,ethereum,0.5,1.5,\n# a comment\nn1 , lending ,ethereum,1,,senior\n",
        )
        .expect("valid");
        let p = &m.protocols;
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].external_liabilities_usd, 1.5);
        assert_eq!(p[1].id, "n1");
        assert_eq!(p[1].kind, ProtocolKind::Lending);
        assert_eq!(p[1].seniority, Seniority::Senior);
        assert_eq!(p[1].external_liabilities_usd, 0.0);
        assert_eq!(m.protocol("n1"), Some(1));
        let m = claims(THREE, "debtor,creditor,amount_usd\nn0,n1,0.5\nn2,n0,2\n").expect("valid");
        assert_eq!(
            m.claims,
            vec![
                ClaimNode {
                    debtor: 0,
                    creditor: 1,
                    amount_usd: 0.5
                },
                ClaimNode {
                    debtor: 2,
                    creditor: 0,
                    amount_usd: 2.0
                }
            ]
        );
    }

    #[test]
    fn bad_rows_name_the_file_the_line_and_the_fix() {
        let cases: [(&str, &str, &str); 8] = [
            (
                "c.csv:3",
                "lots",
                "debtor,creditor,amount_usd\nn0,n1,0.5\nn1,n0,lots\n",
            ),
            ("c.csv:1", "amount_usd", "debtor,creditor\nn0,n1\n"),
            (
                "c.csv:2",
                "as many cells",
                "debtor,creditor,amount_usd\nn0,n1\n",
            ),
            (
                "c.csv:2",
                "nobody",
                "debtor,creditor,amount_usd\nn0,nobody,1\n",
            ),
            (
                "c.csv:2",
                "owe itself",
                "debtor,creditor,amount_usd\nn0,n0,1\n",
            ),
            (
                "c.csv:2",
                "never negative",
                "debtor,creditor,amount_usd\nn0,n1,-1\n",
            ),
            (
                "c.csv:2",
                "not a number",
                "debtor,creditor,amount_usd\nn0,n1,inf\n",
            ),
            (
                "c.csv:2",
                "is empty",
                "debtor,creditor,amount_usd\nn0,n1,\n",
            ),
        ];
        for (at, what, text) in cases {
            let e = claims(THREE, text).expect_err(text).to_string();
            assert!(e.starts_with(at) && e.contains(what), "{text}: {e}");
        }
        let cases: [(&str, &str, &str); 6] = [
            ("p.csv:2", "lending", "id,kind,chain\nn0,bank,ethereum\n"),
            (
                "p.csv:2",
                "did you mean `ethereum`",
                "id,kind,chain\nn0,vault,etherum\n",
            ),
            (
                "p.csv:3",
                "duplicate id `n0`",
                "id,kind,chain\nn0,vault,ethereum\nn0,dex,ethereum\n",
            ),
            (
                "p.csv:2",
                "duplicate id `ethereum`",
                "id,kind,chain\nethereum,vault,ethereum\n",
            ),
            (
                "p.csv:2",
                "between 0 and 1",
                "id,kind,chain,liquid_share\nn0,vault,ethereum,1.5\n",
            ),
            (
                "p.csv:2",
                "reserved",
                "id,kind,chain\norg:x,vault,ethereum\n",
            ),
        ];
        for (at, what, text) in cases {
            let e = protocols(text).expect_err(text).to_string();
            assert!(e.starts_with(at) && e.contains(what), "{text}: {e}");
        }
        let e = claims(
            THREE,
            "debtor,creditor,amount_usd\n# a comment\n\nn0,n1,x\n",
        )
        .expect_err("after a comment")
        .to_string();
        assert!(e.starts_with("c.csv:4:"), "{e}");
        let e = protocols("# comment\nid,kind,chain\n# another\nn0,bank,ethereum\n")
            .expect_err("after comments")
            .to_string();
        assert!(e.starts_with("p.csv:4:"), "{e}");
        let e = protocols("id,kind\nn0,vault\n")
            .expect_err("no chain")
            .to_string();
        assert!(e.contains("`chain` column"), "{e}");
    }

    #[test]
    fn a_large_table_read_in_chunks_keeps_the_order_and_the_line_numbers() {
        // Over 1 MB without quotes: parsed in one chunk per thread.
        let mut text = String::from("debtor,creditor,amount_usd\n");
        let mut want = Vec::new();
        for i in 0..120_000u32 {
            if i % 1000 == 0 {
                text += "# a comment line\n";
            }
            let (d, c) = ((i % 3) as usize, ((i + 1) % 3) as usize);
            text += &format!("n{d},n{c},{i}\n");
            want.push(ClaimNode {
                debtor: d,
                creditor: c,
                amount_usd: f64::from(i),
            });
        }
        assert!(text.len() > 1 << 20);
        let m = claims(THREE, &text).expect("valid");
        assert_eq!(m.claims, want);
        // Row i sits on line 2 + i + (comments before it): the last row is on line 120,121.
        let bad = text.replacen("n2,n0,119999", "n2,n0,oops", 1);
        let e = claims(THREE, &bad).expect_err("bad amount").to_string();
        assert!(e.starts_with("c.csv:120121:"), "{e}");
        let bad = text.replacen("n0,n1,60000\n", "n0,n1\n", 1);
        let e = claims(THREE, &bad).expect_err("short row").to_string();
        assert!(e.starts_with("c.csv:60063:") && e.contains("cells"), "{e}");
    }

    #[test]
    fn a_large_protocols_table_read_in_chunks_keeps_the_order_the_lines_and_the_checks() {
        let mut text = String::from("id,kind,chain,external_assets_usd\n");
        for i in 0..50_000u32 {
            text += &format!("protocol-{i},vault,ethereum,{i}\n");
            if i % 5000 == 0 {
                text += "# a comment line\n";
            }
        }
        assert!(text.len() > 1 << 20);
        let m = protocols(&text).expect("valid");
        assert_eq!(m.protocols.len(), 50_000);
        for (i, p) in m.protocols.iter().enumerate() {
            assert_eq!(p.id, format!("protocol-{i}"));
            assert_eq!(p.external_assets_usd, i as f64);
        }
        // The last row is on line 1 + 50,000 + 10 comment lines; a duplicate of a row in another
        // chunk is caught where it is written.
        let dup = text.replacen("protocol-49999,", "protocol-7,", 1);
        let e = protocols(&dup).expect_err("duplicate").to_string();
        assert!(
            e.starts_with("p.csv:50011:") && e.contains("duplicate id `protocol-7`"),
            "{e}"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,300}") {
            let _ = protocols(&text);
            let _ = claims(THREE, &text);
        }

        #[test]
        fn a_bad_row_is_named_at_its_line_whatever_the_comments_and_blank_lines(
            rows in proptest::collection::vec(0..4u8, 1..40),
            bad in 0..40usize,
            crlf in proptest::bool::ANY,
        ) {
            // 0: a claim, 1: a comment line, 2: a blank line, 3: a claim; one claim is bad.
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("debtor,creditor,amount_usd{nl}");
            let (mut line, mut seen, mut want) = (1, 0, None);
            for r in &rows {
                line += 1;
                match r {
                    1 => text += &format!("# comment{nl}"),
                    2 => text += nl,
                    _ => {
                        if seen == bad % rows.len().max(1) && want.is_none() {
                            text += &format!("n0,n1,oops{nl}");
                            want = Some(line);
                        } else {
                            text += &format!("n0,n1,1{nl}");
                        }
                        seen += 1;
                    }
                }
            }
            match want {
                Some(l) => {
                    let e = claims(THREE, &text).expect_err("a bad row").to_string();
                    proptest::prop_assert!(e.starts_with(&format!("c.csv:{l}:")), "{e}");
                }
                None => {
                    proptest::prop_assert!(claims(THREE, &text).is_ok());
                }
            }
        }

        #[test]
        fn ids_of_every_length_resolve_to_their_protocol(
            ids in proptest::collection::btree_set("(abcdefgh){0,2}[a-c]{1,8}", 2..30),
            picks in proptest::collection::vec((0..1000usize, 1..1000usize), 1..40),
            unknown in "[a-c]{1,8}x",
        ) {
            // Ids sharing their first 8 bytes and differing after, or in length, or not at all
            // up to their end: the inline head and the length must both be checked.
            let ids: Vec<String> = ids.into_iter().collect();
            let mut p = String::from("id,kind,chain\n");
            for id in &ids {
                p += &format!("{id},vault,ethereum\n");
            }
            let mut c = String::from("debtor,creditor,amount_usd\n");
            let mut want = Vec::new();
            for &(d, step) in &picks {
                let (d, k) = (d % ids.len(), (d + step % (ids.len() - 1) + 1) % ids.len());
                c += &format!("{},{},1\n", ids[d], ids[k]);
                want.push((d, k));
            }
            let m = claims(&p, &c).expect("valid");
            let got: Vec<(usize, usize)> = m.claims.iter().map(|x| (x.debtor, x.creditor)).collect();
            proptest::prop_assert_eq!(got, want);
            let bad = format!("{c}{},{unknown},1\n", ids[0]);
            let e = claims(&p, &bad).expect_err("unknown creditor").to_string();
            proptest::prop_assert!(e.contains(&format!("`{unknown}`")), "{}", e);
        }

        #[test]
        fn claims_round_trip(rows in proptest::collection::vec((0..3usize, 1..3usize, 0.0..1e12f64), 0..50)) {
            let mut text = String::from("debtor,creditor,amount_usd\n");
            let mut want = Vec::new();
            for &(d, step, a) in &rows {
                let c = (d + step) % 3;
                text += &format!("n{d}, n{c} ,{a}\n");
                want.push(ClaimNode { debtor: d, creditor: c, amount_usd: a });
            }
            let got = claims(THREE, &text).expect("valid");
            proptest::prop_assert_eq!(got.claims, want);
        }
    }
}
