//! Live capture through libpcap, loaded when a live source is opened, never linked.
//!
//! Reading files and logs needs no system library: the sensor's `watch -i` is the only part
//! that captures packets, so libpcap (Npcap's `wpcap.dll` on Windows) is looked up at run time
//! with the platform's loader. Without it, [`Live::open`] says what to install, and every other
//! part of the tool works. `SIPTRIAGE_LIBPCAP` names the library file to load instead of the
//! usual names (a libpcap built elsewhere, or a test's missing library).
//!
//! This is the crate's one module with `unsafe` code: the dozen C calls a sensor makes, each
//! wrapped once below with the lengths and lifetimes libpcap documents (`pcap(3PCAP)`).
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_long, c_uint, c_void, CStr, CString};
use std::fmt;
use std::ptr::NonNull;
use std::sync::OnceLock;

/// The environment variable naming the libpcap file to load instead of the usual names.
pub const LIBRARY_VAR: &str = "SIPTRIAGE_LIBPCAP";

/// libpcap's `PCAP_ERRBUF_SIZE`.
const ERRBUF_SIZE: usize = 256;
/// `PCAP_NETMASK_UNKNOWN`: a filter that names no broadcast address compiles without a mask.
const NETMASK_UNKNOWN: u32 = 0xffff_ffff;
/// `PCAP_ERROR_PERM_DENIED` and `PCAP_ERROR_PROMISC_PERM_DENIED`.
const PERM_DENIED: [c_int; 2] = [-8, -11];

/// `struct timeval` as libpcap's packet header holds it: `long` seconds everywhere (32 bits on
/// Windows), microseconds as `long` except on Apple systems (`int`).
#[repr(C)]
#[derive(Clone, Copy)]
struct TimeVal {
    tv_sec: c_long,
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    tv_usec: i32,
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    tv_usec: c_long,
}

/// `struct pcap_pkthdr`.
#[repr(C)]
struct PktHdr {
    ts: TimeVal,
    caplen: u32,
    len: u32,
}

/// `struct pcap_stat`, with room after it: Npcap's remote-capture builds write more fields.
#[repr(C)]
#[derive(Default)]
struct PcapStat {
    ps_recv: c_uint,
    ps_drop: c_uint,
    ps_ifdrop: c_uint,
    _more: [c_uint; 5],
}

/// `struct bpf_program`.
#[repr(C)]
struct BpfProgram {
    bf_len: c_uint,
    bf_insns: *mut c_void,
}

type Handle = *mut c_void;

/// The calls a sensor makes, copied out of the library once it is loaded.
struct Calls {
    create: unsafe extern "C" fn(*const c_char, *mut c_char) -> Handle,
    set_snaplen: unsafe extern "C" fn(Handle, c_int) -> c_int,
    set_promisc: unsafe extern "C" fn(Handle, c_int) -> c_int,
    set_timeout: unsafe extern "C" fn(Handle, c_int) -> c_int,
    set_buffer_size: unsafe extern "C" fn(Handle, c_int) -> c_int,
    /// libpcap 1.5 and later; older ones deliver in blocks anyway.
    set_immediate_mode: Option<unsafe extern "C" fn(Handle, c_int) -> c_int>,
    activate: unsafe extern "C" fn(Handle) -> c_int,
    setnonblock: unsafe extern "C" fn(Handle, c_int, *mut c_char) -> c_int,
    compile: unsafe extern "C" fn(Handle, *mut BpfProgram, *const c_char, c_int, u32) -> c_int,
    setfilter: unsafe extern "C" fn(Handle, *mut BpfProgram) -> c_int,
    freecode: unsafe extern "C" fn(*mut BpfProgram),
    next_ex: unsafe extern "C" fn(Handle, *mut *mut PktHdr, *mut *const u8) -> c_int,
    stats: unsafe extern "C" fn(Handle, *mut PcapStat) -> c_int,
    datalink: unsafe extern "C" fn(Handle) -> c_int,
    sendpacket: unsafe extern "C" fn(Handle, *const u8, c_int) -> c_int,
    geterr: unsafe extern "C" fn(Handle) -> *const c_char,
    statustostr: unsafe extern "C" fn(c_int) -> *const c_char,
    close: unsafe extern "C" fn(Handle),
}

