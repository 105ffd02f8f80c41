//! Log decoding: from the config, which (contract, topic 0) pairs each chain watches and how each
//! becomes a normalised [`EventKind`].

use std::collections::HashMap;

use alloy::dyn_abi::{DynSolValue, EventExt};
use alloy::json_abi::Event as AbiEvent;
use alloy::primitives::{Address, B256, keccak256};
use alloy::rpc::types::Log;
use ringfence_guard::{
    BridgeSide, EventKind, Fields, GuardSpec, PRIVILEGED_EVENTS, PrivilegedChange, TokenIdx,
};

#[derive(Clone, Debug)]
enum Handler {
    Transfer(TokenIdx),
    Bridge {
        bridge: u16,
        side: BridgeSide,
        event: AbiEvent,
    },
    Privileged {
        which: usize,
        event: AbiEvent,
    },
    /// A messaging layer's configuration event: its index in [`ringfence_guard::LAYER_EVENTS`].
    Layer(u16),
}

/// What one chain watches.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChainFilter {
    /// Contracts whose logs are fetched.
    pub(crate) addresses: Vec<Address>,
    /// Topic-0 values fetched.
    pub(crate) topics: Vec<B256>,
    handlers: HashMap<(Address, B256), Handler>,
}

/// Decodes logs of every configured chain.
#[derive(Clone, Debug)]
pub struct Decoder {
    chains: Vec<ChainFilter>,
    /// Per token: whether a rule needs the sender of its mints (per-minter limits).
    needs_minter: Vec<bool>,
}

fn transfer_topic() -> B256 {
    keccak256("Transfer(address,address,uint256)")
}

impl Decoder {
    /// The decoder for a validated spec.
    pub fn new(spec: &GuardSpec) -> Self {
        let mut chains = vec![ChainFilter::default(); spec.chains.len()];
        let mut add = |chain: u16, addr: Address, topic: B256, h: Handler| {
            if let Some(c) = chains.get_mut(usize::from(chain)) {
                if !c.addresses.contains(&addr) {
                    c.addresses.push(addr);
                }
                if !c.topics.contains(&topic) {
                    c.topics.push(topic);
                }
                c.handlers.entry((addr, topic)).or_insert(h);
            }
        };
        for (i, t) in spec.tokens.iter().enumerate() {
            if let Ok(i) = u16::try_from(i) {
                add(t.chain, t.address, transfer_topic(), Handler::Transfer(i));
            }
        }
        for (i, b) in spec.bridges.iter().enumerate() {
            let Ok(i) = u16::try_from(i) else { continue };
            for (end, side) in [
                (&b.source, BridgeSide::Source),
                (&b.destination, BridgeSide::Destination),
            ] {
                add(
                    end.chain,
                    end.contract,
                    end.topic0,
                    Handler::Bridge {
                        bridge: i,
                        side,
                        event: end.event.clone(),
                    },
                );
            }
        }
        for (ci, _) in spec.chains.iter().enumerate() {
            let Ok(ci) = u16::try_from(ci) else { continue };
            for (contract, extra) in spec.privileged_contracts(ci) {
                for (which, (_, sig)) in PRIVILEGED_EVENTS.iter().enumerate() {
                    if let Ok(ev) = AbiEvent::parse(sig) {
                        add(
                            ci,
                            contract,
                            ev.selector(),
                            Handler::Privileged { which, event: ev },
                        );
                    }
                }
                for i in spec
                    .layer_contracts(ci)
                    .into_iter()
                    .filter(|(a, _)| *a == contract)
                    .flat_map(|(_, events)| events)
                {
                    if let Some(ev) = ringfence_guard::layers::layer_event(i).and_then(|e| e.abi())
                    {
                        add(ci, contract, ev.selector(), Handler::Layer(i));
                    }
                }
                for (k, ev) in extra.into_iter().enumerate() {
                    add(
                        ci,
                        contract,
                        ev.selector(),
                        Handler::Privileged {
                            which: PRIVILEGED_EVENTS.len() + k,
                            event: ev,
                        },
                    );
                }
            }
        }
        let needs_minter = (0..spec.tokens.len())
            .map(|t| u16::try_from(t).is_ok_and(|t| spec.needs_minter(t)))
            .collect();
        Self {
            chains,
            needs_minter,
        }
    }

