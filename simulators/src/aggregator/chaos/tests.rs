//! Planning with a seeded generator, the rules as tables, and `play` over a scripted
//! transport on tokio's paused clock.

use std::collections::VecDeque;
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::check::{current_screen, same_answer};
use super::*;
use crate::aggregator::wire::{Body, Screen};
use crate::aggregator::Format;

#[test]
fn specs_parse_presets_items_and_overrides() {
    assert_eq!("off".parse(), Ok(Chaos::OFF));
    assert_eq!("default".parse(), Ok(Chaos::DEFAULT));
    assert_eq!(
        "1".parse(),
        Ok(Chaos::DEFAULT),
        "CHAOS=1 reads as the preset"
    );
    let spec: Chaos = "duplicate=0.05,retry=0.05,concurrent=0.05,replay=0.02,drop=0.02"
        .parse()
        .unwrap();
    assert_eq!(spec, Chaos::DEFAULT);
    let tuned: Chaos = "default, drop=0.5, retry_after=20ms".parse().unwrap();
    assert_eq!(tuned.share(Behaviour::Drop), 0.5);
    assert_eq!(tuned.share(Behaviour::Duplicate), 0.05);
    assert_eq!(tuned.retry_after, Duration::from_millis(20));
    let only: Chaos = "concurrent=1".parse().unwrap();
    assert_eq!(only.share(Behaviour::Concurrent), 1.0);
    assert_eq!(only.share(Behaviour::Retry), 0.0);
    for chaos in [Chaos::OFF, Chaos::DEFAULT, tuned, only] {
        assert_eq!(chaos.to_string().parse(), Ok(chaos), "{chaos}");
    }
}

#[test]
fn bad_specs_are_refused_with_a_reason() {
    for (bad, why) in [
        ("duplicate=2", "between 0.0 and 1.0"),
        ("duplicate=-0.1", "between 0.0 and 1.0"),
        ("dupe=0.1", "unknown chaos behaviour"),
        ("sometimes", "use off, default"),
        ("duplicate=0.6,drop=0.6", "more than 1.0"),
        ("retry_after=1ms..2ms", "one duration"),
    ] {
        let error = bad.parse::<Chaos>().unwrap_err();
        assert!(error.contains(why), "{bad}: {error}");
    }
}

#[test]
fn planning_is_repeatable_with_a_seed() {
    let plans = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..200)
            .map(|i| Chaos::DEFAULT.plan(&mut rng, i % 5))
            .collect::<Vec<_>>()
    };
    assert_eq!(plans(7), plans(7));
    assert_ne!(plans(7), plans(8));
}

#[test]
fn each_behaviour_gets_about_its_share_of_hops() {
    let mut rng = StdRng::seed_from_u64(42);
    let chaos: Chaos = "duplicate=0.1,retry=0.2,concurrent=0.05,replay=0.15,drop=0.1"
        .parse()
        .unwrap();
    let hops = 100_000;
    let mut seen = [0u32; 5];
    for _ in 0..hops {
        if let Some(plan) = chaos.plan(&mut rng, 3) {
            seen[plan.behaviour() as usize] += 1;
        }
    }
    for behaviour in Behaviour::ALL {
        let share = f64::from(seen[behaviour as usize]) / f64::from(hops);
        let want = chaos.share(behaviour);
        assert!(
            (share - want).abs() < 0.01,
            "{behaviour:?}: {share} for {want}"
        );
    }
}

