//! What a relayer does with the attestors' answers: gathers, for one message, the signatures the
//! verifier contract will accept, and nothing it would reject.
//!
//! [`combine`] is pure: it takes each attestor's answer to `GET /attestations/{message_id}`,
//! recovers every signature's signer from the EIP-712 digest (as `RingfenceAttestationVerifier`
//! does), drops signatures that do not recover to the signer they claim, signers outside the
//! attestor set, repeated signers and answers for another message, and keeps the attestation
//! that the most valid signers signed (an attestor that signed something else — another amount,
//! another recipient — is reported, not used). Signatures come out in ascending signer order,
//! which the contract requires. [`collect`] asks the attestors over HTTP; [`Collected::args`] is
//! the ABI encoding of `(Attestation, bytes[])`, the arguments of the verifier's `verify` and of
//! the gateway's `deliver`.

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes};
use alloy::sol_types::{Eip712Domain, SolValue};
use serde::Serialize;
use serde_json::Value;

use crate::attestation::{Attestation, Signed, recover};

/// One attestor's answer to `GET /attestations/{message_id}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// 200 with this body.
    Body(Value),
    /// 404: it has not attested the message (yet).
    NotAttested,
    /// The request failed or the status was unexpected (the reason, without the URL's secrets).
    Failed(String),
}

/// Why an attestor's answer, or one signature in it, is not used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The attestor (its URL, redacted).
    pub attestor: String,
    /// The signer it named, when the answer got that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Address>,
    /// Why.
    pub reason: String,
}

/// The signatures gathered for one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Collected {
    /// The message.
    pub message_id: B256,
    /// The attestation the kept signatures sign (none when no attestor signed one).
    pub attestation: Option<Attestation>,
    /// Valid signatures over it, one per signer, in ascending signer order.
    pub signatures: Vec<Signed>,
    /// Attestors that have not attested the message (yet), redacted.
    pub not_attested: Vec<String>,
    /// Answers and signatures left out, with the reason.
    pub rejected: Vec<Rejected>,
}

impl Collected {
    /// Whether at least `threshold` signatures were gathered.
    pub fn meets(&self, threshold: usize) -> bool {
        self.attestation.is_some() && self.signatures.len() >= threshold
    }

    /// The ABI encoding of `(attestation, signatures)`: the arguments of `verify` and `deliver`
    /// (append it to the function's selector). `None` without an attestation.
    pub fn args(&self) -> Option<Bytes> {
        let a = self.attestation.clone()?;
        let sigs: Vec<Bytes> = self
            .signatures
            .iter()
            .map(|s| s.signature.clone())
            .collect();
        Some((a, sigs).abi_encode_params().into())
    }
}

/// Valid signatures over one attestation, by signer: (the attestor that served it, redacted; the
/// signature).
type Signers = BTreeMap<Address, (String, Signed)>;

/// Combines the `answers` (attestor URL as given, answer) for `message_id` under the verifier's
/// `domain`. `set`, when given, is the verifier's attestor set: a signer outside it is rejected.
pub fn combine(
    message_id: B256,
    answers: &[(String, Answer)],
    domain: &Eip712Domain,
    set: Option<&[Address]>,
) -> Collected {
    let mut rejected = Vec::new();
    let mut not_attested = Vec::new();
    // Valid signatures by the attestation they sign, then by signer (one per signer).
    let mut by_attestation: Vec<(Attestation, Signers)> = Vec::new();
    for (url, answer) in answers {
        let attestor = ringfence_quorum::redact(url);
        let reject = |signer: Option<Address>, reason: &str| Rejected {
            attestor: attestor.clone(),
            signer,
            reason: reason.to_owned(),
        };
        let body = match answer {
            Answer::Body(v) => v,
            Answer::NotAttested => {
                not_attested.push(attestor.clone());
                continue;
            }
            Answer::Failed(why) => {
                rejected.push(reject(None, why));
                continue;
            }
        };
        let Ok(a) = serde_json::from_value::<Attestation>(body["attestation"].clone()) else {
            rejected.push(reject(None, "the answer carries no attestation"));
            continue;
        };
        if a.messageId != message_id {
            rejected.push(reject(None, "the attestation is for another message"));
            continue;
        }
        let sigs = body["signatures"].as_array().map_or(&[][..], Vec::as_slice);
        if sigs.is_empty() {
            rejected.push(reject(None, "the answer carries no signature"));
        }
        for s in sigs {
            let claimed = s["signer"].as_str().and_then(|t| t.parse::<Address>().ok());
            let signature = s["signature"]
                .as_str()
                .and_then(|t| t.parse::<Bytes>().ok());
            let (Some(claimed), Some(signature)) = (claimed, signature) else {
                rejected.push(reject(None, "a signature without a signer or hex bytes"));
                continue;
            };
            match recover(&a, domain, &signature) {
                Some(r) if r == claimed => {}
                _ => {
                    rejected.push(reject(
                        Some(claimed),
                        "the signature does not recover to its signer under this verifier's domain",
                    ));
                    continue;
                }
            }
            if set.is_some_and(|set| !set.contains(&claimed)) {
                rejected.push(reject(
                    Some(claimed),
                    "the signer is not in the attestor set",
                ));
                continue;
            }
            let signed = Signed {
                signer: claimed,
                signature,
            };
            let i = by_attestation
                .iter()
                .position(|(x, _)| *x == a)
                .unwrap_or_else(|| {
                    by_attestation.push((a.clone(), BTreeMap::new()));
                    by_attestation.len() - 1
                });
            by_attestation[i]
                .1
                .entry(claimed)
                .or_insert((attestor.clone(), signed));
        }
    }
    // The attestation the most signers signed; ties go to the first one answered.
    let best = by_attestation
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, s))| (s.len(), std::cmp::Reverse(*i)))
        .map(|(i, _)| i);
    let mut attestation = None;
    let mut signatures = Vec::new();
    for (i, (a, signers)) in by_attestation.into_iter().enumerate() {
        if Some(i) == best {
            attestation = Some(a);
            signatures = signers.into_values().map(|(_, s)| s).collect();
        } else {
            for (signer, (attestor, _)) in signers {
                rejected.push(Rejected {
                    attestor,
                    signer: Some(signer),
                    reason: "signed an attestation that differs from the one most signers signed"
                        .to_owned(),
                });
            }
        }
    }
    Collected {
        message_id,
        attestation,
        signatures,
        not_attested,
        rejected,
    }
}

