//! Results for people (a table on stdout) and for machines (`--json`), and the
//! `--record-completed` CSV of every completed journey.

use crate::journey::Journey;
use crate::runner::{Completed, Outcome};
use crate::stats::ErrorKind;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// Quantiles reported for every latency histogram, with their names.
const QUANTILES: [(&str, f64); 4] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99_9", 0.999)];

/// The run's results as JSON; `settings` describes the run (mode, url, ...).
pub fn to_json(outcome: &Outcome, journeys: &[Journey], settings: Value) -> Value {
    let s = &outcome.stats;
    let secs = outcome.elapsed.as_secs_f64().max(1e-9);
    let per_s = |n: u64| round(n as f64 / secs, 1);
    let errors: serde_json::Map<String, Value> = ErrorKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), json!(s.errors[*k as usize])))
        .collect();
    let mut steps = Vec::new();
    for (j, journey) in journeys.iter().enumerate() {
        for (i, step) in journey.steps.iter().enumerate() {
            let mut entry = latency(&s.steps[j][i]);
            entry["journey"] = json!(journey.name);
            entry["index"] = json!(i);
            entry["step"] = json!(step.label);
            entry["failed_here"] = json!(s.failed_at[j][i]);
            steps.push(entry);
        }
    }
    json!({
        "settings": settings,
        "elapsed_s": round(secs, 3),
        "sessions": {
            "started": outcome.started,
            "completed": s.completed,
            "walked_away": s.walked_away,
            "failed": s.failed,
            "late": outcome.late,
            "dropped": outcome.dropped,
            "abandoned": outcome.abandoned,
        },
        "throughput": {
            "hops_per_s": per_s(s.hops),
            "sessions_per_s": per_s(s.completed),
            "transactions_per_s": per_s(s.transactions),
        },
        "counts": { "hops": s.hops, "transactions": s.transactions },
        "latency_ms": { "overall": latency(&s.overall), "steps": steps },
        "errors": errors,
        "error_samples": s.samples,
        "chaos": chaos_json(outcome),
    })
}

/// Chaos events and violations by kind (see `mgov_simulators::aggregator::chaos`), with the
/// seed that plans the same misbehaviours again.
fn chaos_json(outcome: &Outcome) -> Value {
    let mut chaos = outcome.stats.chaos.to_json();
    chaos["seed"] = json!(outcome.chaos_seed);
    chaos
}

/// count, mean and quantiles of one histogram, in milliseconds.
fn latency(h: &Histogram<u64>) -> Value {
    let ms = |micros: u64| round(micros as f64 / 1000.0, 3);
    let mut v =
        json!({ "count": h.len(), "mean": round(h.mean() / 1000.0, 3), "max": ms(h.max()) });
    for (name, q) in QUANTILES {
        v[name] = json!(ms(h.value_at_quantile(q)));
    }
    v
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// The table printed at the end of a run, from the JSON so both always agree.
pub fn table(report: &Value) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let (t, n) = (&report["throughput"], &report["sessions"]);
    line(format!(
        "measured {:.1} s",
        report["elapsed_s"].as_f64().unwrap_or_default()
    ));
    line(format!(
        "throughput   {} hops/s   {} sessions/s   {} transactions/s",
        t["hops_per_s"], t["sessions_per_s"], t["transactions_per_s"]
    ));
    line(format!(
        "sessions     {} started   {} completed   {} walked away   {} failed   {} late   {} dropped   {} abandoned",
        n["started"], n["completed"], n["walked_away"], n["failed"], n["late"], n["dropped"], n["abandoned"]
    ));
    line(String::new());
    line(format!(
        "{:<34} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "latency per hop (ms)", "hops", "p50", "p90", "p99", "p99.9", "max", "failed"
    ));
    let row = |name: String, l: &Value, failed: String| {
        format!(
            "{:<34} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>6}",
            name,
            l["count"].as_u64().unwrap_or_default(),
            l["p50"].as_f64().unwrap_or_default(),
            l["p90"].as_f64().unwrap_or_default(),
            l["p99"].as_f64().unwrap_or_default(),
            l["p99_9"].as_f64().unwrap_or_default(),
            l["max"].as_f64().unwrap_or_default(),
            failed,
        )
    };
    let latency = &report["latency_ms"];
    line(row(
        "all hops".into(),
        &latency["overall"],
        n["failed"].to_string(),
    ));
    for step in latency["steps"].as_array().into_iter().flatten() {
        let name = format!(
            "{} #{} {}",
            step["journey"].as_str().unwrap_or(""),
            step["index"],
            step["step"].as_str().unwrap_or("")
        );
        let name: String = name.chars().take(34).collect();
        line(row(name, step, step["failed_here"].to_string()));
    }
    line(String::new());
    line(format!("errors       {}", nonzero(&report["errors"])));
    for sample in report["error_samples"].as_array().into_iter().flatten() {
        line(format!("  e.g. {}", sample.as_str().unwrap_or("")));
    }
    let chaos = &report["chaos"];
    if chaos["events_total"].as_u64().unwrap_or_default() > 0 {
        line(format!(
            "chaos        {}   ({} retries gave up their first copy; seed {})",
            nonzero(&chaos["events"]),
            chaos["abandoned_retries"],
            chaos["seed"]
        ));
        line(format!("violations   {}", nonzero(&chaos["violations"])));
        for sample in chaos["samples"].as_array().into_iter().flatten() {
            line(format!("  e.g. {}", sample.as_str().unwrap_or("")));
        }
    }
    out
}

