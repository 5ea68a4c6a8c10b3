//! Where a fact was seen: a frame of a capture, or a line of a log. Every fact carries its
//! place from its source to the report, which cites it as `frame 17` or `jabber.log:1234`.

use std::sync::Arc;

/// Where a fact was seen.
///
/// Places order as their facts came: frames by number, then a log's lines by its file (oldest
/// first) and line. Sixteen bytes, as every SIP message carries one: a line is shared.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum At {
    /// A capture frame, numbered as Wireshark numbers it (from 1).
    Frame(u64),
    /// A line of a log.
    Line(Arc<Line>),
}

/// A line of a log.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line {
    /// The file's place among the log's files, oldest first.
    pub file: u32,
    /// The file, as the report names it.
    pub name: Arc<str>,
    /// The line, from 1.
    pub line: u64,
}

impl At {
    /// Line `line` of `name`, the `file`-th of a log's files.
    pub fn line(file: u32, name: Arc<str>, line: u64) -> At {
        At::Line(Arc::new(Line { file, name, line }))
    }

    /// The frame number, when it is a frame.
    pub fn frame(&self) -> Option<u64> {
        match self {
            At::Frame(n) => Some(*n),
            At::Line(_) => None,
        }
    }

    /// The frame's number, or the line's.
    pub fn number(&self) -> u64 {
        match self {
            At::Frame(n) => *n,
            At::Line(l) => l.line,
        }
    }

    /// The log's file, when it is a line.
    pub fn file(&self) -> Option<&str> {
        match self {
            At::Frame(_) => None,
            At::Line(l) => Some(&l.name),
        }
    }

    /// Whether it is a line of a log.
    pub fn is_line(&self) -> bool {
        matches!(self, At::Line(_))
    }
}

impl Default for At {
    /// Frame 0: no frame (a fact without a place of its own).
    fn default() -> At {
        At::Frame(0)
    }
}

impl std::fmt::Display for At {
    /// `frame 17`, or `jabber.log:1234`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Frame(n) => write!(f, "frame {n}"),
            At::Line(l) => write!(f, "{}:{}", l.name, l.line),
        }
    }
}

/// A place in eight bytes, for the tables that keep one per device and registration: frames
/// as they are, lines with their file's place and the line. The file's name is kept once, in
/// the table's [`Files`]; [`Packed::unpack`] gives the place back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Packed(u64);

/// The bit that marks a packed line.
const LINE: u64 = 1 << 63;
/// Bits of a packed line's number.
const LINE_BITS: u32 = 47;

impl Packed {
    /// Packs `at`, noting a line's file in `files`.
    pub fn pack(at: &At, files: &mut Files) -> Packed {
        match at {
            At::Frame(n) => Packed(n & !LINE),
            At::Line(l) => {
                files.note(l.file, &l.name);
                let file = u64::from(l.file) & 0xffff;
                Packed(LINE | file << LINE_BITS | (l.line & ((1 << LINE_BITS) - 1)))
            }
        }
    }

    /// Its eight bytes.
    pub fn to_bits(self) -> u64 {
        self.0
    }

    /// A place from its eight bytes ([`Packed::to_bits`]).
    pub fn from_bits(bits: u64) -> Packed {
        Packed(bits)
    }

    /// The place it packs.
    pub fn unpack(self, files: &Files) -> At {
        if self.0 & LINE == 0 {
            return At::Frame(self.0);
        }
        let file = ((self.0 & !LINE) >> LINE_BITS) as u32;
        At::line(file, files.name(file), self.0 & ((1 << LINE_BITS) - 1))
    }
}

/// The names of a log's files, by their place among them (for [`Packed`] places).
#[derive(Clone, Debug, Default)]
pub struct Files(Vec<Arc<str>>);

impl Files {
    fn note(&mut self, file: u32, name: &Arc<str>) {
        let i = file as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, Arc::from(""));
        }
        if self.0[i].is_empty() {
            self.0[i] = Arc::clone(name);
        }
    }

    fn name(&self, file: u32) -> Arc<str> {
        self.0
            .get(file as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }
}

/// JSON writes a place as its number (the frame's, or the line's; a line's file is written
/// beside it where the contract has a `file`).
pub fn number<S: serde::Serializer>(at: &At, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(at.number())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_before_lines_and_a_log_s_files_oldest_first() {
        let line = |file, name: &str, line| At::line(file, name.into(), line);
        // jabber.log.1 is older than jabber.log: the file's place decides, not its name.
        let mut places = [
            line(1, "jabber.log", 2),
            At::Frame(90),
            line(0, "jabber.log.1", 700),
            At::Frame(3),
        ];
        places.sort();
        assert_eq!(
            places.iter().map(At::to_string).collect::<Vec<_>>(),
            ["frame 3", "frame 90", "jabber.log.1:700", "jabber.log:2"]
        );
        assert_eq!(places[3].number(), 2);
        assert_eq!(places[3].file(), Some("jabber.log"));
        assert_eq!(places[0].frame(), Some(3));
    }

    #[test]
    fn a_packed_place_unpacks_to_itself_and_orders_alike() {
        let mut files = Files::default();
        let places = [
            At::Frame(1),
            At::Frame((1 << 40) + 7),
            At::line(0, "jabber.log.1".into(), 1),
            At::line(1, "jabber.log".into(), 123_456_789),
        ];
        let packed: Vec<Packed> = places.iter().map(|a| Packed::pack(a, &mut files)).collect();
        for (a, p) in places.iter().zip(&packed) {
            assert_eq!(&p.unpack(&files), a);
        }
        assert!(packed.windows(2).all(|w| w[0] < w[1]));
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_place_is_sixteen_bytes() {
        // Every SIP message carries one.
        assert_eq!(std::mem::size_of::<At>(), 16);
    }
}