    /// The transactions of `logs` whose sender a rule needs: mints of tokens with per-minter
    /// limits.
    pub fn minter_txs(&self, chain: u16, logs: &[Log]) -> Vec<B256> {
        let mut out = Vec::new();
        for log in logs {
            if let Some(EventKind::Mint { token, .. }) = self.decode(chain, log)
                && self
                    .needs_minter
                    .get(usize::from(token))
                    .copied()
                    .unwrap_or(false)
                && let Some(tx) = log.transaction_hash
                && !out.contains(&tx)
            {
                out.push(tx);
            }
        }
        out
    }

    /// The contracts and topic-0 values whose logs chain `chain` must deliver.
    pub fn watched(&self, chain: u16) -> (Vec<Address>, Vec<B256>) {
        self.chains
            .get(usize::from(chain))
            .map(|c| (c.addresses.clone(), c.topics.clone()))
            .unwrap_or_default()
    }

    /// The normalised event of a log, if the chain watches it and it decodes.
    pub fn decode(&self, chain: u16, log: &Log) -> Option<EventKind> {
        let c = self.chains.get(usize::from(chain))?;
        let topics = log.topics();
        let t0 = *topics.first()?;
        let h = c.handlers.get(&(log.address(), t0))?;
        let data = &log.data().data;
        match h {
            Handler::Transfer(token) => {
                let from = Address::from_word(*topics.get(1)?);
                let to = Address::from_word(*topics.get(2)?);
                let amount = alloy::primitives::U256::try_from_be_slice(data.get(..32)?)?;
                Some(if from == Address::ZERO {
                    EventKind::Mint {
                        token: *token,
                        to,
                        amount,
                        minter: None,
                    }
                } else if to == Address::ZERO {
                    EventKind::Burn {
                        token: *token,
                        from,
                        amount,
                    }
                } else {
                    EventKind::Transfer {
                        token: *token,
                        from,
                        to,
                        amount,
                    }
                })
            }
            Handler::Bridge {
                bridge,
                side,
                event,
            } => {
                let words = event_words(event, topics, data)?;
                Some(EventKind::Bridge {
                    bridge: *bridge,
                    side: *side,
                    fields: Fields::new(&words),
                })
            }
            Handler::Layer(i) => Some(EventKind::Privileged {
                contract: log.address(),
                change: ringfence_guard::layers::layer_change(*i, topics, data),
            }),
            Handler::Privileged { which, event } => {
                // Safe 1.4 indexes the owner of `AddedOwner` / `RemovedOwner` that 1.3 left in
                // the data (same topic 0): read it from wherever it is.
                let words = event_words(event, topics, data).or_else(|| {
                    (5..=7)
                        .contains(which)
                        .then(|| ringfence_guard::layers::head_words(event, topics, data))
                        .filter(|w| !w.is_empty())
                })?;
                let w = |i: usize| words.get(i).copied();
                let a = |i: usize| w(i).map(Address::from_word);
                let change = match which {
                    0 => PrivilegedChange::RoleGranted {
                        role: w(0)?,
                        account: a(1)?,
                    },
                    1 => PrivilegedChange::RoleRevoked {
                        role: w(0)?,
                        account: a(1)?,
                    },
                    2 => PrivilegedChange::OwnershipTransferred {
                        previous: a(0)?,
                        new: a(1)?,
                    },
                    3 => PrivilegedChange::Upgraded {
                        implementation: a(0)?,
                    },
                    4 => PrivilegedChange::AdminChanged { new: a(1)? },
                    5..=7 => PrivilegedChange::SignerSetChanged {
                        which: (*which - 5) as u8,
                        value: w(0)?,
                    },
                    8 => PrivilegedChange::Paused,
                    k => PrivilegedChange::SignerSetChanged {
                        which: u8::try_from(k - PRIVILEGED_EVENTS.len() + 3).unwrap_or(u8::MAX),
                        value: w(0).unwrap_or_default(),
                    },
                };
                Some(EventKind::Privileged {
                    contract: log.address(),
                    change,
                })
            }
        }
    }
}

