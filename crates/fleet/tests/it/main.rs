//! Fleet tests on real nats-server processes (and, for failover, real anvil chains).
