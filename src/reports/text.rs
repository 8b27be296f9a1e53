//! The report as text, for people at a terminal.

use super::{Dialogues, FunnelStep, Report, ServiceReport};
use std::fmt::{self, Write};

const TIME: &str = "%Y-%m-%d %H:%M:%S UTC";

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = match &self.agency {
            Some(agency) => format!("agency {agency}"),
            None => "all agencies".to_string(),
        };
        writeln!(
            f,
            "Report for {whose}, {} to {}",
            self.since.format(TIME),
            self.until.format(TIME)
        )?;
        if self.agencies.is_empty() {
            return writeln!(f, "\nNo dialogues or transactions in this period.");
        }
        for agency in &self.agencies {
            match &agency.agency {
                Some(id) => writeln!(f, "\nAgency {id}")?,
                None => writeln!(f, "\nNo service chosen (ended on the root menu)")?,
            }
            for service in &agency.services {
                write_service(f, service, agency.agency.is_some())?;
            }
        }
        Ok(())
    }
}

fn write_service(f: &mut fmt::Formatter<'_>, s: &ServiceReport, named: bool) -> fmt::Result {
    let indent = if named {
        writeln!(
            f,
            "  Service {}",
            s.service.as_deref().unwrap_or("(not recorded)")
        )?;
        "    "
    } else {
        "  "
    };
    writeln!(f, "{indent}Dialogues: {}", dialogues(&s.dialogues))?;
    if !s.funnel.is_empty() {
        writeln!(f, "{indent}Funnel:")?;
        writeln!(
            f,
            "{indent}  {:<24} {:>8} {:>8}  ended there",
            "state", "reached", "stopped"
        )?;
        for step in &s.funnel {
            writeln!(f, "{indent}  {}", funnel_row(step))?;
        }
    }
    if !s.transactions.is_empty() {
        writeln!(f, "{indent}Transactions:")?;
        let mut actions: Vec<(&str, String)> = Vec::new();
        for t in &s.transactions {
            let part = format!("{} {}", t.outcome, t.count);
            match actions.last_mut() {
                Some((action, parts)) if *action == t.action => write!(parts, ", {part}")?,
                _ => actions.push((&t.action, part)),
            }
        }
        for (action, parts) in actions {
            writeln!(f, "{indent}  {action:<24} {parts}")?;
        }
    }
    if !s.latency.is_empty() {
        writeln!(f, "{indent}Back-office latency:")?;
        for l in &s.latency {
            writeln!(
                f,
                "{indent}  {:<24} {} answered, p50 {:.1} ms, p95 {:.1} ms",
                l.action, l.calls, l.p50_ms, l.p95_ms
            )?;
        }
    }
    Ok(())
}

fn dialogues(d: &Dialogues) -> String {
    let a = &d.abandoned;
    format!(
        "{} started, {} completed, {} abandoned (idle timeout {}, telco ended {}, \
         by the citizen {}), {} failed, {} unavailable",
        d.started,
        d.completed,
        a.total,
        a.idle_timeout,
        a.telco_ended,
        a.by_citizen,
        d.failed,
        d.unavailable
    )
}

fn funnel_row(step: &FunnelStep) -> String {
    let ended: Vec<String> = step
        .ended
        .iter()
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect();
    let (state, reached) = match &step.state {
        Some(state) => (state.as_str(), step.reached.to_string()),
        None => ("(outside the service)", "-".to_string()),
    };
    format!(
        "{state:<24} {reached:>8} {:>8}  {}",
        step.stopped,
        ended.join(", ")
    )
    .trim_end()
    .to_string()
}
