//! Guard config loading: TOML parsed with recovery, each entry read on its own into the
//! [`crate::document`] types so that every problem (syntax, unknown key, wrong type, dangling
//! reference, bad address, amount or event signature) is reported at once with its file, line
//! and column; the entries read are then resolved into a [`GuardSpec`].

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use alloy::json_abi::{Event as AbiEvent, Function};
use alloy::primitives::{Address, U256};
use serde::de::{DeserializeOwned, IgnoredAny};
use toml::Spanned;
use toml::de::DeValue;

use crate::amount::parse_units;
use crate::diag::{Diagnostics, SourceFile};
pub use crate::document::MatchItem;
use crate::document::*;
use crate::event::MAX_FIELDS;
use crate::layers::{LAYER_EVENTS, Layer, LayerEvent};
use crate::spec::*;
use ringfence_model::input::{TomlInput, list};

/// Reads and validates the guard config at `path`.
pub fn load(path: &Path) -> crate::Result<GuardSpec> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(parse(path, &text)?)
}

/// Validates a guard config given as text; `path` is only used in diagnostics and to resolve a
/// relative `[store] path` (relative paths are kept as written).
pub fn parse(path: &Path, text: &str) -> Result<GuardSpec, Diagnostics> {
    read(path, text).map(|(_, spec)| spec)
}

/// The document of a valid guard config given as text, as written (every entry in file
/// order, defaults not filled in): what [`parse`] resolves, and what `toml::to_string` writes
/// back. A config with a problem is refused with the same diagnostics as [`parse`] gives.
pub fn parse_document(path: &Path, text: &str) -> Result<GuardDocument, Diagnostics> {
    read(path, text).map(|(doc, _)| doc)
}

fn read(path: &Path, text: &str) -> Result<(GuardDocument, GuardSpec), Diagnostics> {
    let mut cx = Cx {
        input: TomlInput::new(SourceFile::new(path, text)),
        handlers: Vec::new(),
    };
    let read = cx.parse(text);
    cx.input.finish(read)
}

type S = Spanned<String>;

const CHANGE_NAMES: [&str; 8] = [
    "role-granted",
    "role-revoked",
    "ownership-transferred",
    "upgraded",
    "admin-changed",
    "signer-set-changed",
    "paused",
    "layer-config-changed",
];

struct Cx {
    input: TomlInput,
    /// Every (chain, contract, topic 0) a log handler is registered for, with who registers it
    /// and where: two different handlers on one key would lose one of them.
    handlers: Vec<HandlerUse>,
}

struct HandlerUse {
    chain: u16,
    contract: Address,
    topic0: alloy::primitives::B256,
    /// `token `x``, `bridge `y` source`, `privileged rule `z``.
    who: String,
    /// Privileged handlers of one contract are shared by every rule watching it.
    shared: bool,
    span: Range<usize>,
}

/// The rule being resolved: its id, and its `kind` with where it is written (a missing key is
/// reported there).
struct RuleAt<'a> {
    id: &'a str,
    kind: &'static str,
    kind_span: Range<usize>,
}

/// The keys a pause and a cancel action share, borrowed from either.
struct TxDoc<'a> {
    kind: &'static str,
    id: &'a S,
    chain: &'a Option<S>,
    contract: &'a Option<S>,
    call: &'a Option<S>,
    key_env: &'a Option<S>,
    gas_limit: Option<u64>,
}

/// The transaction of a pause or cancel action, resolved.
struct Tx {
    chain: u16,
    contract: Address,
    func: Function,
    key_env: String,
    gas_limit: u64,
}

