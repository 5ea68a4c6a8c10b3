//! The one diagnosis path: a source feeds the facts builder, the connection rules judge each
//! connection as it settles, the capture rules each window of SIP and the whole at the end.

use crate::capture::CaptureInfo;
use crate::config::Config;
use crate::diagnose::{capture_occurrences, connection_occurrences, Aggregator, Finding};
use crate::note::Note;
use crate::session::{Analyzer, CaptureFacts, Connection};

/// One capture read and judged: what it showed, what the rules found, and the notes (what
/// could not be seen or decided, limits).
pub struct Judged {
    /// The facts the capture showed.
    pub facts: CaptureFacts,
    /// The findings, in report order.
    pub findings: Vec<Finding>,
    /// The capture's notes followed by what the rules could not decide (bounded).
    pub notes: Vec<Note>,
}

/// What a caller sees while a capture is judged, besides the report at the end (a live
/// sensor's events and metrics).
pub trait Hooks {
    /// A connection was settled (it ended, went idle, or the table was full).
    fn connection(&mut self, _c: &Connection) {}
    /// A window of SIP was judged: its messages, transactions and registrations (`sip_context`
    /// marks messages judged in an earlier window).
    fn window(&mut self, _facts: &CaptureFacts) {}
    /// The findings may have changed (a connection or a window was judged, or time went on),
    /// at capture time `now`.
    fn judged(&mut self, _findings: &Aggregator, _now: crate::time::Ts) {}
    /// Something the rules could not decide about a connection or a window just judged (the
    /// report lists it among its notes at the end).
    fn note(&mut self, _note: &Note) {}
}

/// [`Hooks`] that only watch connections.
pub(super) struct OnConn<'f>(pub(super) &'f mut dyn FnMut(&Connection));

impl Hooks for OnConn<'_> {
    fn connection(&mut self, c: &Connection) {
        (self.0)(c);
    }
}

/// The one diagnosis path: the capture reader `read` feeds the facts builder; per-connection
/// rules judge each connection as it is settled (`on_conn` sees it too), capture rules judge
/// the whole once it is read. The command line, the library calls, the tests, the fuzz targets
/// and the benchmarks all come through here.
pub fn judge(
    cfg: &Config,
    read: impl FnOnce(&mut Analyzer<'_>) -> Result<CaptureInfo, crate::capture::CaptureError>,
    on_conn: &mut dyn FnMut(&Connection),
) -> Result<Judged, crate::capture::CaptureError> {
    judge_with(cfg, read, &mut OnConn(on_conn))
}

/// [`judge`], telling `hooks` what is judged as it is (the live sensor comes through here).
pub fn judge_with(
    cfg: &Config,
    read: impl FnOnce(&mut Analyzer<'_>) -> Result<CaptureInfo, crate::capture::CaptureError>,
    hooks: &mut dyn Hooks,
) -> Result<Judged, crate::capture::CaptureError> {
    let mut agg = Aggregator::default();
    let mut undecided = crate::session::Notes::default();
    let mut outside = crate::diagnose::OutOfScope::default();
    let mut facts = {
        let mut analyzer = Analyzer::new(cfg);
        analyzer.with_judge(Box::new(Judging {
            cfg,
            agg: &mut agg,
            undecided: &mut undecided,
            outside: &mut outside,
            hooks: &mut *hooks,
            listed: 0,
        }));
        let info = read(&mut analyzer)?;
        analyzer.finish(info)
    };
    let mut capture_notes = Vec::new();
    let cited = capture_occurrences(&facts, cfg, &mut agg, &mut capture_notes);
    hooks.window(&facts);
    let end = facts
        .info
        .as_ref()
        .and_then(|i| i.last_time)
        .unwrap_or_default();
    hooks.judged(&agg, end);
    facts.keep_cited(&cited);
    capture_notes.extend(outside.note());
    for n in capture_notes {
        hooks.note(&n);
        undecided.push(n);
    }
    let mut notes: Vec<Note> = facts
        .notes
        .iter()
        .cloned()
        .chain(undecided.into_vec())
        .collect();
    if notes.len() > crate::session::MAX_NOTES {
        let more = (notes.len() - crate::session::MAX_NOTES) as u64;
        notes.truncate(crate::session::MAX_NOTES);
        notes.push(Note::NotesNotListed { more });
    }
    Ok(Judged {
        findings: agg.into_findings(0),
        facts,
        notes,
    })
}

/// What judges a capture while it is read: each connection as it settles, each window of SIP.
pub(super) struct Judging<'a, 'o> {
    cfg: &'a Config,
    agg: &'a mut Aggregator,
    undecided: &'a mut crate::session::Notes,
    outside: &'a mut crate::diagnose::OutOfScope,
    hooks: &'a mut (dyn Hooks + 'o),
    listed: usize,
}

impl crate::session::Judge for Judging<'_, '_> {
    fn settled(&mut self, c: &Connection) -> bool {
        self.hooks.connection(c);
        self.listed += 1;
        // TLS between hosts that have nothing to do with SIP OAuth is counted, not judged.
        if !crate::diagnose::in_scope(c) {
            self.outside.add(c);
            return self.listed <= crate::session::MAX_KEPT;
        }
        let mut here = Vec::new();
        let found = connection_occurrences(c, self.cfg, self.agg, &mut here);
        for n in here {
            self.hooks.note(&n);
            self.undecided.push(n);
        }
        if found {
            self.hooks.judged(self.agg, c.last_time);
        }
        found || self.listed <= crate::session::MAX_KEPT
    }

    fn sip_window(&mut self, facts: &CaptureFacts) -> Vec<crate::place::At> {
        let mut here = Vec::new();
        let cited = capture_occurrences(facts, self.cfg, self.agg, &mut here);
        for n in here {
            self.hooks.note(&n);
            self.undecided.push(n);
        }
        self.hooks.window(facts);
        let now = facts
            .sip_window
            .or_else(|| facts.info.as_ref().and_then(|i| i.last_time))
            .unwrap_or_default();
        self.hooks.judged(self.agg, now);
        cited
    }

    fn tick(&mut self, now: crate::time::Ts) {
        self.hooks.judged(self.agg, now);
    }

    fn note(&mut self, note: &Note) {
        self.hooks.note(note);
    }
}
