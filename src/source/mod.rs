//! Sources: each kind of evidence turned into the same facts through one interface. A capture
//! (pcap, pcapng, compressed or not) feeds its frames to the facts builder
//! ([`crate::session::Analyzer`]); a log (Jabber, CUCM SDL, Expressway) feeds the SIP
//! messages, TLS failures and configurations it printed. The orchestrator (`analyze`) opens a
//! source per input, runs it into the facts builder and judges what it gave.

pub mod log;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::capture::{read_input, CaptureError, CaptureInfo};
use crate::config::Config;
use crate::inputs::Input;
use crate::session::Analyzer;

pub use log::{logged_sip, LogSource};

/// One input as a source of facts.
pub trait Source {
    /// Feeds everything the input holds to the facts builder; says what was read.
    fn read(&mut self, a: &mut Analyzer<'_>) -> Result<CaptureInfo, CaptureError>;
    /// What the report says of the input itself, besides its facts (a log's records and
    /// clock); asked once it is read.
    fn notes(&mut self) -> Vec<crate::note::Note> {
        Vec::new()
    }
}

/// A capture file (or standard input) as a source.
pub struct CaptureSource<'i> {
    input: &'i Input,
    progress: Option<Arc<AtomicU64>>,
    logged: Option<Arc<crate::tls::Injection>>,
}

impl Source for CaptureSource<'_> {
    fn read(&mut self, a: &mut Analyzer<'_>) -> Result<CaptureInfo, CaptureError> {
        if let Some(l) = self.logged.take() {
            a.inject(l);
        }
        read_input(self.input, a, self.progress.clone())
    }
}

/// The source `input` is: a log of its layout, else a capture. `progress` counts the bytes a
/// capture reads from disk; `logged` is the SIP the logs given with a capture printed,
/// standing in for records no key opens.
pub fn open<'i>(
    input: &'i Input,
    cfg: &'i Config,
    progress: Option<&Arc<AtomicU64>>,
    logged: Option<&Arc<crate::tls::Injection>>,
) -> Box<dyn Source + 'i> {
    match input.log {
        Some(kind) => Box::new(LogSource::new(input, kind, cfg)),
        None => Box::new(CaptureSource {
            input,
            progress: progress.cloned(),
            logged: logged.cloned(),
        }),
    }
}