#[test]
fn plans_stay_within_the_dialogue_and_the_retry_time_out() {
    let mut rng = StdRng::seed_from_u64(1);
    let replays: Chaos = "replay=1".parse().unwrap();
    assert_eq!(
        replays.plan(&mut rng, 0),
        None,
        "the dial has nothing older"
    );
    for position in 1..6 {
        for _ in 0..100 {
            match replays.plan(&mut rng, position) {
                Some(Plan::Replay { older }) => assert!(older < position),
                other => panic!("{other:?}"),
            }
        }
    }
    let retries: Chaos = "retry=1,retry_after=3ms".parse().unwrap();
    for _ in 0..100 {
        match retries.plan(&mut rng, 2) {
            Some(Plan::Retry { after }) => assert!(after <= Duration::from_millis(3)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(Chaos::OFF.plan(&mut rng, 3), None);
}

type Reply = Result<Raw, String>;

fn raw(body: &str) -> Reply {
    Ok(Raw {
        status: 200,
        body: body.to_owned(),
    })
}

fn con(text: &str) -> Screen {
    Screen {
        text: text.to_owned(),
        ends: false,
        client_state: String::new(),
    }
}

#[test]
fn copies_must_get_the_same_bytes() {
    let at = Format::AfricasTalking;
    let kind = |v: Option<(Violation, String)>| v.map(|(violation, _)| violation);
    #[rustfmt::skip]
    let cases: Vec<(Reply, Reply, Option<Violation>)> = vec![
        (raw("CON Menu"), raw("CON Menu"), None),
        (raw("END Namba 991"), raw("END Namba 992"), Some(Violation::Mismatch)),
        (raw("CON Menu"), raw("END Menu"), Some(Violation::Mismatch)),
        (raw("CON Menu"), Err("connection reset".into()), Some(Violation::NoAnswer)),
        (Err("timed out".into()), raw("CON Menu"), Some(Violation::NoAnswer)),
        (raw("CON Menu"), Ok(Raw { status: 429, body: "slow".into() }), Some(Violation::NoAnswer)),
        (raw("Menu"), raw("Menu"), Some(Violation::NoAnswer)),
    ];
    for (first, copy, want) in cases {
        assert_eq!(
            kind(same_answer(at, &first, &copy)),
            want,
            "{first:?} {copy:?}"
        );
    }
    let hubtel = |state: &str| {
        raw(&format!(
            r#"{{"Type":"Response","Message":"Menu","ClientState":"{state}"}}"#
        ))
    };
    assert_eq!(
        same_answer(Format::Hubtel, &hubtel("a"), &hubtel("a")),
        None
    );
    let (violation, detail) = same_answer(Format::Hubtel, &hubtel("a"), &hubtel("b")).unwrap();
    assert_eq!(
        violation,
        Violation::Mismatch,
        "byte for byte, not only the screen"
    );
    assert!(detail.contains("then"), "{detail}");
}

#[test]
fn an_older_hop_gets_the_current_screen_or_an_end() {
    let at = Format::AfricasTalking;
    let end = Screen {
        ends: true,
        ..con("Namba ya malipo: 991234567890")
    };
    let kind = |v: Option<(Violation, String)>| v.map(|(violation, _)| violation);
    #[rustfmt::skip]
    let cases: Vec<(Screen, Reply, Option<Violation>)> = vec![
        (con("Bili: TZS 53,000.00"), raw("CON Bili: TZS 53,000.00"), None),
        (con("Bili: TZS 53,000.00"), raw("CON Ingiza namba ya akaunti"), Some(Violation::Mismatch)),
        (con("Bili: TZS 53,000.00"), raw("END Bili: TZS 53,000.00"), Some(Violation::Mismatch)),
        (end.clone(), raw("END Mazungumzo haya yamekwisha"), None),
        (end.clone(), raw("END Namba ya malipo: 991234567890"), None),
        (end.clone(), raw("CON Huduma za Serikali\n1. Maji"), Some(Violation::Reopened)),
        (end, Err("refused".into()), Some(Violation::NoAnswer)),
    ];
    for (current, older, want) in cases {
        assert_eq!(
            kind(current_screen(at, &current, &older)),
            want,
            "{current:?} {older:?}"
        );
    }
}

#[test]
fn counts_add_up_by_kind_and_merge() {
    let event = |behaviour, violation: Option<Violation>| Event {
        behaviour,
        abandoned: behaviour == Behaviour::Retry,
        violation: violation.map(|v| (v, "seen".to_owned())),
    };
    let mut a = ChaosCounts::default();
    a.record(&event(Behaviour::Duplicate, None), "s1");
    a.record(
        &event(Behaviour::Duplicate, Some(Violation::Mismatch)),
        "s2",
    );
    let mut b = ChaosCounts::default();
    b.record(&event(Behaviour::Replay, Some(Violation::Reopened)), "s3");
    b.record(&event(Behaviour::Retry, None), "s4");
    a.merge(&b);
    assert_eq!(a.events_total(), 4);
    assert_eq!(a.events(Behaviour::Duplicate), 2);
    assert_eq!(a.violations_total(), 2);
    assert_eq!(a.violations(Behaviour::Replay, Violation::Reopened), 1);
    let json = a.to_json();
    assert_eq!(json["events"]["duplicate"], 2);
    assert_eq!(json["abandoned_retries"], 1);
    assert_eq!(json["violations"]["duplicate_mismatch"], 1);
    assert_eq!(json["violations"]["replay_reopened"], 1);
    assert_eq!(
        json["violations"]["drop_no_answer"], 0,
        "every kind is listed"
    );
    assert!(
        json["violations"].get("drop_reopened").is_none(),
        "only replays reopen"
    );
    assert_eq!(json["violations"].as_object().unwrap().len(), 11);
    assert_eq!(json["samples"][0], "duplicate_mismatch s2: seen");
}

/// Replies in order, each after its delay, recording the bodies it was sent.
struct Scripted {
    replies: Mutex<VecDeque<(Duration, &'static str)>>,
    sent: Mutex<Vec<Body>>,
}

impl Scripted {
    fn new(replies: &[(u64, &'static str)]) -> Self {
        let replies = replies
            .iter()
            .map(|(ms, body)| (Duration::from_millis(*ms), *body))
            .collect();
        Scripted {
            replies: Mutex::new(replies),
            sent: Mutex::new(Vec::new()),
        }
    }

    fn sent(&self) -> Vec<Body> {
        self.sent.lock().unwrap().clone()
    }
}

impl Transport for Scripted {
    type Error = String;

    async fn post(&self, body: &Body) -> Result<Raw, String> {
        self.sent.lock().unwrap().push(body.clone());
        let next = self.replies.lock().unwrap().pop_front();
        let (delay, reply) = next.ok_or("no reply scripted")?;
        tokio::time::sleep(delay).await;
        raw(reply)
    }
}

fn body(text: &str) -> Body {
    Body::Form(vec![("text", text.to_owned())])
}

#[tokio::test(start_paused = true)]
async fn each_plan_sends_its_copies_and_delivers_the_right_answer() {
    let at = Format::AfricasTalking;
    let (hop, older) = (body("1*2"), body("1"));
    // (plan, replies (delay ms, body), bodies sent, the answer delivered, the violation)
    type Case<'a> = (
        Plan,
        Vec<(u64, &'static str)>,
        Vec<&'a Body>,
        &'a str,
        Option<Violation>,
    );
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        (Plan::Duplicate, vec![(0, "CON A"), (0, "CON A")], vec![&hop, &hop], "CON A", None),
        (Plan::Duplicate, vec![(0, "CON A"), (0, "CON B")], vec![&hop, &hop], "CON A", Some(Violation::Mismatch)),
        (Plan::Drop, vec![(0, "CON A"), (0, "CON B")], vec![&hop, &hop], "CON B", Some(Violation::Mismatch)),
        (Plan::Concurrent, vec![(5, "CON A"), (5, "CON A")], vec![&hop, &hop], "CON A", None),
        (Plan::Replay { older: 1 }, vec![(0, "CON A"), (0, "CON A")], vec![&hop, &older], "CON A", None),
        (Plan::Replay { older: 1 }, vec![(0, "END A"), (0, "CON Menu")], vec![&hop, &older], "END A", Some(Violation::Reopened)),
        // The first copy answers within the time-out: the retry is compared with it.
        (Plan::Retry { after: Duration::from_millis(10) }, vec![(1, "CON A"), (1, "CON B")], vec![&hop, &hop], "CON B", Some(Violation::Mismatch)),
    ];
    for (plan, replies, want_sent, want_delivered, want_violation) in cases {
        let transport = Scripted::new(&replies);
        let played = play(&transport, at, &hop, Some(&older), Some(plan)).await;
        assert_eq!(played.delivered.unwrap().body, want_delivered, "{plan:?}");
        let event = played.event.expect("a planned hop is an event");
        assert_eq!(event.behaviour, plan.behaviour());
        assert_eq!(event.violation.map(|(v, _)| v), want_violation, "{plan:?}");
        let want_sent: Vec<Body> = want_sent.into_iter().cloned().collect();
        assert_eq!(transport.sent(), want_sent, "{plan:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_gives_up_the_first_copy_after_its_time_out() {
    let hop = body("1");
    let transport = Scripted::new(&[(50, "CON late"), (1, "CON A")]);
    let plan = Plan::Retry {
        after: Duration::from_millis(10),
    };
    let played = play(&transport, Format::AfricasTalking, &hop, None, Some(plan)).await;
    assert_eq!(played.delivered.unwrap().body, "CON A");
    assert_eq!(played.latency, Duration::from_millis(1));
    let event = played.event.unwrap();
    assert!(event.abandoned && event.violation.is_none(), "{event:?}");
    assert_eq!(transport.sent().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn without_a_plan_a_hop_is_sent_once() {
    let hop = body("");
    let transport = Scripted::new(&[(3, "CON Menu")]);
    let played = play(&transport, Format::AfricasTalking, &hop, None, None).await;
    assert_eq!(played.delivered.unwrap().body, "CON Menu");
    assert_eq!(played.latency, Duration::from_millis(3));
    assert!(played.event.is_none());
    // A replay whose hop got no screen has nothing to compare with, and is skipped.
    let transport = Scripted::new(&[(0, "oops")]);
    let plan = Some(Plan::Replay { older: 0 });
    let played = play(&transport, Format::AfricasTalking, &hop, Some(&hop), plan).await;
    assert!(played.event.is_none());
    assert_eq!(transport.sent().len(), 1);
}
