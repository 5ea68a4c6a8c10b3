//! The parts of Certificate and CertificateRequest messages parsed here (TLS 1.3 layouts
//! included); the certificates themselves are read by [`crate::cert`].

use x509_parser::prelude::*;

fn u24(b: &[u8]) -> Option<usize> {
    Some(((*b.first()? as usize) << 16) | ((*b.get(1)? as usize) << 8) | *b.get(2)? as usize)
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(((*b.get(at)? as usize) << 8) | *b.get(at + 1)? as usize)
}

/// The DER certificates of a Certificate message body (after the 4-byte handshake header).
/// TLS 1.3 has a request context and per-entry extensions, which tls-parser does not read.
pub fn certificate_chain(body: &[u8], tls13: bool) -> Option<Vec<&[u8]>> {
    let mut at = 0;
    if tls13 {
        at = 1 + *body.first()? as usize;
    }
    let total = u24(body.get(at..)?)?;
    at += 3;
    let end = at.checked_add(total)?;
    let list = body.get(at..end)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let n = u24(list.get(i..)?)?;
        i += 3;
        out.push(list.get(i..i + n)?);
        i += n;
        if tls13 {
            let e = u16_at(list, i)?;
            i += 2 + e;
        }
    }
    Some(out)
}

/// The CA distinguished names listed by a CertificateRequest body (RFC 5246 7.4.4; in TLS 1.3
/// the certificate_authorities extension), as strings.
pub fn certificate_request_cas(body: &[u8], version: u16) -> Option<Vec<String>> {
    let tls13 = version == 0x0304 || version >> 8 == 0x7f;
    let names: &[u8] = if tls13 {
        let ctx = *body.first()? as usize;
        let mut at = 1 + ctx;
        let exts_len = u16_at(body, at)?;
        at += 2;
        let exts = body.get(at..at + exts_len)?;
        let mut i = 0;
        let mut found: &[u8] = &[];
        while i + 4 <= exts.len() {
            let t = u16_at(exts, i)?;
            let l = u16_at(exts, i + 2)?;
            let d = exts.get(i + 4..i + 4 + l)?;
            if t == 47 {
                let n = u16_at(d, 0)?;
                found = d.get(2..2 + n)?;
            }
            i += 4 + l;
        }
        found
    } else {
        let types = *body.first()? as usize;
        let mut at = 1 + types;
        if version >= 0x0303 {
            at += 2 + u16_at(body, at)?;
        }
        let n = u16_at(body, at)?;
        body.get(at + 2..at + 2 + n)?
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 <= names.len() {
        let n = u16_at(names, i)?;
        let der = names.get(i + 2..i + 2 + n)?;
        out.push(match X509Name::from_der(der) {
            Ok((_, name)) => name.to_string(),
            Err(_) => format!("<undecodable name, {} bytes>", der.len()),
        });
        i += 2 + n;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls13_certificate_entries_are_read() {
        // context len 0, list of one 3-byte "cert" with 0 extensions.
        let body = [0u8, 0, 0, 8, 0, 0, 3, 1, 2, 3, 0, 0];
        assert_eq!(certificate_chain(&body, true), Some(vec![&[1u8, 2, 3][..]]));
        let body12 = [0u8, 0, 6, 0, 0, 3, 1, 2, 3];
        assert_eq!(
            certificate_chain(&body12, false),
            Some(vec![&[1u8, 2, 3][..]])
        );
        assert_eq!(certificate_chain(&[0, 0, 9, 0], false), None);
    }

    #[test]
    fn certificate_request_without_cas() {
        // TLS 1.2: 1 cert type, 2 bytes of sig algs, empty CA list.
        let body = [1u8, 64, 0, 2, 4, 3, 0, 0];
        assert_eq!(certificate_request_cas(&body, 0x0303), Some(vec![]));
    }
}