/// Every parameter of an event as a 32-byte word, in signature order: indexed ones from the
/// topics, static ones as their ABI word, dynamic ones as the keccak hash of their encoding.
fn event_words(event: &AbiEvent, topics: &[B256], data: &[u8]) -> Option<Vec<B256>> {
    let decoded = event.decode_log_parts(topics.iter().copied(), data).ok()?;
    let mut indexed = topics.iter().skip(usize::from(!event.anonymous));
    let mut body = decoded.body.iter();
    let mut out = Vec::with_capacity(event.inputs.len());
    for p in &event.inputs {
        if p.indexed {
            out.push(*indexed.next()?);
        } else {
            let v: &DynSolValue = body.next()?;
            out.push(v.as_word().unwrap_or_else(|| keccak256(v.abi_encode())));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Bytes, LogData};

    const CONFIG: &str = r#"
[store]
path = "t.db"
[[chain]]
id = "a"
rpc = "http://127.0.0.1:1"
[[rule]]
id = "p"
kind = "privileged"
chain = "a"
contracts = ["0x1111111111111111111111111111111111111111"]
"#;

    fn decoder(text: &str) -> Decoder {
        match ringfence_guard::config::parse(std::path::Path::new("t.toml"), text) {
            Ok(s) => Decoder::new(&s),
            Err(e) => panic!("{e}"),
        }
    }

    fn log(topics: Vec<B256>, data: Vec<u8>) -> Log {
        Log {
            inner: alloy::primitives::Log {
                address: Address::repeat_byte(0x11),
                data: LogData::new_unchecked(topics, Bytes::from(data)),
            },
            ..Default::default()
        }
    }

    /// Safe 1.4 indexes `AddedOwner`'s owner and 1.3 does not; one topic 0. Both must decode
    /// (the 1.4 form used to fail the 1.3 signature and be dropped without a word).
    #[test]
    fn safe_owner_changes_decode_in_both_encodings() {
        let d = decoder(CONFIG);
        let t0 = keccak256("AddedOwner(address)");
        let owner = Address::repeat_byte(7).into_word();
        let want = Some(EventKind::Privileged {
            contract: Address::repeat_byte(0x11),
            change: PrivilegedChange::SignerSetChanged {
                which: 0,
                value: owner,
            },
        });
        assert_eq!(d.decode(0, &log(vec![t0], owner.to_vec())), want);
        assert_eq!(d.decode(0, &log(vec![t0, owner], Vec::new())), want);
    }

    #[test]
    fn layer_configuration_events_decode_on_watched_contracts_for_the_rules_layers() {
        let d = decoder(CONFIG);
        let t0 = keccak256("DelegateSet(address,address)");
        let (oapp, delegate) = (
            Address::repeat_byte(2).into_word(),
            Address::repeat_byte(3).into_word(),
        );
        let l = log(vec![t0], [oapp.0, delegate.0].concat());
        let Some(EventKind::Privileged {
            change: PrivilegedChange::LayerConfigChanged { event, args },
            ..
        }) = d.decode(0, &l)
        else {
            panic!("DelegateSet decodes as a layer change")
        };
        assert_eq!(
            ringfence_guard::layers::layer_event(event).map(|e| e.name()),
            Some("DelegateSet")
        );
        assert_eq!(args, [oapp, delegate, B256::ZERO]);
        let (addrs, topics) = d.watched(0);
        assert!(addrs.contains(&Address::repeat_byte(0x11)));
        assert!(topics.contains(&t0));
        // A rule narrowed to CCIP does not fetch LayerZero's events.
        let narrowed = decoder(&format!("{CONFIG}layers = [\"ccip\"]\n"));
        assert_eq!(narrowed.decode(0, &l), None);
        assert!(!narrowed.watched(0).1.contains(&t0));
    }
}