/// A loaded libpcap: the library stays loaded for the process, so the calls stay valid.
struct Libpcap {
    _lib: libloading::Library,
    calls: Calls,
    /// The file it was loaded from, as named to the loader.
    name: String,
}

/// Why libpcap could not be loaded, with what to install.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// The names given to the loader, each with its answer.
    pub tried: Vec<(String, String)>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "live capture needs libpcap, which could not be loaded")?;
        if STATIC_BUILD {
            write!(
                f,
                ": this siptriage is a statically linked build, which cannot load libraries; \
                 use a dynamically linked build for live capture"
            )?;
        } else {
            write!(f, "; {}", install_hint())?;
        }
        for (name, why) in &self.tried {
            write!(f, "\n  tried {name}: {why}")?;
        }
        write!(
            f,
            "\nReading captures and logs (and replaying them) needs no library."
        )
    }
}

impl std::error::Error for LoadError {}

/// A musl build linked statically: its loader cannot open shared libraries.
const STATIC_BUILD: bool = cfg!(all(target_env = "musl", target_feature = "crt-static"));

/// What to install on this platform.
pub fn install_hint() -> &'static str {
    if cfg!(windows) {
        "install Npcap (npcap.com; its installer puts wpcap.dll under System32\\Npcap)"
    } else if cfg!(target_os = "macos") {
        "macOS ships libpcap as /usr/lib/libpcap.A.dylib; set SIPTRIAGE_LIBPCAP to a libpcap \
         file if it was removed or lives elsewhere"
    } else {
        "install libpcap (Debian and Ubuntu: apt install libpcap0.8; Fedora and RHEL: dnf \
         install libpcap; Alpine: apk add libpcap), or set SIPTRIAGE_LIBPCAP to its file"
    }
}

/// The names the loader is asked for, in order.
fn candidates() -> Vec<String> {
    if let Some(v) = std::env::var_os(LIBRARY_VAR).filter(|v| !v.is_empty()) {
        return vec![v.to_string_lossy().into_owned()];
    }
    if cfg!(windows) {
        let root = std::env::var("SystemRoot").unwrap_or_else(|_| "C:\\Windows".to_string());
        vec![
            format!("{root}\\System32\\Npcap\\wpcap.dll"),
            "wpcap.dll".to_string(),
        ]
    } else if cfg!(target_os = "macos") {
        vec![
            "libpcap.A.dylib".to_string(),
            "/usr/lib/libpcap.A.dylib".to_string(),
            "libpcap.dylib".to_string(),
        ]
    } else {
        vec![
            "libpcap.so.1".to_string(),
            "libpcap.so.0.8".to_string(),
            "libpcap.so".to_string(),
        ]
    }
}

#[cfg(windows)]
fn open_library(name: &str) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::windows::{Library, LOAD_WITH_ALTERED_SEARCH_PATH};
    // With a full path, wpcap.dll's own Packet.dll is found beside it.
    let flags = if name.contains('\\') {
        LOAD_WITH_ALTERED_SEARCH_PATH
    } else {
        0
    };
    // SAFETY: loading runs the library's initialisers; libpcap's do nothing but set up its
    // own state.
    unsafe { Library::load_with_flags(name, flags) }.map(libloading::Library::from)
}

#[cfg(not(windows))]
fn open_library(name: &str) -> Result<libloading::Library, libloading::Error> {
    // SAFETY: as above.
    unsafe { libloading::Library::new(name) }
}

