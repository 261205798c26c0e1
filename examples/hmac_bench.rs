//! Cost of verifying one CATAAM push signature (`push::verify_signature`: header parse, HMAC-SHA256
//! over `"<t>.<body>"`, constant-time compare) on a typical 1 KiB event body, with the current and
//! the previous secret both accepted and the matching signature second in the header.
//!
//! Run: `cargo run --release --example hmac_bench` → `figure hmac_verify_us <microseconds>`.

use cataam_jira::push::{sign, verify_signature};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let secret = "4f1c0b9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";
    let previous = "0000000000000000000000000000000000000000000000000000000000000001";
    let ids: Vec<String> = (0..30).map(|i| format!("fnd_01HX{i:020}")).collect();
    let body = serde_json::json!({
        "id": "evt_01HXBENCH", "type": "finding.updated",
        "createdAt": "2026-12-04T20:00:00Z", "findingIds": ids,
    })
    .to_string();
    let t = 1_780_000_000;
    let header = format!(
        "t={t},v1={},v1={}",
        sign("stale-secret", t, &body),
        sign(previous, t, &body)
    );
    let secrets = [secret, previous];
    // Warm up, then take the best of several rounds (least disturbed by other load).
    for _ in 0..1_000 {
        verify_signature(&header, &body, &secrets, t).unwrap();
    }
    let rounds = 7;
    let per_round = 5_000;
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..per_round {
            black_box(verify_signature(
                black_box(&header),
                black_box(&body),
                &secrets,
                t,
            ))
            .unwrap();
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / per_round as f64;
        best = best.min(us);
    }
    eprintln!("body {} bytes, 2 secrets x 2 signatures", body.len());
    println!("figure hmac_verify_us {best:.2}");
}
