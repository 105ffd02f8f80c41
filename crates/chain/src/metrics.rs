//! Prometheus metrics in the text exposition format, served on `--metrics ADDR`.

use std::fmt::Write;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Counters and gauges of the daemon.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) chains: Vec<String>,
    pub(crate) events: Vec<u64>,
    pub(crate) blocks: Vec<u64>,
    pub(crate) lag: Vec<u64>,
    pub(crate) trips: u64,
    pub(crate) alerts: u64,
    pub(crate) latency_sum: f64,
    pub(crate) latency_count: u64,
    pub(crate) latency_last: f64,
}

impl Metrics {
    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# TYPE ringfence_events_total counter");
        for (c, v) in self.chains.iter().zip(&self.events) {
            let _ = writeln!(s, "ringfence_events_total{{chain=\"{c}\"}} {v}");
        }
        let _ = writeln!(s, "# TYPE ringfence_blocks_total counter");
        for (c, v) in self.chains.iter().zip(&self.blocks) {
            let _ = writeln!(s, "ringfence_blocks_total{{chain=\"{c}\"}} {v}");
        }
        let _ = writeln!(s, "# TYPE ringfence_lag_blocks gauge");
        for (c, v) in self.chains.iter().zip(&self.lag) {
            let _ = writeln!(s, "ringfence_lag_blocks{{chain=\"{c}\"}} {v}");
        }
        let _ = writeln!(
            s,
            "# TYPE ringfence_trips_total counter\nringfence_trips_total {}",
            self.trips
        );
        let _ = writeln!(
            s,
            "# TYPE ringfence_alerts_total counter\nringfence_alerts_total {}",
            self.alerts
        );
        let _ = writeln!(
            s,
            "# TYPE ringfence_detection_latency_seconds summary\nringfence_detection_latency_seconds_sum {}\nringfence_detection_latency_seconds_count {}",
            self.latency_sum, self.latency_count
        );
        let _ = writeln!(
            s,
            "# TYPE ringfence_last_detection_latency_seconds gauge\nringfence_last_detection_latency_seconds {}",
            self.latency_last
        );
        s
    }
}

/// Serves `GET /metrics` (any path) until the listener fails.
pub(crate) async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Mutex<Metrics>>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let body = metrics.lock().map(|m| m.render()).unwrap_or_default();
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}
