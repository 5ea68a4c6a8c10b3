//! A sensor's events: each finding once as soon as it is certain, then updates no more often
//! than the interval asks, every line stamped with capture and wall-clock time.

use crate::note::{Class, Note};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diagnose::{Aggregator, Standing};
use crate::report::jsonl::{Event, Line};
use crate::report::redact::{Redaction, Redactor};
use crate::time::Ts;

use super::metrics::Metrics;
use super::rotate::LineSink;

/// What was told of one finding.
struct Told {
    standing: Standing,
    /// Capture time of the last line about it.
    at: Ts,
    /// It changed since.
    pending: bool,
}

/// Notes of one kind: how many, the first few and the latest, and what was told.
struct NoteKind {
    count: u64,
    told: u64,
    /// Capture time of the last line about them.
    at: Ts,
    examples: Vec<String>,
    latest: String,
}

/// Examples a note event carries at most.
const NOTE_EXAMPLES: usize = 3;

/// Writes a sensor's events.
pub struct Emitter {
    /// Notes by kind, in the order kinds first came.
    kinds: Vec<NoteKind>,
    note_index: std::collections::HashMap<&'static str, usize>,
    out: Box<dyn LineSink>,
    redactor: Redactor,
    told: Vec<Told>,
    added: u64,
    /// Updates of one finding this far apart at least (capture time, ns).
    every_ns: i64,
    now: Option<Ts>,
    wall: bool,
    metrics: Option<Arc<Metrics>>,
    /// Also say each new finding in one line on stderr (events going to a file).
    pub tell: bool,
    /// Lines written.
    pub lines: u64,
    /// The first write error (the sensor goes on; the caller reports it).
    pub error: Option<std::io::Error>,
}

/// A new finding in one line, for someone watching the terminal: the time of its first
/// evidence, severity, id, node, title, and that evidence (its note cut to 80 characters).
pub fn one_line(f: &crate::diagnose::Finding) -> String {
    let first = f.evidence.first();
    let when = first.map_or(String::new(), |e| {
        let t = e.time.rfc3339();
        format!("{}Z ", t.get(..19).unwrap_or(&t))
    });
    let what = first.map_or(String::new(), |e| {
        let (place, _) = crate::report::evidence_cells(e);
        let mut note: String = e.note.chars().take(80).collect();
        if note.len() < e.note.len() {
            note.push('…');
        }
        format!(" (frame {place}: {note})")
    });
    format!(
        "{when}{} {} at {}:{}: {}{what}",
        f.severity.label(),
        f.id,
        f.server.ip,
        f.server.port,
        f.title
    )
}

