//! Notes: what a run saw besides its findings, what it could not see or decide, and the limits
//! it reached, as values with their data. The library makes them; the report layer words them
//! (`report::notes`, where each variant's sentence is written once) and groups them by kind;
//! the command line adds its own hints (which option takes a key log) where it prints them.

use crate::place::At;

/// What a note is about, which decides where a report shows it and what it does to a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Something seen that is not a finding (a 404 for a configuration file, a device refused
    /// by one node and registered on another).
    Observed,
    /// Something that could not be seen, read or decided.
    Unseen,
    /// A limit of the analysis was reached: something was not judged (an "ok" becomes
    /// inconclusive).
    Limit,
    /// A limit of the report's listing: everything was judged, not everything is listed.
    Listing,
}

/// Why a Bearer challenge without a REGISTER after it could not be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hidden {
    /// The connection lost bytes (or an answer shows a REGISTER that was not seen).
    Lost,
    /// The attempt was judged in pieces (too many REGISTER transactions).
    InPieces,
    /// The capture ends right after the challenge.
    Ends,
}

/// One note, with its data.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    // --- Inputs.
    /// Files that hold no capture or log were skipped.
    SkippedFiles {
        /// How many.
        count: usize,
        /// Their names.
        names: Vec<String>,
    },
    /// A folder deeper than the search goes.
    TooDeep {
        /// The folder.
        dir: String,
        /// The depth searched.
        max: usize,
    },
    /// A folder that could not be listed.
    FolderNotSearched {
        /// The folder.
        dir: String,
        /// Why.
        error: String,
    },
    /// An input that could not be read.
    NotRead {
        /// The input.
        input: String,
        /// Why.
        error: String,
    },
    /// A zip archive with more members than are looked at.
    ZipTruncated {
        /// The archive.
        input: String,
        /// Members looked at.
        max: usize,
        /// Members it holds.
        members: usize,
    },
    /// An archive inside an archive.
    NestedArchive {
        /// The inner archive.
        input: String,
    },
    /// An input that holds no evidence, or could not be opened as what it is (a key log given
    /// as a capture, a damaged file).
    Unusable {
        /// The input.
        input: String,
        /// Why, in words.
        why: String,
    },
    /// A capture or log that could not be read at all.
    Unreadable {
        /// The error, naming the input.
        error: String,
    },

    // --- Reading a capture.
    /// The capture could not be read to its end.
    CutShort {
        /// Why, naming the frame.
        why: String,
    },
    /// Frames that could not be decoded.
    Undecodable {
        /// How many.
        frames: u64,
        /// The first.
        first: u64,
        /// Why the first could not.
        why: String,
    },
    /// Frames cut by the snap length.
    Truncated {
        /// How many.
        frames: u64,
    },
    /// Fragmented datagrams dropped incomplete.
    FragmentsDropped {
        /// How many.
        datagrams: u64,
    },
    /// More connections open at once than are tracked.
    TooManyOpen {
        /// Connections tracked at once.
        max: usize,
        /// Settled early.
        evicted: u64,
    },
    /// Bytes of a connection missing from the capture.
    BytesMissing {
        /// The connection's tcp.stream.
        stream: u64,
        /// How many.
        bytes: u64,
    },
    /// A TLS stream that could not be read.
    TlsUnreadable {
        /// The connection's tcp.stream.
        stream: u64,
        /// Why.
        why: String,
    },
    /// SIP bodies over the size read.
    BodyOversized {
        /// The connection's tcp.stream.
        stream: u64,
        /// Messages.
        messages: u64,
        /// The size read, in KiB.
        max_kib: usize,
    },
    /// A key log line that could not be used.
    KeyLogLineSkipped {
        /// What was wrong with it.
        what: String,
    },
    /// TLS connections on SIP ports whose records no key opened.
    Undecrypted {
        /// How many.
        connections: u64,
    },
    /// TLS connections that reached the hold-back limit waiting for keys.
    HoldBackLimit {
        /// How many.
        connections: u64,
        /// The limit per connection, in KiB.
        per_connection_kib: usize,
        /// The limit in all, in KiB.
        total_kib: usize,
    },
    /// A device configuration file that could not be read.
    ConfigUnreadable {
        /// Where.
        at: At,
        /// Its path.
        path: String,
        /// Why.
        error: String,
    },
    /// The TFTP server answered 404 for a device configuration file.
    ConfigNotFound {
        /// Where.
        at: At,
        /// The file asked for.
        path: String,
    },

    // --- SIP and registrations.
    /// Devices let go after a long silence past their expiry.
    DevicesReleased {
        /// How many.
        devices: u64,
        /// The silence, in minutes.
        idle_min: i64,
    },
    /// Registration attempts judged in pieces.
    AttemptsInPieces {
        /// How many.
        attempts: u64,
        /// The REGISTER transactions an attempt is followed for.
        steps: usize,
    },
    /// Copies of messages of open attempts counted, not judged.
    CopiesCounted {
        /// How many.
        copies: u64,
        /// Kept per attempt.
        per_attempt: usize,
    },
    /// More devices than are followed.
    DeviceLimit {
        /// Devices followed.
        max_devices: usize,
        /// REGISTER messages of later devices.
        messages: u64,
    },
    /// A device refused by one node and registered on another.
    RefusedOnOneNode {
        /// The device.
        device: String,
        /// The node that refused.
        node: String,
        /// Its answer.
        at: At,
        /// The node that registered it.
        good: String,
        /// That answer.
        good_at: At,
    },
    /// A Bearer challenge with no REGISTER after it, where the capture cannot show one was
    /// not sent.
    ChallengeNotFollowed {
        /// The challenge.
        at: At,
        /// The device.
        device: String,
        /// What hides the answer.
        hidden: Hidden,
    },
    /// A challenge the capture ends (or the window cuts) before the client could answer.
    ChallengeCutShort {
        /// The challenge.
        at: At,
        /// The device.
        device: String,
        /// The challenge's status.
        status: u16,
        /// The attempt was judged in pieces (else the capture ends).
        in_pieces: bool,
    },

    // --- TLS beyond the rules.
    /// A client certificate whose issuer the server did not list.
    IssuerNotRequested {
        /// The connection's tcp.stream.
        stream: u64,
        /// The issuer.
        issuer: String,
        /// CA names the server listed.
        names: usize,
        /// The CertificateRequest's frame.
        frame: u64,
    },
    /// Failed TLS between hosts outside SIP OAuth, counted.
    OutsideScope {
        /// How many.
        failed: u64,
        /// The first, as an example.
        example: String,
    },

    // --- The listing.
    /// Connections without findings not listed.
    ConnectionsNotListed {
        /// How many.
        count: u64,
        /// Listed at most.
        kept: usize,
    },
    /// REGISTER transactions not listed.
    TransactionsNotListed {
        /// Devices.
        devices: u64,
        /// Listed per device.
        per_device: usize,
    },
    /// SIP messages not listed.
    SipListed {
        /// Listed.
        listed: usize,
        /// In all.
        total: usize,
        /// The first ones listed.
        first: usize,
    },
    /// Notes past the list's bound.
    NotesNotListed {
        /// How many.
        more: u64,
    },

    // --- Logs.
    /// What a log held.
    LogRead {
        /// The log, as named.
        input: String,
        /// Its layout.
        layout: &'static str,
        /// Its files, oldest first, when it is several.
        files: Vec<String>,
        /// Records read.
        records: u64,
        /// SIP messages.
        sip: u64,
        /// How its times were made UTC.
        clock: String,
    },
    /// TLS handshakes a log says failed.
    LogTlsFailures {
        /// How many.
        count: u64,
    },
    /// SIP messages a log printed twice.
    LogDuplicates {
        /// How many.
        count: u64,
    },
    /// Records of other modules or products.
    LogSkipped {
        /// How many.
        records: u64,
    },
    /// A connection event a log states that no rule judges.
    LogEvent {
        /// The file.
        file: String,
        /// The line.
        line: u64,
        /// What it says.
        what: String,
    },
    /// Connection events past those listed.
    LogEventsNotListed {
        /// How many.
        count: u64,
    },
    /// A device configuration a log printed that could not be read.
    LogConfigUnreadable {
        /// The line.
        line: u64,
        /// Why.
        error: String,
    },
    /// Messages a rotated file repeated from the file before.
    LogRepeats {
        /// How many.
        messages: u64,
    },
    /// A Jabber log without a Date header.
    LogNoDate,
    /// A SIP message longer than the record limit.
    LogMessageCut {
        /// The line.
        line: u64,
    },
    /// A file's last record, a SIP message, cut by rotation.
    LogLastRecordCut {
        /// The line.
        line: u64,
        /// `log` or `trace`.
        what: &'static str,
    },
    /// An Expressway SIP record without a usable UTCTime.
    LogNoUtcTime {
        /// The line.
        line: u64,
    },
    /// An Expressway SIP message cut before its end.
    LogMessageUnclosed {
        /// The line.
        line: u64,
    },
    /// Lines that are not text.
    LogNotText {
        /// How many.
        lines: u64,
    },
    /// An SDL SIP message before any FileHead record.
    LogNoFileHead {
        /// The line.
        line: u64,
    },
    /// An SDL SIP message dated out of range.
    LogOutOfRange {
        /// The line.
        line: u64,
    },
    /// A log whose messages the capture also holds, and its clock against the capture's.
    AlsoInCapture {
        /// The log.
        log: String,
        /// Messages in both.
        messages: usize,
        /// Its clock's difference, in seconds.
        seconds: f64,
        /// The log's clock is behind the capture's (else ahead of it).
        behind: bool,
    },
    /// Encrypted connections whose SIP the logs gave.
    ReadThroughLogs {
        /// Their tcp.streams.
        streams: Vec<u64>,
    },

    // --- The sensor.
    /// The packets read are saved to a file.
    SavedTo {
        /// The file.
        path: String,
        /// In the report at the end (else in an event while the sensor runs).
        report: bool,
    },
    /// The file packets are saved to reached its size limit.
    SaveLimit {
        /// The file.
        path: String,
        /// Its limit, in MiB.
        mib: u64,
        /// The frame that would have passed it.
        frame: u64,
    },
    /// The saved packets could not be written out at the stop.
    SaveUnfinished {
        /// The file.
        path: String,
        /// Why.
        error: String,
    },
    /// Saving packets stopped.
    SaveStopped {
        /// The file.
        path: String,
        /// Why.
        error: String,
    },
    /// Packets dropped before the sensor read them, since the last look.
    Dropping {
        /// New drops.
        new: u64,
        /// By the capture buffer, so far.
        buffer: u64,
        /// By the interface, so far.
        interface: u64,
    },
    /// Packets dropped before the sensor read them, in all.
    Dropped {
        /// By the capture buffer.
        buffer: u64,
        /// By the interface.
        interface: u64,
        /// Received.
        received: u64,
    },
    /// The names are pseudonyms and their map was written apart.
    PseudonymMap,

    // --- Wrappers.
    /// A note of one input among several.
    Of {
        /// The input.
        input: String,
        /// The note.
        note: Box<Note>,
    },
    /// A note already worded: its places resolved (a log's lines) or its names redacted.
    Worded {
        /// The words.
        text: String,
        /// The note's kind.
        kind: &'static str,
        /// Its class.
        class: Class,
    },
}