/// Copies one call out of the library.
///
/// # Safety
/// `T` must be the C type libpcap gives the symbol `name`.
unsafe fn call<T: Copy>(lib: &libloading::Library, name: &str) -> Result<T, String> {
    // SAFETY: the caller gives the symbol's type; the library outlives the copy (it is kept
    // for the process).
    unsafe { lib.get::<T>(name.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| format!("{name} is missing: {e}"))
}

impl Libpcap {
    fn load_one(name: &str) -> Result<Libpcap, String> {
        let lib = open_library(name).map_err(|e| e.to_string())?;
        // SAFETY: each type below is the prototype in libpcap's pcap/pcap.h.
        let calls = unsafe {
            Calls {
                create: call(&lib, "pcap_create")?,
                set_snaplen: call(&lib, "pcap_set_snaplen")?,
                set_promisc: call(&lib, "pcap_set_promisc")?,
                set_timeout: call(&lib, "pcap_set_timeout")?,
                set_buffer_size: call(&lib, "pcap_set_buffer_size")?,
                set_immediate_mode: call(&lib, "pcap_set_immediate_mode").ok(),
                activate: call(&lib, "pcap_activate")?,
                setnonblock: call(&lib, "pcap_setnonblock")?,
                compile: call(&lib, "pcap_compile")?,
                setfilter: call(&lib, "pcap_setfilter")?,
                freecode: call(&lib, "pcap_freecode")?,
                next_ex: call(&lib, "pcap_next_ex")?,
                stats: call(&lib, "pcap_stats")?,
                datalink: call(&lib, "pcap_datalink")?,
                sendpacket: call(&lib, "pcap_sendpacket")?,
                geterr: call(&lib, "pcap_geterr")?,
                statustostr: call(&lib, "pcap_statustostr")?,
                close: call(&lib, "pcap_close")?,
            }
        };
        Ok(Libpcap {
            _lib: lib,
            calls,
            name: name.to_string(),
        })
    }
}

/// The process's libpcap, loaded at the first call.
fn libpcap() -> Result<&'static Libpcap, LoadError> {
    static LOADED: OnceLock<Result<Libpcap, LoadError>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let mut tried = Vec::new();
            for name in candidates() {
                match Libpcap::load_one(&name) {
                    Ok(l) => return Ok(l),
                    Err(e) => tried.push((name, e)),
                }
            }
            Err(LoadError { tried })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Which libpcap file is in use, loading it if need be: for `--version`-like reports.
pub fn library() -> Result<String, LoadError> {
    libpcap().map(|l| l.name.clone())
}

/// Why a live capture could not start or go on.
#[derive(Debug, Clone)]
pub enum Error {
    /// libpcap is not there.
    Load(LoadError),
    /// libpcap refused a call: what was asked, and its words.
    Pcap {
        what: &'static str,
        message: String,
        /// The refusal was for want of privileges.
        permission: bool,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load(e) => e.fmt(f),
            Error::Pcap { what, message, .. } => write!(f, "{what}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// libpcap is missing (as opposed to refusing a call).
    pub fn is_missing_library(&self) -> bool {
        matches!(self, Error::Load(_))
    }

    /// The call was refused for want of privileges.
    pub fn is_permission(&self) -> bool {
        matches!(
            self,
            Error::Pcap {
                permission: true,
                ..
            }
        )
    }
}

/// How a live capture is opened.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Bytes kept of each packet.
    pub snaplen: i32,
    /// Capture traffic not addressed to this host.
    pub promiscuous: bool,
    /// The kernel's buffer, in bytes.
    pub buffer: i32,
    /// How long libpcap may hold packets before handing them over, in milliseconds.
    pub timeout_ms: i32,
    /// Hand each packet over at once (no blocks).
    pub immediate: bool,
    /// Reads return at once when no packet is ready.
    pub nonblocking: bool,
}

/// One packet as libpcap hands it over; its bytes are valid until the next read.
#[derive(Debug)]
pub struct Packet<'a> {
    /// Seconds since the epoch, as the kernel stamped it.
    pub ts_sec: i64,
    /// Microseconds within the second.
    pub ts_usec: i64,
    /// The packet's length on the wire (`data` may be shorter, cut at the snap length).
    pub len: u32,
    /// The bytes captured.
    pub data: &'a [u8],
}

/// libpcap's counters since the capture started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub received: u32,
    pub dropped: u32,
    pub if_dropped: u32,
}

/// An open live capture (or a handle to send packets on an interface).
pub struct Live {
    lib: &'static Libpcap,
    handle: NonNull<c_void>,
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("library", &self.lib.name)
            .finish()
    }
}

// SAFETY: a pcap handle may move between threads; it is used by one at a time (`&mut self`).
unsafe impl Send for Live {}