impl Cx {
    /// The file's sections in [`SECTIONS`] order: `[store]` and each `[[…]]` list's entries; a
    /// section of the wrong shape or an unknown one is reported.
    fn sections<'t>(&mut self, root: &toml::de::DeTable<'t>) -> [Vec<Spanned<DeValue<'t>>>; 6] {
        let mut sections: [Vec<Spanned<DeValue<'t>>>; 6] = Default::default();
        for (k, v) in root.iter() {
            match SECTIONS.iter().position(|t| *t == k.get_ref().as_ref()) {
                Some(i) => match v.get_ref() {
                    DeValue::Array(items) if i > 0 => sections[i].extend(items.iter().cloned()),
                    DeValue::Table(_) if i == 0 => sections[0].push(v.clone()),
                    _ => {
                        let want = if i == 0 {
                            "a table `[store]`"
                        } else {
                            "an array of tables"
                        };
                        let help = if i == 0 {
                            "write `[store]`".to_owned()
                        } else {
                            format!("write `[[{}]]`", SECTIONS[i])
                        };
                        self.input.err(
                            Some(v.span()),
                            None,
                            format!("`{k}` must be {want}", k = k.get_ref()),
                            help,
                        );
                    }
                },
                None => self.input.err(
                    Some(k.span()),
                    None,
                    format!("unknown section `{}`", k.get_ref()),
                    format!("sections are {}", list(&SECTIONS)),
                ),
            }
        }
        sections
    }

    fn parse(&mut self, text: &str) -> Option<(GuardDocument, GuardSpec)> {
        let (root, _) = self.input.document(text);
        let sections = self.sections(&root);
        let [store, chains, tokens, bridges, actions, rules] = sections;

        let store_doc = match store.first() {
            Some(v) => self.entry::<StoreDoc>(v, "store"),
            None => {
                self.input.err(
                    None,
                    None,
                    "missing `[store]`",
                    "add `[store]` with `path = \"ringfence.db\"`",
                );
                None
            }
        };

        let chain_docs: Vec<ChainDoc> = self.entries(&chains, "chain");
        let chain_specs: Vec<ChainSpec> = chain_docs.iter().filter_map(|c| self.chain(c)).collect();
        self.unique(chain_specs.iter().map(|c| c.id.as_str()), "chain");
        if chain_specs.is_empty() {
            self.input.err(
                None,
                None,
                "no `[[chain]]`",
                "declare at least one chain with `id` and `rpc`",
            );
        }

        let token_docs: Vec<TokenDoc> = self.entries(&tokens, "token");
        let token_specs = self.resolve_each(
            &token_docs,
            |t| &t.id,
            "token",
            |cx, t| cx.token(&chain_specs, t),
        );

        let bridge_docs: Vec<BridgeDoc> = self.entries(&bridges, "bridge");
        let bridge_specs = self.resolve_each(
            &bridge_docs,
            |b| &b.id,
            "bridge",
            |cx, b| cx.bridge(&chain_specs, b),
        );

        let action_docs: Vec<ActionDoc> =
            actions.iter().filter_map(|v| self.action_doc(v)).collect();
        let action_specs = self.resolve_each(&action_docs, ActionDoc::id, "action", |cx, a| {
            cx.action(&chain_specs, a)
        });

        let rule_docs: Vec<(RuleDoc, Range<usize>)> =
            rules.iter().filter_map(|v| self.rule_doc(v)).collect();
        let mut spec = GuardSpec {
            store: StoreSpec {
                path: PathBuf::new(),
            },
            chains: chain_specs,
            tokens: token_specs,
            bridges: bridge_specs,
            actions: action_specs,
            rules: Vec::new(),
        };
        let mut ids = HashSet::new();
        let mut rule_specs = Vec::new();
        for (r, kind_span) in &rule_docs {
            if !ids.insert(r.id().get_ref().clone()) {
                self.dup(r.id(), "rule");
            }
            if let Some(s) = self.rule(&spec, r, kind_span.clone()) {
                rule_specs.push(s);
            }
        }

        self.collisions();

        let store_doc = store_doc?;
        spec.store.path = PathBuf::from(store_doc.path.get_ref());
        spec.rules = rule_specs;
        let doc = GuardDocument {
            store: store_doc,
            chain: chain_docs,
            token: token_docs,
            bridge: bridge_docs,
            action: action_docs,
            rule: rule_docs.into_iter().map(|(r, _)| r).collect(),
        };
        Some((doc, spec))
    }

    /// Resolves the entries of one section in file order, refusing a repeated id.
    fn resolve_each<D, T>(
        &mut self,
        docs: &[D],
        id: impl Fn(&D) -> &S,
        what: &str,
        mut resolve: impl FnMut(&mut Self, &D) -> Option<T>,
    ) -> Vec<T> {
        let mut ids = HashSet::new();
        let mut out = Vec::new();
        for d in docs {
            if !ids.insert(id(d).get_ref().clone()) {
                self.dup(id(d), what);
            }
            if let Some(s) = resolve(self, d) {
                out.push(s);
            }
        }
        out
    }

    /// Two different handlers on one (chain, contract, topic 0): the decoder would serve one and
    /// silently drop the other, so the config is refused, at the second, naming the first.
    fn collisions(&mut self) {
        let uses = std::mem::take(&mut self.handlers);
        let mut seen: std::collections::HashMap<(u16, Address, alloy::primitives::B256), usize> =
            std::collections::HashMap::new();
        for (i, u) in uses.iter().enumerate() {
            match seen.get(&(u.chain, u.contract, u.topic0)) {
                None => {
                    seen.insert((u.chain, u.contract, u.topic0), i);
                }
                Some(&j) => {
                    let first = &uses[j];
                    if first.shared && u.shared {
                        continue;
                    }
                    let (line, _) = self.input.file.line_col(first.span.start);
                    self.input.err(
                        Some(u.span.clone()),
                        None,
                        format!(
                            "{} decodes the same logs as {} (line {line}): contract {} on the same chain, same event topic {}",
                            u.who, first.who, u.contract, u.topic0
                        ),
                        "one (contract, event) pair can feed one handler: remove the duplicate, or watch a different contract or event",
                    );
                }
            }
        }
    }

    fn dup(&mut self, id: &S, what: &str) {
        self.input.err(
            Some(id.span()),
            Some(id.get_ref()),
            format!("duplicate {what} id `{}`", id.get_ref()),
            format!("give every {what} a different id"),
        );
    }

    fn unique<'s>(&mut self, ids: impl Iterator<Item = &'s str>, what: &str) {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                self.input
                    .err(None, Some(id), format!("duplicate {what} id `{id}`"), "");
            }
        }
    }

    /// Reads the `kind` of an entry of a tagged section (`action`, `rule`): the entry must be a
    /// table whose `kind` is one of `kinds`. Returns the kind and where it is written.
    fn kind_of(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        kinds: &[&'static str],
        what: &str,
    ) -> Option<(&'static str, Range<usize>)> {
        // The shared check that an entry is a table (any table deserialises as `IgnoredAny`).
        self.input.entry::<IgnoredAny>(v, what, None)?;
        let DeValue::Table(t) = v.get_ref() else {
            return None;
        };
        let id = t
            .get("id")
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_owned);
        match t.get("kind") {
            None => {
                self.input.err(
                    Some(v.span()),
                    id.as_deref(),
                    format!("{what} has no `kind`"),
                    format!("kinds are {}", list(kinds)),
                );
                None
            }
            Some(k) => match k
                .get_ref()
                .as_str()
                .and_then(|s| kinds.iter().find(|n| **n == s))
            {
                Some(kind) => Some((*kind, k.span())),
                None => {
                    self.input.err(
                        Some(k.span()),
                        id.as_deref(),
                        format!("unknown {what} kind {}", show_value(k.get_ref())),
                        format!("kinds are {}", list(kinds)),
                    );
                    None
                }
            },
        }
    }

    /// Checks an untagged entry's keys against `T`'s fields and deserialises it.
    fn entry<T: DeserializeOwned>(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Option<T> {
        self.input.entry(v, what, Some(fields::<T>()))
    }

    /// [`Cx::entry`] of every entry of a section that reads.
    fn entries<T: DeserializeOwned>(
        &mut self,
        items: &[Spanned<DeValue<'_>>],
        what: &str,
    ) -> Vec<T> {
        items.iter().filter_map(|v| self.entry(v, what)).collect()
    }

    /// Checks a tagged entry's keys (`id`, `kind` and `T`'s fields) and deserialises it.
    fn tagged<T: DeserializeOwned>(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Option<T> {
        let keys = kind_fields::<T>();
        self.input.entry(v, what, Some(&keys))
    }

    /// One `[[action]]`, read as the struct of its kind.
    fn action_doc(&mut self, v: &Spanned<DeValue<'_>>) -> Option<ActionDoc> {
        let (kind, _) = self.kind_of(v, &ACTION_KINDS, "action")?;
        match kind {
            kind::PAUSE => self.tagged(v, "action").map(ActionDoc::Pause),
            kind::CANCEL => self.tagged(v, "action").map(ActionDoc::Cancel),
            _ => self.tagged(v, "action").map(ActionDoc::Webhook),
        }
    }

    /// One `[[rule]]`, read as the struct of its kind, with where its `kind` is written.
    fn rule_doc(&mut self, v: &Spanned<DeValue<'_>>) -> Option<(RuleDoc, Range<usize>)> {
        let (kind, span) = self.kind_of(v, &RULE_KINDS, "rule")?;
        let doc = match kind {
            kind::MINT_RATE => self.tagged(v, "rule").map(RuleDoc::MintRate),
            kind::OUTFLOW_RATE => self.tagged(v, "rule").map(RuleDoc::OutflowRate),
            kind::MESSAGE_MATCH => self.tagged(v, "rule").map(RuleDoc::MessageMatch),
            kind::BACKING => self.tagged(v, "rule").map(RuleDoc::Backing),
            kind::PRIVILEGED => self.tagged(v, "rule").map(RuleDoc::Privileged),
            _ => self.tagged(v, "rule").map(RuleDoc::Anomaly),
        };
        Some((doc?, span))
    }

    fn address(&mut self, s: &S, entity: &str) -> Option<Address> {
        read_address(&mut self.input, s, entity)
    }

    fn chain_ref(&mut self, chains: &[ChainSpec], s: &S, entity: &str) -> Option<u16> {
        let found = chains.iter().position(|c| &c.id == s.get_ref());
        match found.and_then(|i| u16::try_from(i).ok()) {
            Some(i) => Some(i),
            None => {
                let ids: Vec<&str> = chains.iter().map(|c| c.id.as_str()).collect();
                self.input.err(
                    Some(s.span()),
                    Some(entity),
                    format!("unknown chain `{}`", s.get_ref()),
                    format!("declared chains: {}", list(&ids)),
                );
                None
            }
        }
    }

    fn event(&mut self, s: &S, entity: &str) -> Option<AbiEvent> {
        match AbiEvent::parse(s.get_ref()) {
            Ok(e) if e.inputs.len() <= MAX_FIELDS => Some(e),
            Ok(_) => {
                self.input.err(
                    Some(s.span()),
                    Some(entity),
                    format!("event has more than {MAX_FIELDS} parameters"),
                    "",
                );
                None
            }
            Err(e) => {
                self.input.err(
                    Some(s.span()),
                    Some(entity),
                    format!("not an event signature: {e}"),
                    "write e.g. \"Locked(bytes32 indexed id, address token, uint256 amount, address recipient)\"",
                );
                None
            }
        }
    }

    fn chain(&mut self, c: &ChainDoc) -> Option<ChainSpec> {
        let id = c.id.get_ref().clone();
        let endpoints = read_endpoints(&mut self.input, &c.rpc, c.quorum.as_ref(), &id)?;
        let rpc: Vec<crate::secret::RpcUrl> = endpoints
            .urls
            .iter()
            .map(|u| crate::secret::RpcUrl::new(u.expose()))
            .collect();
        let transport = match rpc.first().map(crate::secret::RpcUrl::scheme) {
            Some("ws" | "wss") => Transport::Ws,
            _ => Transport::Http,
        };
        let mut ok = true;
        if let Some(p) = &c.poll_ms
            && *p.get_ref() == 0
        {
            self.input.err(
                Some(p.span()),
                Some(&id),
                "`poll_ms` must be at least 1",
                "",
            );
            ok = false;
        }
        if let Some(p) = &c.max_block_range
            && *p.get_ref() == 0
        {
            self.input.err(
                Some(p.span()),
                Some(&id),
                "`max_block_range` must be at least 1",
                "",
            );
            ok = false;
        }
        ok.then(|| ChainSpec {
            id,
            rpc,
            quorum: endpoints.quorum,
            transport,
            confirmations: c.confirmations.unwrap_or(0),
            poll_ms: c.poll_ms.as_ref().map_or(200, |p| *p.get_ref()),
            start_block: c.start_block,
            max_block_range: c.max_block_range.as_ref().map_or(2000, |m| *m.get_ref()),
            stale_after_s: c.stale_after_s.unwrap_or(30),
        })
    }

    fn token(&mut self, chains: &[ChainSpec], t: &TokenDoc) -> Option<TokenSpec> {
        let id = t.id.get_ref().clone();
        let chain = self.chain_ref(chains, &t.chain, &id);
        let address = self.address(&t.address, &id);
        let decimals = *t.decimals.get_ref();
        if decimals > 77 {
            self.input.err(
                Some(t.decimals.span()),
                Some(&id),
                "`decimals` must be at most 77",
                "",
            );
            return None;
        }
        let price_usd = match &t.price_usd {
            Some(p) if !p.get_ref().is_finite() || *p.get_ref() < 0.0 => {
                self.input.err(
                    Some(p.span()),
                    Some(&id),
                    "`price_usd` must be a non-negative number",
                    "",
                );
                return None;
            }
            Some(p) => *p.get_ref(),
            None => 0.0,
        };
        let (chain, address) = (chain?, address?);
        self.handlers.push(HandlerUse {
            chain,
            contract: address,
            topic0: alloy::primitives::keccak256("Transfer(address,address,uint256)"),
            who: format!("token `{id}` (Transfer)"),
            shared: false,
            span: t.address.span(),
        });
        Some(TokenSpec {
            id,
            chain,
            address,
            decimals,
            price_usd,
        })
    }

    fn bridge_end(
        &mut self,
        chains: &[ChainSpec],
        e: &EndDoc,
        id: &str,
    ) -> Option<BridgeEventSpec> {
        let chain = self.chain_ref(chains, &e.chain, id);
        let contract = self.address(&e.contract, id);
        let event = self.event(&e.event, id)?;
        let topic0 = event.selector();
        Some(BridgeEventSpec {
            chain: chain?,
            contract: contract?,
            event,
            topic0,
        })
    }

    fn bridge(&mut self, chains: &[ChainSpec], b: &BridgeDoc) -> Option<BridgeSpec> {
        let id = b.id.get_ref().clone();
        let source = self.bridge_end(chains, &b.source, &id);
        let destination = self.bridge_end(chains, &b.destination, &id);
        let (source, destination) = (source?, destination?);
        for (end, raw, side) in [
            (&source, &b.source, "source"),
            (&destination, &b.destination, "destination"),
        ] {
            self.handlers.push(HandlerUse {
                chain: end.chain,
                contract: end.contract,
                topic0: end.topic0,
                who: format!("bridge `{id}` {side}"),
                shared: false,
                span: raw.event.span(),
            });
        }
        let m = resolve_match_on(
            &mut self.input,
            &b.match_on,
            b.key.as_ref(),
            &source.event,
            &destination.event,
            &id,
        )?;
        Some(BridgeSpec {
            id,
            source,
            destination,
            match_on: m.names,
            match_idx: m.idx,
            key: m.key,
            tolerance: m.tolerance,
        })
    }

    fn action(&mut self, chains: &[ChainSpec], a: &ActionDoc) -> Option<ActionSpec> {
        let kind = match a {
            ActionDoc::Pause(p) => self.pause(chains, p)?,
            ActionDoc::Cancel(c) => self.cancel(chains, c)?,
            ActionDoc::Webhook(w) => self.webhook(w)?,
        };
        Some(ActionSpec {
            id: a.id().get_ref().clone(),
            kind,
        })
    }

    /// A `pause` action: a transaction calling a function without arguments.
    fn pause(&mut self, chains: &[ChainSpec], p: &PauseDoc) -> Option<ActionKind> {
        let tx = TxDoc {
            kind: kind::PAUSE,
            id: &p.id,
            chain: &p.chain,
            contract: &p.contract,
            call: &p.call,
            key_env: &p.key_env,
            gas_limit: p.gas_limit,
        };
        let t = self.transaction(
            chains,
            &tx,
            &[],
            |f| f.inputs.is_empty(),
            ("takes no arguments", "\"pause()\""),
        )?;
        Some(ActionKind::Pause {
            chain: t.chain,
            contract: t.contract,
            call: t.func.signature(),
            selector: t.func.selector().0,
            key_env: t.key_env,
            gas_limit: t.gas_limit,
        })
    }

    /// A `cancel` action: a transaction calling a one-`bytes32` function with the `arg`
    /// parameter of the tripping event.
    fn cancel(&mut self, chains: &[ChainSpec], c: &CancelDoc) -> Option<ActionKind> {
        let tx = TxDoc {
            kind: kind::CANCEL,
            id: &c.id,
            chain: &c.chain,
            contract: &c.contract,
            call: &c.call,
            key_env: &c.key_env,
            gas_limit: c.gas_limit,
        };
        let t = self.transaction(
            chains,
            &tx,
            &[(&c.arg, "arg")],
            |f| f.inputs.len() == 1 && f.inputs[0].ty == "bytes32",
            (
                "takes exactly one `bytes32` argument",
                "\"cancel(bytes32)\"",
            ),
        )?;
        Some(ActionKind::Cancel {
            chain: t.chain,
            contract: t.contract,
            call: t.func.signature(),
            selector: t.func.selector().0,
            arg: c.arg.as_ref()?.get_ref().clone(),
            only_if: c.only_if.as_ref().map(|s| s.get_ref().clone()),
            key_env: t.key_env,
            gas_limit: t.gas_limit,
        })
    }

    /// The transaction of a pause or cancel action: every required key present (with `more`
    /// of the kind), the chain and contract resolved, `call` a function `takes` accepts
    /// (`want`, with an example, says what it must take), the key named by an environment
    /// variable.
    fn transaction(
        &mut self,
        chains: &[ChainSpec],
        tx: &TxDoc<'_>,
        more: &[(&Option<S>, &str)],
        takes: fn(&Function) -> bool,
        (want, example): (&str, &str),
    ) -> Option<Tx> {
        let (kind, id) = (tx.kind, tx.id.get_ref());
        let needed = [
            (tx.chain, "chain"),
            (tx.contract, "contract"),
            (tx.call, "call"),
            (tx.key_env, "key_env"),
        ];
        for (v, key) in needed.iter().chain(more) {
            if v.is_none() {
                self.input.err(
                    Some(tx.id.span()),
                    Some(id),
                    format!("{kind} action needs `{key}`"),
                    "",
                );
            }
        }
        let (Some(chain), Some(contract), Some(call), Some(key_env)) =
            (tx.chain, tx.contract, tx.call, tx.key_env)
        else {
            return None;
        };
        let chain = self.chain_ref(chains, chain, id);
        let contract = self.address(contract, id);
        let func = match Function::parse(call.get_ref()) {
            Ok(f) if takes(&f) => Some(f),
            Ok(_) => {
                self.input.err(
                    Some(call.span()),
                    Some(id),
                    format!("a {kind} call {want}"),
                    format!("write e.g. {example}"),
                );
                None
            }
            Err(e) => {
                self.input.err(
                    Some(call.span()),
                    Some(id),
                    format!("not a function signature: {e}"),
                    format!("write e.g. {example}"),
                );
                None
            }
        };
        let key_env = self.key_env(key_env, id);
        let (func, key_env) = (func?, key_env?);
        Some(Tx {
            chain: chain?,
            contract: contract?,
            func,
            key_env,
            gas_limit: tx.gas_limit.unwrap_or(200_000),
        })
    }

    /// A `webhook` action: the alert POSTed to an http(s) URL.
    fn webhook(&mut self, w: &WebhookDoc) -> Option<ActionKind> {
        let id = w.id.get_ref();
        let Some(url) = &w.url else {
            self.input.err(
                Some(w.id.span()),
                Some(id),
                "webhook action needs `url`",
                "",
            );
            return None;
        };
        let u = url.get_ref().trim();
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            self.input.err(
                Some(url.span()),
                Some(id),
                format!("`{}` is not an http(s) URL", crate::secret::redact_url(u)),
                "write e.g. \"https://hooks.slack.com/services/…\"",
            );
            return None;
        }
        let mut ok = true;
        let format = match w.format.as_ref().map(|f| f.get_ref().as_str()) {
            None | Some("json") => WebhookFormat::Json,
            Some("slack") => WebhookFormat::Slack,
            Some("discord") => WebhookFormat::Discord,
            Some(other) => {
                self.input.err(
                    w.format.as_ref().map(Spanned::span),
                    Some(id),
                    format!("unknown webhook format `{other}`"),
                    "formats are `json` (signed with `secret_env`), `slack` and `discord`",
                );
                ok = false;
                WebhookFormat::Json
            }
        };
        let secret_env = match &w.secret_env {
            None => None,
            Some(e) => {
                if format != WebhookFormat::Json {
                    self.input.err(
                        Some(e.span()),
                        Some(id),
                        format!("`secret_env` signs `json` bodies; a `{}` webhook is authenticated by its URL", format.name()),
                        "remove `secret_env`, or set `format = \"json\"`",
                    );
                    ok = false;
                }
                self.env_name(e, id, "secret_env", "export the signing secret, e.g. RINGFENCE_WEBHOOK_SECRET=…, and write secret_env = \"RINGFENCE_WEBHOOK_SECRET\"")
            }
        };
        let ca_file = w.ca_file.as_ref().and_then(|c| {
            let p = PathBuf::from(c.get_ref());
            if p.is_file() {
                Some(p)
            } else {
                self.input.err(
                    Some(c.span()),
                    Some(id),
                    format!("`ca_file` `{}` is not a readable file", c.get_ref()),
                    "give the path of a PEM file of CA certificates (relative paths are read from the working directory)",
                );
                ok = false;
                None
            }
        });
        let timeout_ms = match &w.timeout_ms {
            Some(t) if *t.get_ref() == 0 || *t.get_ref() > 600_000 => {
                self.input.err(
                    Some(t.span()),
                    Some(id),
                    "`timeout_ms` must be between 1 and 600000",
                    "",
                );
                ok = false;
                0
            }
            Some(t) => *t.get_ref(),
            None => 10_000,
        };
        let retries = match &w.retries {
            Some(r) if *r.get_ref() > 20 => {
                self.input
                    .err(Some(r.span()), Some(id), "`retries` must be at most 20", "");
                ok = false;
                0
            }
            Some(r) => *r.get_ref(),
            None => 5,
        };
        if !ok {
            return None;
        }
        Some(ActionKind::Webhook {
            url: crate::secret::RpcUrl::new(u),
            format,
            secret_env,
            ca_file,
            timeout_ms,
            retries,
        })
    }

    /// The name of the environment variable holding a guardian key; a pasted key is refused.
    fn key_env(&mut self, key_env: &S, id: &str) -> Option<String> {
        self.env_name(
            key_env,
            id,
            "key_env",
            "never put a private key in the config; export it, e.g. RINGFENCE_GUARDIAN_KEY=0x…, and write key_env = \"RINGFENCE_GUARDIAN_KEY\"",
        )
    }

    /// The name of an environment variable holding a secret; a pasted secret is refused (and
    /// not echoed).
    fn env_name(&mut self, v: &S, id: &str, key: &str, help: &str) -> Option<String> {
        let env = v.get_ref();
        let env_ok = !env.is_empty()
            && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !env.chars().next().is_some_and(|c| c.is_ascii_digit());
        if !env_ok || env.len() >= 64 {
            self.input.err(
                Some(v.span()),
                Some(id),
                format!("`{key}` must name an environment variable"),
                help,
            );
            return None;
        }
        Some(env.clone())
    }

    /// A rule that runs a cancel action must trip on an event that has the action's `arg`
    /// (`bytes32`) and `only_if` (`bool`) parameters: only `message-match` trips do, on the
    /// bridge's destination event.
    fn cancel_refs(&mut self, spec: &GuardSpec, r: &RuleDoc, kind: &RuleKind) {
        let id = r.id().get_ref();
        for a in r.actions().into_iter().flatten() {
            let Some(ActionKind::Cancel { arg, only_if, .. }) = spec
                .actions
                .iter()
                .find(|x| &x.id == a.get_ref())
                .map(|x| &x.kind)
            else {
                continue;
            };
            let RuleKind::MessageMatch { bridge, .. } = kind else {
                self.input.err(
                    Some(a.span()),
                    Some(id),
                    format!(
                        "cancel action `{}` on a `{}` rule: its trips carry no `{arg}`",
                        a.get_ref(),
                        kind.name()
                    ),
                    "a cancel takes its argument from the tripping bridge event; use it on a `message-match` rule",
                );
                continue;
            };
            let Some(b) = spec.bridges.get(usize::from(*bridge)) else {
                continue;
            };
            let ev = &b.destination.event;
            let wanted =
                std::iter::once((arg, "bytes32")).chain(only_if.iter().map(|o| (o, "bool")));
            for (name, ty) in wanted {
                match ev.inputs.iter().find(|p| &p.name == name) {
                    Some(p) if p.ty == ty => {}
                    found => {
                        let have: Vec<String> = ev
                            .inputs
                            .iter()
                            .filter(|p| p.ty == ty)
                            .map(|p| p.name.clone())
                            .collect();
                        let have: Vec<&str> = have.iter().map(String::as_str).collect();
                        let what = match found {
                            Some(p) => format!("is a `{}`, not a `{ty}`", p.ty),
                            None => "is not a parameter".to_owned(),
                        };
                        self.input.err(
                            Some(a.span()),
                            Some(id),
                            format!(
                                "cancel action `{}`: `{name}` {what} of bridge `{}`'s destination event `{}`",
                                a.get_ref(),
                                b.id,
                                ev.name
                            ),
                            if have.is_empty() {
                                format!("that event has no `{ty}` parameter")
                            } else {
                                format!("its `{ty}` parameters are {}", list(&have))
                            },
                        );
                    }
                }
            }
        }
    }

    fn token_ref(&mut self, spec: &GuardSpec, s: &S, entity: &str) -> Option<u16> {
        match spec.token_idx(s.get_ref()) {
            Some(i) => Some(i),
            None => {
                let ids: Vec<&str> = spec.tokens.iter().map(|c| c.id.as_str()).collect();
                self.input.err(
                    Some(s.span()),
                    Some(entity),
                    format!("unknown token `{}`", s.get_ref()),
                    format!("declared tokens: {}", list(&ids)),
                );
                None
            }
        }
    }

    fn required<'r, T>(&mut self, v: &'r Option<T>, key: &str, at: &RuleAt<'_>) -> Option<&'r T> {
        if v.is_none() {
            self.input.err(
                Some(at.kind_span.clone()),
                Some(at.id),
                format!("a `{}` rule needs `{key}`", at.kind),
                "",
            );
        }
        v.as_ref()
    }

    fn positive_f64(
        &mut self,
        v: &Option<Spanned<f64>>,
        key: &str,
        id: &str,
    ) -> Option<Option<f64>> {
        match v {
            Some(x) if !x.get_ref().is_finite() || *x.get_ref() <= 0.0 => {
                self.input.err(
                    Some(x.span()),
                    Some(id),
                    format!("`{key}` must be a positive number"),
                    "",
                );
                None
            }
            Some(x) => Some(Some(*x.get_ref())),
            None => Some(None),
        }
    }

    fn amount(
        &mut self,
        v: &Option<Spanned<Amount>>,
        decimals: u8,
        key: &str,
        id: &str,
    ) -> Option<Option<U256>> {
        match v {
            None => Some(None),
            Some(a) => match parse_units(&a.get_ref().0, decimals) {
                Some(x) => Some(Some(x)),
                None => {
                    self.input.err(
                        Some(a.span()),
                        Some(id),
                        format!("`{key}` = \"{}\" is not an amount of this token", a.get_ref().0),
                        format!("write token units as a decimal string with at most {decimals} decimals, e.g. \"1000000\""),
                    );
                    None
                }
            },
        }
    }

    fn window(&mut self, window_s: &Option<Spanned<u64>>, at: &RuleAt<'_>) -> Option<u64> {
        let w = self.required(window_s, "window_s", at)?;
        if *w.get_ref() == 0 {
            self.input.err(
                Some(w.span()),
                Some(at.id),
                "`window_s` must be at least 1",
                "",
            );
            return None;
        }
        Some(*w.get_ref())
    }

    /// A `privileged` rule's `layers`: every layer when absent, none for `[]`; an unknown name
    /// is reported at its position.
    fn layers(&mut self, layers: &Option<Vec<S>>, id: &str) -> Vec<Layer> {
        let Some(names) = layers else {
            return Layer::ALL.to_vec();
        };
        let mut out = Vec::new();
        for n in names {
            match Layer::from_name(n.get_ref()) {
                Some(l) if !out.contains(&l) => out.push(l),
                Some(_) => {}
                None => {
                    let known: Vec<&str> = Layer::ALL.iter().map(|l| l.name()).collect();
                    self.input.err(
                        Some(n.span()),
                        Some(id),
                        format!("unknown layer `{}`", n.get_ref()),
                        format!(
                            "layers are {} (leave `layers` out to watch them all, `[]` for none)",
                            list(&known)
                        ),
                    );
                }
            }
        }
        out
    }

    fn tokens_on(
        &mut self,
        spec: &GuardSpec,
        tokens: &Option<Vec<S>>,
        chain: u16,
        id: &str,
    ) -> Option<Vec<u16>> {
        match tokens {
            None => Some(
                (0..spec.tokens.len())
                    .filter(|i| spec.tokens[*i].chain == chain)
                    .filter_map(|i| u16::try_from(i).ok())
                    .collect(),
            ),
            Some(list) => {
                let mut out = Vec::new();
                for t in list {
                    let i = self.token_ref(spec, t, id)?;
                    if spec.tokens[usize::from(i)].chain != chain {
                        self.input.err(
                            Some(t.span()),
                            Some(id),
                            format!("token `{}` is not on the rule's chain", t.get_ref()),
                            "",
                        );
                        return None;
                    }
                    out.push(i);
                }
                Some(out)
            }
        }
    }

    /// What an outflow is measured on (an `outflow-rate` rule, an `outflow` anomaly): a chain,
    /// a contract on it, and the tokens counted (default every token of the chain).
    fn outflow_of(
        &mut self,
        spec: &GuardSpec,
        chain: &Option<S>,
        contract: &Option<S>,
        tokens: &Option<Vec<S>>,
        at: &RuleAt<'_>,
    ) -> Option<(u16, Address, Vec<u16>)> {
        let chain = self.required(chain, "chain", at).cloned();
        let contract = self.required(contract, "contract", at).cloned();
        let chain = self.chain_ref(&spec.chains, &chain?, at.id)?;
        let contract = self.address(&contract?, at.id)?;
        let tokens = self.tokens_on(spec, tokens, chain, at.id)?;
        Some((chain, contract, tokens))
    }

    fn rule(&mut self, spec: &GuardSpec, r: &RuleDoc, kind_span: Range<usize>) -> Option<RuleSpec> {
        let id = r.id().get_ref().clone();
        let mut actions = Vec::new();
        for a in r.actions().into_iter().flatten() {
            match spec.actions.iter().position(|x| &x.id == a.get_ref()) {
                Some(i) => actions.push(u16::try_from(i).ok()?),
                None => {
                    let ids: Vec<&str> = spec.actions.iter().map(|c| c.id.as_str()).collect();
                    self.input.err(
                        Some(a.span()),
                        Some(&id),
                        format!("unknown action `{}`", a.get_ref()),
                        format!("declared actions: {}", list(&ids)),
                    );
                }
            }
        }
        let at = RuleAt {
            id: &id,
            kind: r.kind(),
            kind_span,
        };
        let kind = match r {
            RuleDoc::MintRate(d) => self.mint_rate(spec, d, &at)?,
            RuleDoc::OutflowRate(d) => self.outflow_rate(spec, d, &at)?,
            RuleDoc::MessageMatch(d) => self.message_match(spec, d, &at)?,
            RuleDoc::Backing(d) => self.backing(spec, d, &at)?,
            RuleDoc::Privileged(d) => self.privileged(spec, d, &at)?,
            RuleDoc::Anomaly(d) => self.anomaly(spec, d, &at)?,
        };
        self.cancel_refs(spec, r, &kind);
        Some(RuleSpec { id, actions, kind })
    }

    /// A `mint-rate` rule: a token's mints over a window, by amount, share of supply or minter.
    fn mint_rate(
        &mut self,
        spec: &GuardSpec,
        r: &MintRateDoc,
        at: &RuleAt<'_>,
    ) -> Option<RuleKind> {
        let id = at.id;
        let token = self.required(&r.token, "token", at).cloned();
        let window_s = self.window(&r.window_s, at);
        let token = self.token_ref(spec, &token?, id)?;
        let dec = spec.tokens[usize::from(token)].decimals;
        let max_amount = self.amount(&r.max_amount, dec, "max_amount", id)?;
        let max_per_minter = self.amount(&r.max_per_minter, dec, "max_per_minter", id)?;
        let max_share_ppm = match &r.max_share_of_supply {
            Some(s) if !(*s.get_ref() > 0.0 && *s.get_ref() <= 1.0) => {
                self.input.err(
                    Some(s.span()),
                    Some(id),
                    "`max_share_of_supply` must be in (0, 1]",
                    "e.g. 0.05 for 5% of supply per window",
                );
                return None;
            }
            Some(s) => Some((s.get_ref() * 1e6).round() as u64),
            None => None,
        };
        if max_amount.is_none() && max_share_ppm.is_none() && max_per_minter.is_none() {
            self.input.err(
                Some(at.kind_span.clone()),
                Some(id),
                "a `mint-rate` rule needs a limit",
                "set `max_amount`, `max_share_of_supply` or `max_per_minter`",
            );
            return None;
        }
        Some(RuleKind::MintRate {
            token,
            window_s: window_s?,
            max_amount,
            max_share_ppm,
            max_per_minter,
        })
    }

    /// An `outflow-rate` rule: what leaves a contract over a window, in USD, and single big transfers.
    fn outflow_rate(
        &mut self,
        spec: &GuardSpec,
        r: &OutflowRateDoc,
        at: &RuleAt<'_>,
    ) -> Option<RuleKind> {
        let id = at.id;
        let window_s = self.window(&r.window_s, at);
        let (chain, contract, tokens) =
            self.outflow_of(spec, &r.chain, &r.contract, &r.tokens, at)?;
        let max_usd = self.positive_f64(&r.max_usd, "max_usd", id)?;
        let big_transfer_usd = self.positive_f64(&r.big_transfer_usd, "big_transfer_usd", id)?;
        if max_usd.is_none() && big_transfer_usd.is_none() {
            self.input.err(
                Some(at.kind_span.clone()),
                Some(id),
                "an `outflow-rate` rule needs a limit",
                "set `max_usd` and/or `big_transfer_usd`",
            );
            return None;
        }
        Some(RuleKind::OutflowRate {
            chain,
            contract,
            tokens,
            window_s: window_s?,
            max_usd,
            big_transfer_usd,
        })
    }

    /// A `message-match` rule: every release on a bridge's destination paired with its source event.
    fn message_match(
        &mut self,
        spec: &GuardSpec,
        r: &MessageMatchDoc,
        at: &RuleAt<'_>,
    ) -> Option<RuleKind> {
        let id = at.id;
        let b = self.required(&r.bridge, "bridge", at)?.clone();
        let bridge = match spec.bridges.iter().position(|x| &x.id == b.get_ref()) {
            Some(i) => u16::try_from(i).ok()?,
            None => {
                let ids: Vec<&str> = spec.bridges.iter().map(|c| c.id.as_str()).collect();
                self.input.err(
                    Some(b.span()),
                    Some(id),
                    format!("unknown bridge `{}`", b.get_ref()),
                    format!("declared bridges: {}", list(&ids)),
                );
                return None;
            }
        };
        Some(RuleKind::MessageMatch {
            bridge,
            timeout_s: r.timeout_s.unwrap_or(3600),
            relay_delay_s: r.relay_delay_s.unwrap_or(0),
            source_wait_s: r.source_wait_s.unwrap_or(60),
        })
    }

    /// A `backing` rule: a wrapped token's supply never above what its holder keeps of the backing token.
    fn backing(&mut self, spec: &GuardSpec, r: &BackingDoc, at: &RuleAt<'_>) -> Option<RuleKind> {
        let id = at.id;
        let token = self.required(&r.token, "token", at).cloned();
        let backing = self
            .required(&r.backing_token, "backing_token", at)
            .cloned();
        let holder = self.required(&r.holder, "holder", at).cloned();
        let token = self.token_ref(spec, &token?, id);
        let backing_token = self.token_ref(spec, &backing?, id);
        let holder = self.address(&holder?, id);
        let token = token?;
        let dec = spec.tokens[usize::from(token)].decimals;
        let tolerance = self
            .amount(&r.tolerance, dec, "tolerance", id)?
            .unwrap_or(U256::ZERO);
        Some(RuleKind::Backing {
            token,
            backing_token: backing_token?,
            holder: holder?,
            tolerance,
            relay_delay_s: r.relay_delay_s.unwrap_or(0),
        })
    }

    /// A `privileged` rule: admin, signer-set, pause and layer-configuration changes of some contracts (its handlers registered as shared).
    fn privileged(
        &mut self,
        spec: &GuardSpec,
        r: &PrivilegedDoc,
        at: &RuleAt<'_>,
    ) -> Option<RuleKind> {
        let id = at.id;
        let chain = self.required(&r.chain, "chain", at).cloned();
        let contracts_raw = self.required(&r.contracts, "contracts", at).cloned();
        let chain = self.chain_ref(&spec.chains, &chain?, id);
        let mut contracts = Vec::new();
        for c in contracts_raw.iter().flatten() {
            contracts.push(self.address(c, id));
        }
        let mut changes = Vec::new();
        for c in r.changes.iter().flatten() {
            if CHANGE_NAMES.contains(&c.get_ref().as_str()) {
                changes.push(c.get_ref().clone());
            } else {
                self.input.err(
                    Some(c.span()),
                    Some(id),
                    format!("unknown change `{}`", c.get_ref()),
                    format!("changes are {}", list(&CHANGE_NAMES)),
                );
            }
        }
        let mut extra_events = Vec::new();
        for e in r.extra_events.iter().flatten() {
            extra_events.push(self.event(e, id));
        }
        let layers = self.layers(&r.layers, id);
        let trip = match &r.severity {
            None => true,
            Some(s) if s.get_ref() == "trip" => true,
            Some(s) if s.get_ref() == "alert" => false,
            Some(s) => {
                self.input.err(
                    Some(s.span()),
                    Some(id),
                    format!("unknown severity `{}`", s.get_ref()),
                    "severities are `trip` (run all actions) and `alert`",
                );
                return None;
            }
        };
        let contracts: Option<Vec<Address>> = contracts.into_iter().collect();
        let extra_events: Option<Vec<AbiEvent>> = extra_events.into_iter().collect();
        if let (Some(c), Some(list), Some(extra)) = (chain, &contracts, &extra_events) {
            for (a, raw) in list.iter().zip(contracts_raw.iter().flatten()) {
                let std = PRIVILEGED_EVENTS
                    .iter()
                    .filter_map(|(_, sig)| AbiEvent::parse(sig).ok());
                let of_layers = LAYER_EVENTS
                    .iter()
                    .filter(|e| layers.contains(&e.layer))
                    .filter_map(LayerEvent::abi);
                for ev in std.chain(of_layers).chain(extra.iter().cloned()) {
                    self.handlers.push(HandlerUse {
                        chain: c,
                        contract: *a,
                        topic0: ev.selector(),
                        who: format!("privileged rule `{id}` ({})", ev.name),
                        shared: true,
                        span: raw.span(),
                    });
                }
            }
        }
        Some(RuleKind::Privileged {
            chain: chain?,
            contracts: contracts?,
            changes,
            extra_events: extra_events?,
            layers,
            trip,
        })
    }

    /// An `anomaly` rule: a metric's bucket far above its moving average.
    fn anomaly(&mut self, spec: &GuardSpec, r: &AnomalyDoc, at: &RuleAt<'_>) -> Option<RuleKind> {
        let id = at.id;
        let metric = self.required(&r.metric, "metric", at)?.clone();
        let metric = match metric.get_ref().as_str() {
            "mint" => {
                let token = self.required(&r.token, "token", at)?.clone();
                AnomalyMetric::Mint {
                    token: self.token_ref(spec, &token, id)?,
                }
            }
            "outflow" => {
                let (chain, contract, tokens) =
                    self.outflow_of(spec, &r.chain, &r.contract, &r.tokens, at)?;
                AnomalyMetric::Outflow {
                    chain,
                    contract,
                    tokens,
                }
            }
            other => {
                self.input.err(
                    Some(metric.span()),
                    Some(id),
                    format!("unknown metric `{other}`"),
                    "metrics are `mint` and `outflow`",
                );
                return None;
            }
        };
        let alpha = self.positive_f64(&r.alpha, "alpha", id)?.unwrap_or(0.1);
        if alpha > 1.0 {
            self.input.err(
                r.alpha.as_ref().map(Spanned::span),
                Some(id),
                "`alpha` must be in (0, 1]",
                "",
            );
            return None;
        }
        let factor = self.positive_f64(&r.factor, "factor", id)?.unwrap_or(10.0);
        let bucket_s = r.bucket_s.as_ref().map_or(60, |b| *b.get_ref());
        if bucket_s == 0 {
            self.input.err(
                r.bucket_s.as_ref().map(Spanned::span),
                Some(id),
                "`bucket_s` must be at least 1",
                "",
            );
            return None;
        }
        Some(RuleKind::Anomaly {
            metric,
            bucket_s,
            alpha,
            factor,
            warmup_buckets: r.warmup_buckets.unwrap_or(10),
            min_value: r.min_value.unwrap_or(0.0),
        })
    }
}

/// Reads the 20-byte hex address written at `s`, recording a located problem (under
/// `entity`) when it is not one. Every address of the guard's and the attestor's configs is
/// read here.
pub fn read_address(input: &mut TomlInput, s: &Spanned<String>, entity: &str) -> Option<Address> {
    match Address::from_str(s.get_ref().trim()) {
        Ok(a) => Some(a),
        Err(_) => {
            input.err(
                Some(s.span()),
                Some(entity),
                format!("`{}` is not an address", s.get_ref()),
                "write a 20-byte hex address, e.g. \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"",
            );
            None
        }
    }
}

/// Checks a chain's `rpc` and `quorum` as written (every problem recorded at the value it is
/// about, under the chain `id`). The guard's and the attestor's `[[chain]]` both read their
/// endpoints here, and ringfence_quorum::check_endpoints says what an endpoint list may be.
pub fn read_endpoints(
    input: &mut TomlInput,
    rpc: &Spanned<Rpc>,
    quorum: Option<&Spanned<i64>>,
    id: &str,
) -> Option<ringfence_quorum::Endpoints> {
    let urls = rpc.get_ref().urls();
    match ringfence_quorum::check_endpoints(&urls, quorum.map(|q| *q.get_ref())) {
        Ok(e) => Some(e),
        Err(problems) => {
            for p in problems {
                let span = match (quorum, p.in_quorum) {
                    (Some(q), true) => q.span(),
                    _ => rpc.span(),
                };
                input.err(Some(span), Some(id), p.message, p.fix);
            }
            None
        }
    }
}

/// The compared parameters of a bridge (or an attestor's route), resolved against its two
/// events: their names, their positions in each event, the tolerance of each, and which one
/// pairs events (the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchOn {
    /// Parameter names, in the order written.
    pub names: Vec<String>,
    /// (source index, destination index) of each.
    pub idx: Vec<(usize, usize)>,
    /// How each is compared.
    pub tolerance: Vec<FieldTolerance>,
    /// Index of the key in `names`.
    pub key: usize,
}

