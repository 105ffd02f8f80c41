//! The verifier contracts and three attestors on real anvil chains, with a real lying proxy.

mod abi;
mod chains;
mod contested;
mod contracts;
mod reorg;
mod restart;
mod three;
