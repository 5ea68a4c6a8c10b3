//! How reports word notes: each kind's sentence, written once, over the note's data; and the
//! notes as JSON writes them (strings). The library never names a command-line option here:
//! the command line adds its own hints.

use std::fmt;

use crate::diagnose::util::register_of;
use crate::note::{Class, Hidden, Note};

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::SkippedFiles { count, names } => write!(
                f,
                "skipped {count} file(s) that hold no capture: {}",
                crate::words::some_of(names, 3)
            ),
            Note::TooDeep { dir, max } => {
                write!(f, "{dir}: not searched, deeper than {max} folder levels")
            }
            Note::FolderNotSearched { dir, error } => {
                write!(f, "{dir}: folder not searched: {error}")
            }
            Note::NotRead { input, error } => write!(f, "{input}: not read: {error}"),
            Note::ZipTruncated {
                input,
                max,
                members,
            } => write!(
                f,
                "{input}: only the first {max} of {members} members were looked at"
            ),
            Note::NestedArchive { input } => write!(
                f,
                "{input}: an archive inside an archive is not opened; extract it first"
            ),
            Note::Unusable { input, why } => write!(f, "{input}: {why}"),
            Note::Unreadable { error } => f.write_str(error),
            Note::CutShort { why } => {
                write!(f, "{why}; findings cover the frames before that point")
            }
            Note::Undecodable { frames, first, why } => write!(
                f,
                "{frames} frame(s) could not be decoded (first: frame {first}, {why})"
            ),
            Note::Truncated { frames } => write!(
                f,
                "{frames} frame(s) were cut by the snap length; the missing bytes are treated as \
                 gaps"
            ),
            Note::FragmentsDropped { datagrams } => write!(
                f,
                "limit: {datagrams} fragmented datagram(s) were dropped incomplete (fragment pool \
                 limits or age)"
            ),
            Note::TooManyOpen { max, evicted } => write!(
                f,
                "limit: more than {max} connections were open at once; the {evicted} longest idle \
                 were settled early (their later packets start new tcp.streams)"
            ),
            Note::BytesMissing { stream, bytes } => write!(
                f,
                "tcp.stream {stream}: {bytes} byte(s) missing from the capture; decoding resumed \
                 after each gap"
            ),
            Note::TlsUnreadable { stream, why } => write!(f, "tcp.stream {stream}: TLS: {why}"),
            Note::BodyOversized {
                stream,
                messages,
                max_kib,
            } => write!(
                f,
                "limit: tcp.stream {stream}: {messages} SIP message(s) declared a body over \
                 {max_kib} KiB; their headers were read and the body skipped by its length"
            ),
            Note::KeyLogLineSkipped { what } => write!(f, "key log: {what} (line skipped)"),
            Note::Undecrypted { connections } => write!(
                f,
                "{connections} TLS connection(s) on SIP ports carried encrypted application \
                 data: the SIP inside (REGISTER, 401/403/407 answers, Warning texts) cannot be \
                 read without the session keys. Capture a key log on a lab client \
                 (SSLKEYLOGFILE) and give it as the key log, or embed it in the capture with \
                 `editcap --inject-secrets tls,keys.txt`."
            ),
            Note::HoldBackLimit {
                connections,
                per_connection_kib,
                total_kib,
            } => write!(
                f,
                "limit: {connections} TLS connection(s) reached the hold-back limit \
                 ({per_connection_kib} KiB per connection, {total_kib} KiB in all) while waiting \
                 for keys that might come later in the file; their records were analyzed without \
                 keys"
            ),
            Note::ConfigUnreadable { at, path, error } => write!(
                f,
                "{at}: the configuration file {path} could not be read: {error}"
            ),
            Note::ConfigNotFound { at, path } => write!(
                f,
                "{at}: the TFTP server answered 404 for {path}: no such device is \
                 configured (or the name is wrong), so the client has no configuration to \
                 register with"
            ),
            Note::DevicesReleased { devices, idle_min } => write!(
                f,
                "{devices} device(s) silent for {idle_min} min past their registration's expiry \
                 were judged then and let go (registrations[] lists the devices still followed \
                 at the end)"
            ),
            Note::AttemptsInPieces { attempts, steps } => write!(
                f,
                "limit: {attempts} registration attempt(s) went past {steps} REGISTER \
                 transactions before they carried credentials or registered; their earlier \
                 challenges were judged without knowing that"
            ),
            Note::CopiesCounted {
                copies,
                per_attempt,
            } => write!(
                f,
                "limit: {copies} copies of messages of open registration attempts \
                 (retransmissions, provisional answers, repeated challenges past {per_attempt} \
                 per attempt) were counted, not judged"
            ),
            Note::DeviceLimit {
                max_devices,
                messages,
            } => write!(
                f,
                "limit: more than {max_devices} devices registered (the limit of devices \
                 followed); {messages} REGISTER message(s) of later devices were judged one \
                 window of SIP at a time, so a lapse between their registrations or a challenge \
                 answered in a later window may be missed"
            ),
            Note::RefusedOnOneNode {
                device,
                node,
                at,
                good,
                good_at,
            } => write!(
                f,
                "{device} was refused by {node} ({at}) but registered on {good} ({good_at}): \
                 the difference is per node (its OAuth ports, certificate, or \
                 CallManager service)"
            ),
            Note::ChallengeNotFollowed { at, device, hidden } => {
                let why = match hidden {
                    Hidden::Lost => "lost bytes of that connection and",
                    Hidden::InPieces => {
                        "judged this attempt in pieces (it went past 16 REGISTER transactions) and"
                    }
                    Hidden::Ends => "ends right after it and",
                };
                write!(
                    f,
                    "{at}: the Bearer challenge to {device} is not followed by a \
                     REGISTER in the capture, but the capture {why} cannot show whether one was \
                     sent"
                )
            }
            Note::ChallengeCutShort {
                at,
                device,
                status,
                in_pieces,
            } => {
                let then = if *in_pieces {
                    "the attempt's later REGISTERs were judged apart (it went past 16 REGISTER \
                     transactions)"
                } else {
                    "the capture ends"
                };
                write!(
                    f,
                    "{at}: {} was challenged ({status}) and {then} before the client \
                     could answer",
                    register_of(device)
                )
            }
            Note::IssuerNotRequested {
                stream,
                issuer,
                names,
                frame,
            } => write!(
                f,
                "tcp.stream {stream}: the client certificate's issuer \"{issuer}\" is not among \
                 the {names} CA name(s) the server listed in its CertificateRequest (frame \
                 {frame})"
            ),
            Note::OutsideScope { failed, example } => write!(
                f,
                "{failed} TLS connection(s) failed between hosts outside SIP OAuth (not CUCM, \
                 Expressway-C or their clients' ports), not judged: for example {example}"
            ),
            Note::ConnectionsNotListed { count, kept } => write!(
                f,
                "limit: {count} connection(s) without findings are not listed in connections[] \
                 (the first {kept} and every one with a finding are); all were analyzed"
            ),
            Note::TransactionsNotListed {
                devices,
                per_device,
            } => write!(
                f,
                "limit: {devices} device(s) sent more than {per_device} REGISTER transactions; \
                 those past the first {per_device} are not listed in registrations[] (all were \
                 analyzed)"
            ),
            Note::SipListed {
                listed,
                total,
                first,
            } => write!(
                f,
                "the report lists {listed} of {total} SIP messages (the first {first} and those \
                 cited as evidence); all were analyzed"
            ),
            Note::NotesNotListed { more } => write!(
                f,
                "limit: {more} more note(s) like the ones above are not listed"
            ),
            Note::LogRead {
                input,
                layout,
                files,
                records,
                sip,
                clock,
            } => {
                let several = if files.len() > 1 {
                    format!(
                        ", {} files read oldest first: {}",
                        files.len(),
                        files.join(", ")
                    )
                } else {
                    String::new()
                };
                write!(
                    f,
                    "{input} ({layout}{several}): {records} record(s), {sip} SIP message(s); \
                     times are {clock}"
                )
            }
            Note::LogTlsFailures { count } => write!(
                f,
                "{count} TLS handshake(s) failed on a certificate, as the log says (judged as \
                 connections)"
            ),
            Note::LogDuplicates { count } => write!(
                f,
                "{count} SIP message(s) were logged twice (summary and copy) and counted once"
            ),
            Note::LogSkipped { records } => write!(
                f,
                "{records} record(s) of other modules or products were skipped"
            ),
            Note::LogEvent { file, line, what } => write!(f, "{file}:{line}: {what}"),
            Note::LogEventsNotListed { count } => write!(
                f,
                "{count} more connection event(s) of the log are not listed"
            ),
            Note::LogConfigUnreadable { line, error } => write!(
                f,
                "line {line}: the device configuration the log prints could not be read: {error}"
            ),
            Note::LogRepeats { messages } => write!(
                f,
                "{messages} SIP message(s) that a rotated file repeated from the file before (the \
                 files overlap) were read once"
            ),
            Note::LogNoDate => f.write_str(
                "no SIP message in the Jabber log carries a Date header: its local times were \
                 taken as UTC",
            ),
            Note::LogMessageCut { line } => write!(
                f,
                "line {line}: a SIP message longer than the record limit was cut"
            ),
            Note::LogLastRecordCut { line, what } => write!(
                f,
                "line {line}: the file's last record, a SIP message, is cut (the {what} rotated \
                 there); it was not judged"
            ),
            Note::LogNoUtcTime { line } => write!(
                f,
                "line {line}: a SIP record without a UTCTime (or one outside the years 1678 to \
                 2261) was skipped"
            ),
            Note::LogMessageUnclosed { line } => write!(
                f,
                "line {line}: a SIP message was cut before its end (the log ends or rotates \
                 there); read as far as it goes"
            ),
            Note::LogNotText { lines } => write!(
                f,
                "{lines} line(s) held bytes that are not text; they were read as far as they make \
                 sense"
            ),
            Note::LogNoFileHead { line } => write!(
                f,
                "line {line}: a SIP message before any FileHead record (no date) was skipped"
            ),
            Note::LogOutOfRange { line } => write!(
                f,
                "line {line}: a SIP message dated outside the years 1678 to 2261 was skipped"
            ),
            Note::AlsoInCapture {
                log,
                messages,
                seconds,
                behind,
            } => write!(
                f,
                "{log}: {messages} SIP message(s) are also in the capture (listed once, with both \
                 places); its clock is {seconds:.3} s {} the capture's (median of the pairs)",
                if *behind { "behind" } else { "ahead of" }
            ),
            Note::ReadThroughLogs { streams } => write!(
                f,
                "{} TLS connection(s) the capture holds encrypted were read through the logs \
                 (their SIP, by addresses and ports): tcp.stream {}",
                streams.len(),
                streams
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Note::SavedTo { path, report } => write!(
                f,
                "the packets read are saved to {path}: the frame numbers {} are its frame numbers",
                if *report { "above" } else { "of these events" }
            ),
            Note::SaveLimit { path, mib, frame } => write!(
                f,
                "{path} reached its limit of {mib} MiB at frame {frame}; later packets are \
                 analyzed but not saved"
            ),
            Note::SaveUnfinished { path, error } => {
                write!(f, "cannot save packets to {path}: {error}")
            }
            Note::SaveStopped { path, error } => write!(
                f,
                "cannot save packets to {path}: {error}; later packets are analyzed but not saved"
            ),
            Note::Dropping {
                new,
                buffer,
                interface,
            } => write!(
                f,
                "limit: {new} packet(s) dropped before the sensor read them ({buffer} by the \
                 capture buffer, {interface} by the interface), {} so far; findings over this \
                 time may be incomplete",
                buffer + interface
            ),
            Note::Dropped {
                buffer,
                interface,
                received,
            } => write!(
                f,
                "limit: {} packet(s) were dropped before the sensor read them ({buffer} by the \
                 capture buffer, {interface} by the interface, of {received} received); what \
                 they held was not judged",
                buffer + interface
            ),
            Note::PseudonymMap => f.write_str(
                "names are pseudonyms: the map from each pseudonym to the value it stands for \
                 was written to a separate file, which is not part of this report",
            ),
            Note::Of { note, .. } => match self.named_input() {
                Some(input) => write!(f, "{input}: {note}"),
                None => write!(f, "{note}"),
            },
            Note::Worded { text, .. } => f.write_str(text),
        }
    }
}