/// Resolves `match_on` (and `key`) of the bridge or route `id` against its source and
/// destination events: every name on both events and listed once, `scale`/`fee_bps` in range
/// and only on unsigned integers, the key compared and exact. The guard's `[[bridge]]` and the
/// attestor's `[[bridge]]` both read `match_on` here, so they cannot disagree on what matches.
pub fn resolve_match_on(
    input: &mut TomlInput,
    match_on_raw: &Spanned<Vec<Spanned<MatchItem>>>,
    key_raw: Option<&S>,
    source: &AbiEvent,
    destination: &AbiEvent,
    id: &str,
) -> Option<MatchOn> {
    let mut match_on = Vec::new();
    let mut match_idx = Vec::new();
    if match_on_raw.get_ref().is_empty() {
        input.err(
            Some(match_on_raw.span()),
            Some(id),
            "`match_on` is empty",
            "name the event parameters compared, e.g. [\"id\", \"amount\", \"recipient\"]",
        );
        return None;
    }
    let mut tolerance = Vec::new();
    for item in match_on_raw.get_ref() {
        let item_span = item.span();
        let item = item.get_ref();
        // A bare string carries no span of its own: use the entry's.
        let name = if item.name.span() == (0..0) {
            Spanned::new(item_span, item.name.get_ref().clone())
        } else {
            item.name.clone()
        };
        let name = &name;
        if match_on.contains(name.get_ref()) {
            input.err(
                Some(name.span()),
                Some(id),
                format!("`{}` is listed twice in `match_on`", name.get_ref()),
                "list each compared parameter once",
            );
            return None;
        }
        let find = |e: &AbiEvent| e.inputs.iter().position(|p| &p.name == name.get_ref());
        let names = |e: &AbiEvent| e.inputs.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        match (find(source), find(destination)) {
            (Some(s), Some(d)) => {
                let tol = checked_tolerance(
                    input,
                    item,
                    &source.inputs[s].ty,
                    &destination.inputs[d].ty,
                    id,
                );
                match_on.push(name.get_ref().clone());
                match_idx.push((s, d));
                tolerance.push(tol);
            }
            (s, _) => {
                let (side, ev) = if s.is_none() {
                    ("source", source)
                } else {
                    ("destination", destination)
                };
                let have = names(ev);
                let have: Vec<&str> = have.iter().map(String::as_str).collect();
                input.err(
                    Some(name.span()),
                    Some(id),
                    format!("the {side} event has no parameter `{}`", name.get_ref()),
                    format!("its parameters are {}", list(&have)),
                );
            }
        }
    }
    let tolerance: Option<Vec<FieldTolerance>> = tolerance.into_iter().collect();
    let tolerance = tolerance?;
    if match_idx.len() != match_on_raw.get_ref().len() {
        return None;
    }
    let key = match key_raw {
        None => 0,
        Some(k) => match match_on.iter().position(|n| n == k.get_ref()) {
            Some(i) => i,
            None => {
                input.err(
                    Some(k.span()),
                    Some(id),
                    format!("`key` `{}` is not in `match_on`", k.get_ref()),
                    "the key pairs events; it must be one of the compared parameters",
                );
                return None;
            }
        },
    };
    if let Some(t) = tolerance.get(key)
        && !t.is_exact()
    {
        let span = key_raw
            .map(Spanned::span)
            .or_else(|| match_on_raw.get_ref().get(key).map(Spanned::span));
        input.err(
            span,
            Some(id),
            format!(
                "the key `{}` pairs events and must match exactly",
                match_on[key]
            ),
            "put `scale`/`fee_bps` on an amount, not on the key",
        );
        return None;
    }
    Some(MatchOn {
        names: match_on,
        idx: match_idx,
        tolerance,
        key,
    })
}

