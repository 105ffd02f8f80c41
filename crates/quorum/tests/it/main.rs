//! The quorum reader against real anvil chains behind real lying proxies.

mod anvil;
mod lies;