/// Asks every attestor in `urls` for `message_id` (each request bounded by `timeout`) and
/// [`combine`]s the answers.
pub async fn collect(
    client: &reqwest::Client,
    urls: &[String],
    message_id: B256,
    domain: &Eip712Domain,
    set: Option<&[Address]>,
    timeout: Duration,
) -> Collected {
    let asks: Vec<_> = urls
        .iter()
        .map(|url| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let endpoint = format!("{}/attestations/{message_id}", url.trim_end_matches('/'));
                match client.get(&endpoint).timeout(timeout).send().await {
                    Err(e) => {
                        Answer::Failed(ringfence_quorum::scrub_urls(&e.to_string()).into_owned())
                    }
                    Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => Answer::NotAttested,
                    Ok(r) if !r.status().is_success() => {
                        Answer::Failed(format!("HTTP {}", r.status()))
                    }
                    Ok(r) => match r.json::<Value>().await {
                        Ok(v) => Answer::Body(v),
                        Err(_) => Answer::Failed("the answer is not JSON".to_owned()),
                    },
                }
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(asks.len());
    for (url, ask) in urls.iter().zip(asks) {
        let answer = ask
            .await
            .unwrap_or_else(|_| Answer::Failed("the request was cancelled".to_owned()));
        answers.push((url.clone(), answer));
    }
    combine(message_id, &answers, domain, set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attestation::{AttestorKey, attestation, domain};
    use alloy::primitives::U256;
    use proptest::prelude::*;
    use serde_json::json;

    const KEYS: [&str; 4] = [
        "0x1111111111111111111111111111111111111111111111111111111111111111",
        "0x2222222222222222222222222222222222222222222222222222222222222222",
        "0x3333333333333333333333333333333333333333333333333333333333333333",
        "0x4444444444444444444444444444444444444444444444444444444444444444",
    ];

    fn key(i: usize) -> AttestorKey {
        AttestorKey::from_hex("T", KEYS[i]).expect("key")
    }

    fn att(amount: u64) -> Attestation {
        attestation(
            B256::repeat_byte(1),
            1,
            B256::repeat_byte(2),
            0,
            B256::repeat_byte(7),
            B256::repeat_byte(3),
            U256::from(amount),
            Address::repeat_byte(9),
        )
    }

    fn body(a: &Attestation, signed: &[Signed]) -> Answer {
        Answer::Body(json!({"attestation": a, "signatures": signed}))
    }

    fn d() -> Eip712Domain {
        domain(10, Address::repeat_byte(0xaa))
    }

    #[test]
    fn keeps_what_the_verifier_accepts_and_says_why_it_left_the_rest_out() {
        let (good, other) = (att(100), att(1_000_000));
        let sign = |i: usize, a: &Attestation| key(i).sign(a, &d()).expect("sign");
        let mut forged = sign(3, &good);
        forged.signer = key(1).address(); // claims to be attestor 1
        let answers = vec![
            ("http://a:1".to_owned(), body(&good, &[sign(2, &good)])),
            (
                "http://b:1".to_owned(),
                body(&good, &[sign(0, &good), sign(0, &good)]),
            ),
            ("http://c:1".to_owned(), body(&other, &[sign(1, &other)])),
            ("http://d:1".to_owned(), Answer::NotAttested),
            (
                "https://user:pw@e:1/x?key=s3cret".to_owned(),
                body(&good, &[forged]),
            ),
            ("http://f:1".to_owned(), body(&good, &[sign(3, &good)])),
            ("http://g:1".to_owned(), Answer::Failed("HTTP 500".into())),
        ];
        let set: Vec<Address> = (0..3).map(|i| key(i).address()).collect();
        let c = combine(B256::repeat_byte(7), &answers, &d(), Some(&set));
        assert_eq!(c.attestation, Some(good.clone()));
        let mut want: Vec<Address> = vec![key(0).address(), key(2).address()];
        want.sort();
        assert_eq!(
            c.signatures.iter().map(|s| s.signer).collect::<Vec<_>>(),
            want
        );
        assert!(c.meets(2) && !c.meets(3));
        assert_eq!(c.not_attested, vec!["http://d:1".to_owned()]);
        let reasons: Vec<(&str, &str)> = c
            .rejected
            .iter()
            .map(|r| (r.attestor.as_str(), r.reason.as_str()))
            .collect();
        assert!(
            reasons
                .iter()
                .any(|(a, r)| *a == "http://c:1" && r.contains("differs"))
        );
        assert!(reasons.iter().any(|(_, r)| r.contains("does not recover")));
        assert!(
            reasons
                .iter()
                .any(|(a, r)| *a == "http://f:1" && r.contains("not in the attestor set"))
        );
        assert!(
            reasons
                .iter()
                .any(|(a, r)| *a == "http://g:1" && *r == "HTTP 500")
        );
        // The credentials in an attestor's URL never reach the output.
        let text = serde_json::to_string(&c).expect("json");
        assert!(!text.contains("pw") && !text.contains("s3cret"), "{text}");
        // The arguments decode back to what was kept.
        let args = c.args().expect("args");
        let (a, sigs) = <(Attestation, Vec<Bytes>)>::abi_decode_params(&args).expect("decodes");
        assert_eq!(a, good);
        assert_eq!(sigs.len(), 2);
    }

    #[test]
    fn an_answer_for_another_message_or_without_an_attestation_is_rejected() {
        let a = att(5);
        let s = key(0).sign(&a, &d()).expect("sign");
        let answers = vec![
            ("http://a:1".to_owned(), body(&a, &[s])),
            ("http://b:1".to_owned(), Answer::Body(json!({"error": "x"}))),
        ];
        let c = combine(B256::repeat_byte(8), &answers, &d(), None);
        assert!(c.attestation.is_none() && c.signatures.is_empty() && !c.meets(1));
        assert_eq!(c.rejected.len(), 2);
        assert!(c.args().is_none());
    }

    proptest! {
        // Signing is slow in a debug build: 64 plans of up to 10 answers.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the attestors answer (honest, signing another attestation, forging another
        /// attestor's name, repeating, or under another domain), what is kept is what the
        /// contract accepts: one attestation, signers strictly ascending, each signature
        /// recovering to its signer under the domain, every signer in the set.
        #[test]
        fn what_is_kept_would_verify(
            plan in proptest::collection::vec((0usize..4, 0u8..4, 0u8..3), 0..10),
        ) {
            let set: Vec<Address> = (0..3).map(|i| key(i).address()).collect();
            let other = domain(11, Address::repeat_byte(0xbb));
            let answers: Vec<(String, Answer)> = plan
                .iter()
                .enumerate()
                .map(|(n, &(k, what, amount))| {
                    let a = att(u64::from(amount));
                    let mut s = match what {
                        3 => key(k).sign(&a, &other).expect("sign"),
                        _ => key(k).sign(&a, &d()).expect("sign"),
                    };
                    if what == 2 {
                        s.signer = key((k + 1) % 4).address();
                    }
                    let sigs = if what == 1 { vec![s.clone(), s] } else { vec![s] };
                    (format!("http://h{n}:1"), body(&a, &sigs))
                })
                .collect();
            let c = combine(B256::repeat_byte(7), &answers, &d(), Some(&set));
            for w in c.signatures.windows(2) {
                prop_assert!(w[0].signer < w[1].signer);
            }
            if let Some(a) = &c.attestation {
                for s in &c.signatures {
                    prop_assert_eq!(recover(a, &d(), &s.signature), Some(s.signer));
                    prop_assert!(set.contains(&s.signer));
                }
            } else {
                prop_assert!(c.signatures.is_empty());
            }
        }
    }
}