/// `name count` for each count above 0 of a JSON object, or `none`.
fn nonzero(counts: &Value) -> String {
    let listed: Vec<String> = counts
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, n)| n.as_u64() != Some(0))
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    if listed.is_empty() {
        "none".to_string()
    } else {
        listed.join("   ")
    }
}

/// Writes `session_id,msisdn,control_number,telco` lines on a thread of its own as journeys
/// complete, so a million of them never sit in memory. Returns the sender and a handle that
/// yields the number of lines written once every sender is dropped.
pub fn completed_csv(
    path: &Path,
) -> anyhow::Result<(
    std::sync::mpsc::Sender<Completed>,
    std::thread::JoinHandle<std::io::Result<u64>>,
)> {
    let file = std::fs::File::create(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    let (tx, rx) = std::sync::mpsc::channel::<Completed>();
    let writer = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "session_id,msisdn,control_number,telco")?;
        let mut lines = 0;
        for (session_id, msisdn, control_number, telco) in rx {
            writeln!(out, "{session_id},{msisdn},{control_number},{telco}")?;
            lines += 1;
        }
        out.flush()?;
        Ok(lines)
    });
    Ok((tx, writer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Hop, SessionReport, Stats};
    use std::time::{Duration, Instant};

    #[test]
    fn json_and_table_show_rates_percentiles_and_errors() {
        let journey = Journey::parse(include_str!("../journeys/water-bill.toml")).unwrap();
        let mut stats = Stats::new(&[journey.steps.len()]);
        for ms in 1..=100 {
            stats.record(&SessionReport {
                journey: 0,
                measured: true,
                session_id: format!("s{ms}"),
                telco: "africastalking".into(),
                msisdn: "255754000001".into(),
                hops: vec![Hop {
                    step: 0,
                    latency: Duration::from_millis(ms),
                    transaction: true,
                }],
                outcome: if ms == 100 {
                    Err((ErrorKind::Timeout, 1, "slow".into()))
                } else {
                    Ok(None)
                },
                walked_away: false,
                chaos: Vec::new(),
                finished: Instant::now(),
            });
        }
        let outcome = Outcome {
            stats,
            elapsed: Duration::from_secs(2),
            started: 100,
            late: 0,
            dropped: 0,
            abandoned: 0,
            chaos_seed: 7,
        };
        let v = to_json(&outcome, &[journey], json!({ "mode": "test" }));
        assert_eq!(v["throughput"]["hops_per_s"], 50.0);
        assert_eq!(v["throughput"]["sessions_per_s"], 49.5);
        assert_eq!(v["throughput"]["transactions_per_s"], 50.0);
        assert_eq!(v["latency_ms"]["overall"]["p50"], 50.015);
        assert_eq!(v["latency_ms"]["steps"][0]["count"], 100);
        assert_eq!(v["latency_ms"]["steps"][1]["failed_here"], 1);
        assert_eq!(v["errors"]["timeout"], 1);
        let table = table(&v);
        assert!(
            table.contains("50.0 hops/s") && table.contains("timeout 1"),
            "{table}"
        );
        assert!(table.contains("water-bill #0 dial *152*00#"), "{table}");
    }

    #[test]
    fn completed_journeys_are_written_one_per_line() {
        let dir = std::env::temp_dir().join(format!("mgov-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("done.csv");
        let (tx, writer) = completed_csv(&path).unwrap();
        let row = ("ph-1", "255754000001", "991234567890", "hubtel");
        tx.send((row.0.into(), row.1.into(), row.2.into(), row.3.into()))
            .unwrap();
        drop(tx);
        assert_eq!(writer.join().unwrap().unwrap(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "session_id,msisdn,control_number,telco\nph-1,255754000001,991234567890,hubtel\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