/// The `scale` and `fee_bps` of one `match_on` entry, checked against the parameter types.
fn checked_tolerance(
    input: &mut TomlInput,
    item: &MatchItem,
    src_ty: &str,
    dst_ty: &str,
    id: &str,
) -> Option<FieldTolerance> {
    let mut ok = true;
    let t = match FieldTolerance::checked(
        item.scale.as_ref().map_or(0, |k| *k.get_ref()),
        item.fee_bps.as_ref().map_or(0, |f| *f.get_ref()),
    ) {
        Ok(t) => t,
        Err((message, fix)) => {
            // Point at the value that is out of range.
            let scale_bad = item
                .scale
                .as_ref()
                .is_some_and(|k| FieldTolerance::checked(*k.get_ref(), 0).is_err());
            let at = if scale_bad {
                &item.scale
            } else {
                &item.fee_bps
            };
            input.err(at.as_ref().map(Spanned::span), Some(id), message, fix);
            ok = false;
            FieldTolerance::default()
        }
    };
    let integers = src_ty.starts_with("uint") && dst_ty.starts_with("uint");
    if !(t.is_exact() || integers) {
        input.err(
            item.scale.as_ref().map(Spanned::span).or_else(|| item.fee_bps.as_ref().map(Spanned::span)),
            Some(id),
            format!("`{}` is a {src_ty} → {dst_ty}: `scale` and `fee_bps` apply to unsigned integers only", item.name.get_ref()),
            "remove them, or compare an amount parameter",
        );
        ok = false;
    }
    ok.then_some(t)
}

fn show_value(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("`{s}`"),
        _ => "(not a string)".to_owned(),
    }
}
