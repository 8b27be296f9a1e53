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
            writeln!(f, "\nNo dialogues or transactions in this period.")?;
            return write!(f, "{}", self.sms);
        }
        for agency in &self.agencies {
            let mut heading = Some(match &agency.agency {
                Some(id) => format!("\nAgency {id}"),
                // Records from before migration 0004 name their service but not its agency.
                None => "\nAgency not recorded".to_string(),
            });
            for service in &agency.services {
                if agency.agency.is_none() && service.service.is_none() {
                    writeln!(f, "\nNo service chosen (ended on the root menu)")?;
                    write_service(f, service, false)?;
                    continue;
                }
                if let Some(heading) = heading.take() {
                    writeln!(f, "{heading}")?;
                }
                write_service(f, service, true)?;
            }
        }
        write!(f, "{}", self.sms)
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
                "{indent}  {:<24} {} calls, p50 {:.1} ms, p95 {:.1} ms",
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

#[cfg(test)]
mod tests {
    use super::super::{AgencyReport, Dialogues, Report, ServiceReport};

    #[test]
    fn records_without_an_agency_are_set_apart_from_the_root_menu() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .to_utc();
        let started = |n| Dialogues {
            started: n,
            failed: n,
            ..Default::default()
        };
        let service = |id: Option<&str>, n| ServiceReport {
            service: id.map(str::to_string),
            dialogues: started(n),
            ..Default::default()
        };
        let report = Report {
            since: at,
            until: at,
            agency: None,
            sms: Default::default(),
            agencies: vec![AgencyReport {
                agency: None,
                services: vec![
                    service(None, 2),
                    service(Some("maji"), 3),
                    service(Some("kesi"), 1),
                ],
            }],
        };
        let tail = "0 abandoned (idle timeout 0, telco ended 0, by the citizen 0)";
        assert_eq!(
            report.to_string(),
            format!(
                "Report for all agencies, 2026-11-30 12:00:00 UTC to 2026-11-30 12:00:00 UTC\n\
                 \nNo service chosen (ended on the root menu)\n\
                 \x20 Dialogues: 2 started, 0 completed, {tail}, 2 failed, 0 unavailable\n\
                 \nAgency not recorded\n\
                 \x20 Service maji\n\
                 \x20   Dialogues: 3 started, 0 completed, {tail}, 3 failed, 0 unavailable\n\
                 \x20 Service kesi\n\
                 \x20   Dialogues: 1 started, 0 completed, {tail}, 1 failed, 0 unavailable\n\
                 \nNo SMS in this period.\n"
            )
        );
    }
}