impl Note {
    /// The note's kind: notes of one kind differ only in their data (the sensor counts them,
    /// reports group them).
    pub fn kind(&self) -> &'static str {
        match self {
            Note::SkippedFiles { .. } => "skipped-files",
            Note::TooDeep { .. } => "too-deep",
            Note::FolderNotSearched { .. } => "folder-not-searched",
            Note::NotRead { .. } => "not-read",
            Note::ZipTruncated { .. } => "zip-truncated",
            Note::NestedArchive { .. } => "nested-archive",
            Note::Unusable { .. } => "unusable",
            Note::Unreadable { .. } => "unreadable",
            Note::CutShort { .. } => "cut-short",
            Note::Undecodable { .. } => "undecodable",
            Note::Truncated { .. } => "truncated",
            Note::FragmentsDropped { .. } => "fragments-dropped",
            Note::TooManyOpen { .. } => "too-many-open",
            Note::BytesMissing { .. } => "bytes-missing",
            Note::TlsUnreadable { .. } => "tls-unreadable",
            Note::BodyOversized { .. } => "body-oversized",
            Note::KeyLogLineSkipped { .. } => "key-log-line-skipped",
            Note::Undecrypted { .. } => "undecrypted",
            Note::HoldBackLimit { .. } => "hold-back-limit",
            Note::ConfigUnreadable { .. } => "config-unreadable",
            Note::ConfigNotFound { .. } => "config-not-found",
            Note::DevicesReleased { .. } => "devices-released",
            Note::AttemptsInPieces { .. } => "attempts-in-pieces",
            Note::CopiesCounted { .. } => "copies-counted",
            Note::DeviceLimit { .. } => "device-limit",
            Note::RefusedOnOneNode { .. } => "refused-on-one-node",
            Note::ChallengeNotFollowed { .. } => "challenge-not-followed",
            Note::ChallengeCutShort { .. } => "challenge-cut-short",
            Note::IssuerNotRequested { .. } => "issuer-not-requested",
            Note::OutsideScope { .. } => "outside-scope",
            Note::ConnectionsNotListed { .. } => "connections-not-listed",
            Note::TransactionsNotListed { .. } => "transactions-not-listed",
            Note::SipListed { .. } => "sip-listed",
            Note::NotesNotListed { .. } => "notes-not-listed",
            Note::LogRead { .. } => "log-read",
            Note::LogTlsFailures { .. } => "log-tls-failures",
            Note::LogDuplicates { .. } => "log-duplicates",
            Note::LogSkipped { .. } => "log-skipped",
            Note::LogEvent { .. } => "log-event",
            Note::LogEventsNotListed { .. } => "log-events-not-listed",
            Note::LogConfigUnreadable { .. } => "log-config-unreadable",
            Note::LogRepeats { .. } => "log-repeats",
            Note::LogNoDate => "log-no-date",
            Note::LogMessageCut { .. } => "log-message-cut",
            Note::LogLastRecordCut { .. } => "log-last-record-cut",
            Note::LogNoUtcTime { .. } => "log-no-utc-time",
            Note::LogMessageUnclosed { .. } => "log-message-unclosed",
            Note::LogNotText { .. } => "log-not-text",
            Note::LogNoFileHead { .. } => "log-no-file-head",
            Note::LogOutOfRange { .. } => "log-out-of-range",
            Note::AlsoInCapture { .. } => "also-in-capture",
            Note::ReadThroughLogs { .. } => "read-through-logs",
            Note::SavedTo { .. } => "saved-to",
            Note::SaveLimit { .. } => "save-limit",
            Note::SaveStopped { .. } => "save-stopped",
            Note::SaveUnfinished { .. } => "save-unfinished",
            Note::Dropping { .. } => "dropping",
            Note::Dropped { .. } => "dropped",
            Note::PseudonymMap => "pseudonym-map",
            Note::Of { note, .. } => note.kind(),
            Note::Worded { kind, .. } => kind,
        }
    }

    /// What the note is about.
    pub fn class(&self) -> Class {
        match self {
            Note::ConfigNotFound { .. }
            | Note::RefusedOnOneNode { .. }
            | Note::ChallengeNotFollowed { .. }
            | Note::ChallengeCutShort { .. }
            | Note::IssuerNotRequested { .. }
            | Note::OutsideScope { .. } => Class::Observed,
            Note::FragmentsDropped { .. }
            | Note::TooManyOpen { .. }
            | Note::BodyOversized { .. }
            | Note::HoldBackLimit { .. }
            | Note::AttemptsInPieces { .. }
            | Note::CopiesCounted { .. }
            | Note::DeviceLimit { .. }
            | Note::Dropping { .. }
            | Note::Dropped { .. } => Class::Limit,
            Note::ConnectionsNotListed { .. }
            | Note::TransactionsNotListed { .. }
            | Note::SipListed { .. }
            | Note::NotesNotListed { .. }
            | Note::LogEventsNotListed { .. } => Class::Listing,
            Note::Of { note, .. } => note.class(),
            Note::Worded { class, .. } => *class,
            _ => Class::Unseen,
        }
    }

    /// The tcp.stream a note about one connection names first (`tcp.stream 4: ...`).
    pub fn stream(&self) -> Option<u64> {
        match self {
            Note::BytesMissing { stream, .. }
            | Note::TlsUnreadable { stream, .. }
            | Note::IssuerNotRequested { stream, .. } => Some(*stream),
            Note::Of { note, .. } => note.stream(),
            _ => None,
        }
    }

    /// The note itself, without the input it is of.
    pub fn inner(&self) -> &Note {
        match self {
            Note::Of { note, .. } => note.inner(),
            n => n,
        }
    }

    /// The input a note of several inputs is of.
    pub fn input(&self) -> Option<&str> {
        match self {
            Note::Of { input, .. } => Some(input),
            _ => None,
        }
    }

    /// The note as `text` says it (its places resolved, or its names redacted).
    pub fn worded(&self, text: String) -> Note {
        Note::Worded {
            text,
            kind: self.kind(),
            class: self.class(),
        }
    }

    /// This note, of `input` among several.
    pub fn of(self, input: &str) -> Note {
        Note::Of {
            input: input.to_string(),
            note: Box::new(self),
        }
    }
}
