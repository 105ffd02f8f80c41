//! The EIP-712 attestation, its domain (the verifier contract), and a signer that can sign
//! nothing else.

use std::fmt;

use alloy::primitives::{Address, B256, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

sol! {
    /// What an attestor signs: a destination message and the source event it was checked
    /// against. Field for field the struct of `RingfenceAttestationVerifier.sol`.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    struct Attestation {
        bytes32 routeId;
        uint256 srcChainId;
        bytes32 srcTxHash;
        uint256 srcLogIndex;
        bytes32 messageId;
        bytes32 asset;
        uint256 amount;
        address recipient;
    }
}

/// The EIP-712 domain of a `RingfenceAttestationVerifier` at `verifier` on chain `chain_id`.
pub fn domain(chain_id: u64, verifier: Address) -> Eip712Domain {
    eip712_domain! {
        name: "RingfenceAttestationVerifier",
        version: "1",
        chain_id: chain_id,
        verifying_contract: verifier,
    }
}

/// The digest a signature covers (what the contract's `digest` computes).
pub fn signing_hash(a: &Attestation, domain: &Eip712Domain) -> B256 {
    a.eip712_signing_hash(domain)
}

/// A route id as the contracts use it: keccak256 of the route's config id.
pub fn route_id(id: &str) -> B256 {
    alloy::primitives::keccak256(id.as_bytes())
}

/// An attestation with one attestor's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signed {
    /// The attestor's address.
    pub signer: Address,
    /// 65 bytes r ‖ s ‖ v (v = 27 or 28), hex.
    pub signature: alloy::primitives::Bytes,
}

/// The attestor's key. It comes from an environment variable, is never printed (`Debug` shows
/// the address only), and signs only attestations: there is no method to sign anything else.
pub struct AttestorKey {
    key: PrivateKeySigner,
}

impl fmt::Debug for AttestorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttestorKey({}, key redacted)", self.key.address())
    }
}

impl AttestorKey {
    /// Reads a hex private key from the environment variable `key_env`.
    pub fn from_env(key_env: &str) -> Result<Self> {
        let raw = std::env::var(key_env).map_err(|_| Error::KeyMissing {
            key_env: key_env.to_owned(),
        })?;
        Self::from_hex(key_env, raw.trim())
    }

    /// Parses a hex private key; `key_env` names its origin in errors (the key never appears).
    pub fn from_hex(key_env: &str, hex: &str) -> Result<Self> {
        let key = hex
            .parse::<PrivateKeySigner>()
            .map_err(|_| Error::KeyInvalid {
                key_env: key_env.to_owned(),
            })?;
        Ok(Self { key })
    }

    /// The attestor's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Signs `a` under `domain`.
    pub fn sign(&self, a: &Attestation, domain: &Eip712Domain) -> Result<Signed> {
        let sig = self
            .key
            .sign_hash_sync(&signing_hash(a, domain))
            .map_err(|e| Error::Sign(e.to_string()))?;
        Ok(Signed {
            signer: self.address(),
            signature: sig.as_bytes().into(),
        })
    }
}

/// Recovers the signer of `signature` over `a` (what the verifier contract does).
pub fn recover(a: &Attestation, domain: &Eip712Domain, signature: &[u8]) -> Option<Address> {
    let sig = alloy::primitives::Signature::try_from(signature).ok()?;
    sig.recover_address_from_prehash(&signing_hash(a, domain))
        .ok()
}

/// Convenience for building attestations from plain values.
#[allow(clippy::too_many_arguments)]
pub fn attestation(
    route: B256,
    src_chain_id: u64,
    src_tx_hash: B256,
    src_log_index: u64,
    message_id: B256,
    asset: B256,
    amount: U256,
    recipient: Address,
) -> Attestation {
    Attestation {
        routeId: route,
        srcChainId: U256::from(src_chain_id),
        srcTxHash: src_tx_hash,
        srcLogIndex: U256::from(src_log_index),
        messageId: message_id,
        asset,
        amount,
        recipient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    #[test]
    fn signs_and_recovers_and_never_prints_the_key() {
        let k = AttestorKey::from_hex("T", KEY).expect("key");
        let a = attestation(
            route_id("lab"),
            1,
            B256::repeat_byte(1),
            3,
            B256::repeat_byte(2),
            B256::repeat_byte(3),
            U256::from(5u64),
            Address::repeat_byte(4),
        );
        let d = domain(10, Address::repeat_byte(9));
        let s = k.sign(&a, &d).expect("sign");
        assert_eq!(s.signature.len(), 65);
        assert_eq!(recover(&a, &d, &s.signature), Some(k.address()));
        // Another domain (chain or verifier) or another field: another signer.
        assert_ne!(
            recover(&a, &domain(11, Address::repeat_byte(9)), &s.signature),
            Some(k.address())
        );
        let mut b = a.clone();
        b.amount += U256::from(1u64);
        assert_ne!(recover(&b, &d, &s.signature), Some(k.address()));
        let printed = format!("{k:?}");
        assert!(!printed.to_lowercase().contains(&KEY[2..12]), "{printed}");
        let bad = AttestorKey::from_hex("MY_ENV", "0xnotakey").expect_err("invalid");
        assert!(!bad.to_string().contains("notakey"));
        assert!(bad.to_string().contains("MY_ENV"));
    }

    #[test]
    fn typehash_matches_the_contract() {
        assert_eq!(
            Attestation::eip712_encode_type(),
            "Attestation(bytes32 routeId,uint256 srcChainId,bytes32 srcTxHash,uint256 srcLogIndex,bytes32 messageId,bytes32 asset,uint256 amount,address recipient)"
        );
    }
}