impl Note {
    /// The input a note of several inputs names before its words: none when its own words
    /// start with it (a log's summary starts with the log's name).
    pub fn named_input(&self) -> Option<&str> {
        let input = self.input()?;
        (!self.inner().to_string().starts_with(input)).then_some(input)
    }

    /// The words of a limit of the analysis, without `limit: ` (what a verdict's reasons
    /// quote); `None` for other notes.
    pub fn limit(&self) -> Option<String> {
        (self.class() == Class::Limit).then(|| {
            let text = self.inner().to_string();
            text.strip_prefix("limit: ").unwrap_or(&text).to_string()
        })
    }
}

/// JSON writes a note as its words.
impl serde::Serialize for Note {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Note {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Note".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::At;

    #[test]
    fn a_kind_said_many_ways_is_one_line_with_its_first_note_and_where_the_rest_were() {
        let missing = |stream, bytes| Note::BytesMissing { stream, bytes };
        let notes = [
            missing(61, 571),
            missing(30, 93),
            Note::ConfigNotFound {
                at: At::Frame(9),
                path: "/SEPX.cnf.xml".into(),
            },
            missing(35, 158),
            missing(41, 571),
            missing(51, 12),
            Note::TlsUnreadable {
                stream: 4,
                why: "records lost in a gap".into(),
            },
            Note::TlsUnreadable {
                stream: 5,
                why: "records lost in a gap".into(),
            },
        ];
        let groups = crate::report::note_groups(&notes);
        let texts: Vec<&str> = groups.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "tcp.stream 61: 571 byte(s) missing from the capture; decoding resumed after each \
                 gap (and 4 more like it, in tcp.streams 41, 30, 35, 51)",
                "frame 9: the TFTP server answered 404 for /SEPX.cnf.xml: no such device is \
                 configured (or the name is wrong), so the client has no configuration to \
                 register with",
                "TLS: records lost in a gap (2 times; in tcp.streams 4, 5)",
            ]
        );
        assert!(groups[1].observed && !groups[0].observed);
        // A kind said three ways or fewer keeps each.
        let few = crate::report::note_groups(&notes[..4]);
        assert_eq!(few.len(), 4, "{few:?}");
    }

    #[test]
    fn a_note_of_one_input_among_several_names_it_unless_its_words_do() {
        let read = Note::LogRead {
            input: "jabber.log".into(),
            layout: "Jabber log",
            files: Vec::new(),
            records: 7,
            sip: 2,
            clock: "UTC".into(),
        };
        assert_eq!(
            read.clone().of("jabber.log").to_string(),
            "jabber.log (Jabber log): 7 record(s), 2 SIP message(s); times are UTC"
        );
        assert_eq!(
            Note::Truncated { frames: 3 }.of("a.pcap").to_string(),
            "a.pcap: 3 frame(s) were cut by the snap length; the missing bytes are treated as gaps"
        );
        assert_eq!(read.of("x").kind(), "log-read");
    }

    #[test]
    fn only_limits_of_the_analysis_reach_a_verdict() {
        let limit = Note::FragmentsDropped { datagrams: 2 };
        assert_eq!(
            limit.limit().as_deref(),
            Some("2 fragmented datagram(s) were dropped incomplete (fragment pool limits or age)")
        );
        let listing = Note::ConnectionsNotListed {
            count: 5,
            kept: 1000,
        };
        assert!(listing.to_string().starts_with("limit: "));
        assert_eq!(listing.limit(), None);
    }
}