fn errbuf_text(buf: &[c_char; ERRBUF_SIZE]) -> String {
    // libpcap writes a NUL-terminated string; a buffer it left without one is read to its end.
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Live {
    /// Opens `interface` for capture with `settings`.
    pub fn open(interface: &str, settings: &Settings) -> Result<Live, Error> {
        let live = Live::create(interface)?;
        let c = &live.lib.calls;
        let h = live.handle.as_ptr();
        // SAFETY: `h` is a created, not yet activated handle; these setters take ints.
        unsafe {
            (c.set_snaplen)(h, settings.snaplen);
            (c.set_promisc)(h, c_int::from(settings.promiscuous));
            (c.set_timeout)(h, settings.timeout_ms);
            (c.set_buffer_size)(h, settings.buffer);
            if let Some(immediate) = c.set_immediate_mode {
                immediate(h, c_int::from(settings.immediate));
            }
        }
        live.activate()?;
        if settings.nonblocking {
            let mut buf = [0 as c_char; ERRBUF_SIZE];
            // SAFETY: an activated handle and an error buffer of libpcap's size.
            if unsafe { (c.setnonblock)(h, 1, buf.as_mut_ptr()) } < 0 {
                return Err(live.refused("make the capture non-blocking", errbuf_text(&buf)));
            }
        }
        Ok(live)
    }

    /// Opens `interface` to send packets on it (tests and the development tools).
    pub fn open_for_sending(interface: &str) -> Result<Live, Error> {
        let live = Live::create(interface)?;
        live.activate()?;
        Ok(live)
    }

    fn create(interface: &str) -> Result<Live, Error> {
        let lib = libpcap().map_err(Error::Load)?;
        let name = CString::new(interface).map_err(|_| Error::Pcap {
            what: "name the interface",
            message: "the name holds a NUL byte".to_string(),
            permission: false,
        })?;
        let mut buf = [0 as c_char; ERRBUF_SIZE];
        // SAFETY: a NUL-terminated name and an error buffer of libpcap's size.
        let h = unsafe { (lib.calls.create)(name.as_ptr(), buf.as_mut_ptr()) };
        match NonNull::new(h) {
            Some(handle) => Ok(Live { lib, handle }),
            None => Err(Error::Pcap {
                what: "use the interface",
                message: errbuf_text(&buf),
                permission: false,
            }),
        }
    }

    fn activate(&self) -> Result<(), Error> {
        let c = &self.lib.calls;
        // SAFETY: a created handle, activated once.
        let status = unsafe { (c.activate)(self.handle.as_ptr()) };
        if status < 0 {
            let mut message = self.status_text(status);
            let detail = self.last_error();
            if !detail.is_empty() && !message.contains(&detail) {
                message = format!("{message} ({detail})");
            }
            return Err(Error::Pcap {
                what: "capture on the interface",
                message,
                permission: PERM_DENIED.contains(&status),
            });
        }
        Ok(())
    }

    fn status_text(&self, status: c_int) -> String {
        // SAFETY: pcap_statustostr returns a static or thread-local NUL-terminated string.
        let p = unsafe { (self.lib.calls.statustostr)(status) };
        if p.is_null() {
            return format!("libpcap status {status}");
        }
        // SAFETY: non-null and NUL-terminated, as above.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    fn last_error(&self) -> String {
        // SAFETY: pcap_geterr returns the handle's own NUL-terminated error buffer.
        let p = unsafe { (self.lib.calls.geterr)(self.handle.as_ptr()) };
        if p.is_null() {
            return String::new();
        }
        // SAFETY: non-null and NUL-terminated, valid until the next call on the handle.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    fn refused(&self, what: &'static str, message: String) -> Error {
        let permission = message.contains("ermission") || message.contains("not permitted");
        Error::Pcap {
            what,
            message,
            permission,
        }
    }

    /// Keeps only the packets the BPF `program` matches.
    pub fn set_filter(&mut self, program: &str) -> Result<(), Error> {
        let text = CString::new(program).map_err(|_| Error::Pcap {
            what: "compile the filter",
            message: "the filter holds a NUL byte".to_string(),
            permission: false,
        })?;
        let c = &self.lib.calls;
        let mut prog = BpfProgram {
            bf_len: 0,
            bf_insns: std::ptr::null_mut(),
        };
        let h = self.handle.as_ptr();
        // SAFETY: an activated handle, a NUL-terminated program and a program struct that
        // pcap_compile fills (and pcap_freecode empties).
        if unsafe { (c.compile)(h, &mut prog, text.as_ptr(), 1, NETMASK_UNKNOWN) } < 0 {
            return Err(self.refused("compile the filter", self.last_error()));
        }
        // SAFETY: the program compiled above; libpcap copies it into the handle.
        let set = unsafe { (c.setfilter)(h, &mut prog) };
        // SAFETY: compiled above, freed once.
        unsafe { (c.freecode)(&mut prog) };
        if set < 0 {
            return Err(self.refused("apply the filter", self.last_error()));
        }
        Ok(())
    }

    /// The next packet, or `None` when none is ready (the timeout passed, or a non-blocking
    /// read found nothing).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        let mut hdr: *mut PktHdr = std::ptr::null_mut();
        let mut data: *const u8 = std::ptr::null();
        // SAFETY: an activated handle and two out-pointers libpcap sets on success.
        let status = unsafe { (self.lib.calls.next_ex)(self.handle.as_ptr(), &mut hdr, &mut data) };
        match status {
            1 if !hdr.is_null() && !data.is_null() => {
                // SAFETY: on 1 libpcap points both at its buffer, valid until the next read on
                // this handle, which `&mut self` rules out while the packet is borrowed.
                let h = unsafe { &*hdr };
                // `long` is 32 bits on Windows, 64 elsewhere.
                #[allow(clippy::useless_conversion)]
                let (ts_sec, ts_usec) = (i64::from(h.ts.tv_sec), i64::from(h.ts.tv_usec));
                // SAFETY: as above: `caplen` bytes at `data`.
                let bytes = unsafe { std::slice::from_raw_parts(data, h.caplen as usize) };
                Ok(Some(Packet {
                    ts_sec,
                    ts_usec,
                    len: h.len,
                    data: bytes,
                }))
            }
            // 0: the timeout passed (or nothing was ready); -2: pcap_breakloop.
            0 | 1 | -2 => Ok(None),
            _ => Err(self.refused("read a packet", self.last_error())),
        }
    }

    /// libpcap's counters.
    pub fn stats(&mut self) -> Result<Stats, Error> {
        let mut s = PcapStat::default();
        // SAFETY: an activated handle and a struct with room past pcap_stat's fields.
        if unsafe { (self.lib.calls.stats)(self.handle.as_ptr(), &mut s) } < 0 {
            return Err(self.refused("read the capture's counters", self.last_error()));
        }
        Ok(Stats {
            received: s.ps_recv,
            dropped: s.ps_drop,
            if_dropped: s.ps_ifdrop,
        })
    }

    /// The link type of the packets (a `LINKTYPE_*`/`DLT_*` value).
    pub fn datalink(&self) -> i32 {
        // SAFETY: an activated handle.
        unsafe { (self.lib.calls.datalink)(self.handle.as_ptr()) }
    }

    /// Sends one whole link-layer frame out of the interface.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), Error> {
        let len = c_int::try_from(frame.len()).map_err(|_| Error::Pcap {
            what: "send a packet",
            message: format!("{} bytes is too long for one frame", frame.len()),
            permission: false,
        })?;
        // SAFETY: an activated handle and `len` readable bytes.
        if unsafe { (self.lib.calls.sendpacket)(self.handle.as_ptr(), frame.as_ptr(), len) } < 0 {
            return Err(self.refused("send a packet", self.last_error()));
        }
        Ok(())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // SAFETY: the handle was created by pcap_create and is closed once.
        unsafe { (self.lib.calls.close)(self.handle.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_have_libpcaps_layout() {
        // The layouts pcap/pcap.h gives on 64-bit Linux and macOS (24 bytes) and Windows (16).
        let want = if cfg!(windows) { 16 } else { 24 };
        if cfg!(target_pointer_width = "64") {
            assert_eq!(std::mem::size_of::<PktHdr>(), want);
        }
        assert_eq!(std::mem::offset_of!(PcapStat, ps_ifdrop), 8);
    }

    #[test]
    fn an_error_buffer_without_a_nul_is_read_to_its_end() {
        let mut buf = [b'x' as c_char; ERRBUF_SIZE];
        assert_eq!(errbuf_text(&buf).len(), ERRBUF_SIZE);
        buf[3] = 0;
        assert_eq!(errbuf_text(&buf), "xxx");
    }

    #[test]
    fn a_missing_library_says_what_to_install() {
        let e = LoadError {
            tried: vec![("libpcap.so.1".into(), "cannot open shared object".into())],
        };
        let text = e.to_string();
        assert!(text.contains("needs libpcap"), "{text}");
        assert!(text.contains("tried libpcap.so.1"), "{text}");
        assert!(text.contains("needs no library"), "{text}");
        if !STATIC_BUILD {
            assert!(text.contains(install_hint()), "{text}");
        }
    }
}
