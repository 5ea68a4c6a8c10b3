//! siptriage reads a packet capture and explains why Cisco SIP OAuth registrations fail.
//!
//! The pipeline, one folder per stage, data flowing one way:
//! [`capture`] (pcap/pcapng) -> [`decode`] (link, IP, fragments) -> [`flow`] (TCP reassembly)
//! -> [`tls`] and [`sip`] (incremental decoders) -> [`session`] (per connection and device)
//! -> [`diagnose`] (one rule per catalogue id) -> [`report`] (text, JSON).
//!
//! The one call is [`analyze::analyze`].

pub mod analyze;
pub mod capture;
pub mod cert;
pub mod config;
pub mod decode;
pub mod diagnose;
pub mod flow;
pub mod http;
pub mod inputs;
pub mod live;
pub mod logs;
pub mod net;
pub mod note;
pub mod place;
pub mod report;
pub mod session;
pub mod sip;
pub mod source;
pub mod time;
pub mod tls;
pub mod trust;
pub mod verdict;
pub mod watch;
pub mod words;
