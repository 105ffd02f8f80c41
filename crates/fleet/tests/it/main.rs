//! Fleet tests on real nats-server processes (a three-node JetStream cluster on loopback) and,
//! for failover, real anvil chains with `ringfence watch --bus` members as child processes.

mod bus;
mod failover;
mod member;
// The chain crate's anvil harness and fixture helpers, shared rather than copied.
#[allow(dead_code, unreachable_pub, unused_imports)]
#[path = "../../../chain/tests/it/harness.rs"]
mod harness;