/// Wall-clock time now.
pub fn wall_now() -> Ts {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ts(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

impl Emitter {
    /// Events into `out`, redacted as asked; a finding's updates `every_ns` apart at least.
    /// Without `wall`, lines carry no wall-clock time (a replay then writes the same lines
    /// every time).
    pub fn new(
        out: Box<dyn LineSink>,
        redaction: Redaction,
        every_ns: i64,
        wall: bool,
        metrics: Option<Arc<Metrics>>,
    ) -> Emitter {
        Emitter {
            kinds: Vec::new(),
            note_index: std::collections::HashMap::new(),
            out,
            redactor: Redactor::new(redaction),
            told: Vec::new(),
            added: 0,
            every_ns,
            now: None,
            wall,
            metrics,
            tell: false,
            lines: 0,
            error: None,
        }
    }

    /// Writes one event stamped with the capture time it concerns.
    pub fn emit(&mut self, event: Event<'_>) {
        if self.error.is_some() {
            return;
        }
        let line = Line {
            event,
            capture_time: self.now,
            wall_time: self.wall.then(wall_now),
        };
        let mut buf = match serde_json::to_vec(&line) {
            Ok(b) => b,
            Err(e) => {
                self.error = Some(e.into());
                return;
            }
        };
        buf.push(b'\n');
        match self.out.line(&buf) {
            Ok(()) => self.lines += 1,
            Err(e) => self.error = Some(e),
        }
    }

    /// Capture time went on to `now`.
    pub fn advance(&mut self, now: Ts) {
        self.now = Some(self.now.map_or(now, |n| n.max(now)));
    }

    /// A note (its words redacted as the rest), told by kind ([`Note::kind`]): the first of
    /// a kind at once, then the count and the latest at most once per update interval. Notes
    /// that only describe the report's own listing are not told.
    pub fn note(&mut self, note: &Note) {
        if note.class() == Class::Listing {
            return;
        }
        self.redactor.learn_note(note);
        let mut text = note.to_string();
        self.redactor.text(&mut text);
        let kind = note.kind();
        let now = self.now.unwrap_or_default();
        match self.note_index.get(&kind) {
            Some(&i) => {
                let k = &mut self.kinds[i];
                k.count += 1;
                if k.examples.len() < NOTE_EXAMPLES {
                    k.examples.push(text.clone());
                }
                k.latest = text;
            }
            None => {
                self.note_index.insert(kind, self.kinds.len());
                self.kinds.push(NoteKind {
                    count: 1,
                    told: 0,
                    at: now,
                    examples: vec![text.clone()],
                    latest: text,
                });
                let i = self.kinds.len() - 1;
                self.tell_note(i, now);
            }
        }
    }

    /// Whether a note of `note`'s kind was told already.
    pub fn note_known(&mut self, note: &Note) -> bool {
        self.redactor.learn_note(note);
        self.note_index.contains_key(note.kind())
    }

    fn tell_note(&mut self, i: usize, now: Ts) {
        let k = &mut self.kinds[i];
        k.told = k.count;
        k.at = now;
        let (latest, count) = (k.latest.clone(), k.count);
        // One note is its own example.
        let examples = if count > 1 {
            k.examples.clone()
        } else {
            Vec::new()
        };
        self.emit(Event::Note {
            capture: 0,
            text: &latest,
            count: Some(count),
            examples: &examples,
        });
    }

    /// An address as the events show it (a pseudonym when addresses are redacted).
    pub fn address(&mut self, mut ip: std::net::IpAddr) -> String {
        self.redactor.ip(&mut ip);
        ip.to_string()
    }

    /// The findings may have changed: new ones are told whole, changed ones are updated once
    /// the interval since their last line has passed (by capture time `now`).
    pub fn judged(&mut self, agg: &Aggregator, now: Ts) {
        self.advance(now);
        if agg.added() != self.added {
            self.added = agg.added();
            self.look(agg);
        }
        self.updates(false);
    }

    fn look(&mut self, agg: &Aggregator) {
        for i in 0..agg.len() {
            let Some(standing) = agg.standing(i) else {
                continue;
            };
            match self.told.get_mut(i) {
                Some(t) => {
                    if t.standing != standing {
                        t.standing = standing;
                        t.pending = true;
                    }
                }
                None => {
                    if let Some(mut f) = agg.finding_at(i, 0) {
                        self.redactor.finding(&mut f);
                        self.emit(Event::Finding(&f));
                        if self.tell {
                            eprintln!("siptriage: {}", one_line(&f));
                        }
                    }
                    self.told.push(Told {
                        standing,
                        at: self.now.unwrap_or_default(),
                        pending: false,
                    });
                }
            }
        }
        if let Some(m) = &self.metrics {
            let mut totals: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
            for t in &self.told {
                *totals
                    .entry((t.standing.id, t.standing.severity.as_str()))
                    .or_default() += t.standing.occurrences;
            }
            m.findings(&totals);
        }
    }

    /// Tells the findings that changed: those whose interval passed, or all (`all`, at the
    /// end of the run).
    pub fn updates(&mut self, all: bool) {
        let now = self.now.unwrap_or_default();
        for i in 0..self.kinds.len() {
            let k = &self.kinds[i];
            if k.count > k.told && (all || now.0.saturating_sub(k.at.0) >= self.every_ns) {
                self.tell_note(i, now);
            }
        }
        let due: Vec<usize> = self
            .told
            .iter()
            .enumerate()
            .filter(|(_, t)| t.pending && (all || now.0.saturating_sub(t.at.0) >= self.every_ns))
            .map(|(i, _)| i)
            .collect();
        for i in due {
            let mut s = self.told[i].standing.clone();
            self.redactor.ip(&mut s.server.ip);
            self.emit(Event::FindingUpdate(&s));
            let t = &mut self.told[i];
            t.at = now;
            t.pending = false;
        }
    }

    /// The redactor, to redact the closing events as the others were.
    pub fn redactor(&mut self) -> &mut Redactor {
        &mut self.redactor
    }
}
