//! Record decryption with key-log secrets: TLS 1.2 (AES-GCM, ChaCha20-Poly1305, AES-CBC with
//! HMAC-SHA1/256/384, MAC-then-encrypt and encrypt-then-MAC) and TLS 1.3 (AES-GCM,
//! ChaCha20-Poly1305, KeyUpdate). Every tag and MAC is verified: a wrong key is an error, never
//! garbage. No primitive is written here; they come from RustCrypto.

use aes::cipher::{BlockDecryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// Hash of the PRF / HKDF and, for CBC suites, of the record MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-1 (record MAC only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl HashAlg {
    fn len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }
}

/// The record protection of a suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bulk {
    /// AES-GCM with a key of this many bytes.
    AesGcm(usize),
    /// ChaCha20-Poly1305.
    ChaCha,
    /// AES-CBC with a key of this many bytes and an HMAC.
    AesCbc(usize, HashAlg),
}

/// What decryption needs to know of a cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    /// Record protection.
    pub bulk: Bulk,
    /// PRF (TLS 1.2) or HKDF (TLS 1.3) hash.
    pub prf: HashAlg,
}

/// The suites we decrypt; `None` for the rest (reported as unsupported).
pub fn suite(id: u16) -> Option<Suite> {
    use Bulk::*;
    use HashAlg::*;
    let s = |bulk, prf| Some(Suite { bulk, prf });
    match id {
        0x1301 => s(AesGcm(16), Sha256),
        0x1302 => s(AesGcm(32), Sha384),
        0x1303 => s(ChaCha, Sha256),
        0xc02f | 0xc02b | 0x009c | 0x009e | 0x00a2 | 0xc09c => s(AesGcm(16), Sha256),
        0xc030 | 0xc02c | 0x009d | 0x009f | 0x00a3 | 0xc09d => s(AesGcm(32), Sha384),
        0xcca8..=0xccaa => s(ChaCha, Sha256),
        0x002f | 0x0033 | 0xc009 | 0xc013 | 0x0032 => s(AesCbc(16, Sha1), Sha256),
        0x0035 | 0x0039 | 0xc00a | 0xc014 | 0x0038 => s(AesCbc(32, Sha1), Sha256),
        0x003c | 0x0067 | 0xc023 | 0xc027 | 0x0040 => s(AesCbc(16, Sha256), Sha256),
        0x003d | 0x006b | 0x006a => s(AesCbc(32, Sha256), Sha256),
        0xc024 | 0xc028 => s(AesCbc(32, Sha384), Sha384),
        _ => None,
    }
}

fn verify_mac(alg: HashAlg, key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    macro_rules! run {
        ($h:ty) => {{
            let Ok(mut m) = <Hmac<$h> as Mac>::new_from_slice(key) else {
                return false;
            };
            for p in parts {
                m.update(p);
            }
            m.verify_slice(tag).is_ok()
        }};
    }
    match alg {
        HashAlg::Sha1 => run!(Sha1),
        HashAlg::Sha256 => run!(Sha256),
        HashAlg::Sha384 => run!(Sha384),
    }
}

/// TLS 1.2 PRF (RFC 5246 section 5).
pub fn prf12(alg: HashAlg, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    // The secret is keyed into the MAC once; each step starts from a copy of that state.
    macro_rules! run {
        ($h:ty) => {{
            let keyed =
                <Hmac<$h> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
            let mac = |parts: &[&[u8]]| {
                let mut m = keyed.clone();
                for p in parts {
                    m.update(p);
                }
                m.finalize().into_bytes()
            };
            let mut out = Vec::with_capacity(len);
            let mut a = mac(&[label, seed]);
            while out.len() < len {
                out.extend_from_slice(&mac(&[&a, label, seed]));
                a = mac(&[&a]);
            }
            out.truncate(len);
            out
        }};
    }
    match alg {
        HashAlg::Sha1 => run!(Sha1),
        HashAlg::Sha256 => run!(Sha256),
        HashAlg::Sha384 => run!(Sha384),
    }
}

/// TLS 1.3 HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context.
pub fn expand_label(alg: HashAlg, secret: &[u8], label: &str, len: usize) -> Option<Vec<u8>> {
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let mut out = vec![0u8; len];
    match alg {
        HashAlg::Sha256 => hkdf::Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        HashAlg::Sha384 => hkdf::Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        HashAlg::Sha1 => return None,
    }
    Some(out)
}

/// Why a record could not be decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecryptError {
    /// The tag or MAC did not verify: wrong key or a corrupted record.
    BadTag,
    /// The record is too short for this suite.
    Short,
}

/// Protection of one direction.
pub struct DirCipher {
    suite: Suite,
    /// The key, IV, MAC key and (TLS 1.3) traffic secret, one after the other in one
    /// allocation (a cluster capture holds thousands of these at once).
    material: Box<[u8]>,
    /// Lengths of the key, the IV and the MAC key within `material` (the secret is the rest).
    lens: [u8; 3],
    seq: u64,
    tls13: bool,
    etm: bool,
}

impl DirCipher {
    fn new(suite: Suite, parts: [&[u8]; 4], tls13: bool, etm: bool) -> Self {
        DirCipher {
            suite,
            material: parts.concat().into_boxed_slice(),
            lens: [
                parts[0].len() as u8,
                parts[1].len() as u8,
                parts[2].len() as u8,
            ],
            seq: 0,
            tls13,
            etm,
        }
    }

    fn key(&self) -> &[u8] {
        &self.material[..self.lens[0] as usize]
    }

    fn iv(&self) -> &[u8] {
        let a = self.lens[0] as usize;
        &self.material[a..a + self.lens[1] as usize]
    }

    fn mac_key(&self) -> &[u8] {
        let a = (self.lens[0] + self.lens[1]) as usize;
        &self.material[a..a + self.lens[2] as usize]
    }

    fn secret(&self) -> &[u8] {
        &self.material[(self.lens[0] as usize + self.lens[1] as usize + self.lens[2] as usize)..]
    }

    /// TLS 1.2 keys from the master secret, for the client's (`client == true`) or server's writes.
    pub fn tls12(
        suite: Suite,
        master: &[u8],
        client_random: &[u8],
        server_random: &[u8],
        client: bool,
        etm: bool,
    ) -> Self {
        let (key_len, iv_len, mac_len) = match suite.bulk {
            Bulk::AesGcm(k) => (k, 4, 0),
            Bulk::ChaCha => (32, 12, 0),
            Bulk::AesCbc(k, h) => (k, 0, h.len()),
        };
        let seed = [server_random, client_random].concat();
        let block = prf12(
            suite.prf,
            master,
            b"key expansion",
            &seed,
            2 * (mac_len + key_len + iv_len),
        );
        let take = |at: usize, n: usize| &block[at..at + n];
        let (mac_key, key, iv) = if client {
            (
                take(0, mac_len),
                take(2 * mac_len, key_len),
                take(2 * mac_len + 2 * key_len, iv_len),
            )
        } else {
            (
                take(mac_len, mac_len),
                take(2 * mac_len + key_len, key_len),
                take(2 * mac_len + 2 * key_len + iv_len, iv_len),
            )
        };
        DirCipher::new(suite, [key, iv, mac_key, &[]], false, etm)
    }

    /// TLS 1.3 keys from a traffic secret.
    pub fn tls13(suite: Suite, secret: &[u8]) -> Option<Self> {
        let key_len = match suite.bulk {
            Bulk::AesGcm(k) => k,
            Bulk::ChaCha => 32,
            Bulk::AesCbc(..) => return None,
        };
        let key = expand_label(suite.prf, secret, "key", key_len)?;
        let iv = expand_label(suite.prf, secret, "iv", 12)?;
        Some(DirCipher::new(suite, [&key, &iv, &[], secret], true, false))
    }

    /// TLS 1.3 KeyUpdate: the next traffic secret.
    pub fn key_update(&self) -> Option<Self> {
        let next = expand_label(
            self.suite.prf,
            self.secret(),
            "traffic upd",
            self.suite.prf.len(),
        )?;
        Self::tls13(self.suite, &next)
    }

    /// Opens an AEAD record (ring: its AES-GCM is several times faster than a portable one,
    /// and every SIP message of a cluster's capture passes here).
    fn aead_open(&self, nonce: &[u8], aad: &[u8], ct: &[u8]) -> Result<Vec<u8>, DecryptError> {
        use ring::aead;
        let alg = match self.suite.bulk {
            Bulk::AesGcm(16) => &aead::AES_128_GCM,
            Bulk::AesGcm(_) => &aead::AES_256_GCM,
            Bulk::ChaCha => &aead::CHACHA20_POLY1305,
            Bulk::AesCbc(..) => return Err(DecryptError::BadTag),
        };
        let key = aead::UnboundKey::new(alg, self.key()).map_err(|_| DecryptError::BadTag)?;
        let nonce =
            aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| DecryptError::BadTag)?;
        let mut buf = ct.to_vec();
        let n = aead::LessSafeKey::new(key)
            .open_in_place(nonce, aead::Aad::from(aad), &mut buf)
            .map_err(|_| DecryptError::BadTag)?
            .len();
        buf.truncate(n);
        Ok(buf)
    }

    /// The per-record nonce: the 12-byte IV XOR the sequence number (no allocation: this
    /// runs on every record).
    fn seq_nonce(&self) -> [u8; 12] {
        let mut n = [0u8; 12];
        let iv = self.iv();
        let iv = &iv[iv.len().saturating_sub(12)..];
        n[12 - iv.len()..].copy_from_slice(iv);
        for (i, b) in self.seq.to_be_bytes().iter().enumerate() {
            n[4 + i] ^= b;
        }
        n
    }

    /// Opens one record body. Returns the real content type and the plaintext.
    pub fn open(
        &mut self,
        ctype: u8,
        version: u16,
        body: &[u8],
    ) -> Result<(u8, Vec<u8>), DecryptError> {
        let out = if self.tls13 {
            if body.len() < 17 {
                return Err(DecryptError::Short);
            }
            let mut aad = [0u8; 5];
            aad[0] = ctype;
            aad[1..3].copy_from_slice(&version.to_be_bytes());
            aad[3..5].copy_from_slice(&(body.len() as u16).to_be_bytes());
            let mut pt = self.aead_open(&self.seq_nonce(), &aad, body)?;
            while pt.last() == Some(&0) {
                pt.pop();
            }
            let real = pt.pop().ok_or(DecryptError::BadTag)?;
            (real, pt)
        } else {
            let seq = self.seq.to_be_bytes();
            let head = |len: usize| {
                let mut h = [0u8; 13];
                h[..8].copy_from_slice(&seq);
                h[8] = ctype;
                h[9..11].copy_from_slice(&version.to_be_bytes());
                h[11..13].copy_from_slice(&(len as u16).to_be_bytes());
                h
            };
            match self.suite.bulk {
                Bulk::AesGcm(_) => {
                    if body.len() < 24 || self.iv().len() < 4 {
                        return Err(DecryptError::Short);
                    }
                    let mut nonce = [0u8; 12];
                    nonce[..4].copy_from_slice(&self.iv()[..4]);
                    nonce[4..].copy_from_slice(&body[..8]);
                    (
                        ctype,
                        self.aead_open(&nonce, &head(body.len() - 24), &body[8..])?,
                    )
                }
                Bulk::ChaCha => {
                    if body.len() < 16 {
                        return Err(DecryptError::Short);
                    }
                    (
                        ctype,
                        self.aead_open(&self.seq_nonce(), &head(body.len() - 16), body)?,
                    )
                }
                Bulk::AesCbc(k, h) => (ctype, self.open_cbc(k, h, &seq, ctype, version, body)?),
            }
        };
        self.seq += 1;
        Ok(out)
    }

    fn open_cbc(
        &self,
        k: usize,
        h: HashAlg,
        seq: &[u8],
        ctype: u8,
        version: u16,
        body: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let m = h.len();
        let hdr = |len: usize| {
            let mut x = seq.to_vec();
            x.push(ctype);
            x.extend_from_slice(&version.to_be_bytes());
            x.extend_from_slice(&(len as u16).to_be_bytes());
            x
        };
        let (enc, tag) = if self.etm {
            if body.len() < 32 + m {
                return Err(DecryptError::Short);
            }
            let (enc, tag) = body.split_at(body.len() - m);
            if !verify_mac(h, self.mac_key(), &[&hdr(enc.len()), enc], tag) {
                return Err(DecryptError::BadTag);
            }
            (enc, None)
        } else {
            (body, Some(()))
        };
        if enc.len() < 32 || enc.len() % 16 != 0 {
            return Err(DecryptError::Short);
        }
        let (iv, ct) = enc.split_at(16);
        let mut buf = ct.to_vec();
        let ok = match k {
            16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(self.key(), iv)
                .map_err(|_| DecryptError::BadTag)?
                .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut buf)
                .is_ok(),
            _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(self.key(), iv)
                .map_err(|_| DecryptError::BadTag)?
                .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut buf)
                .is_ok(),
        };
        if !ok {
            return Err(DecryptError::BadTag);
        }
        let pad = *buf.last().ok_or(DecryptError::Short)? as usize;
        if pad + 1 > buf.len()
            || !buf[buf.len() - pad - 1..]
                .iter()
                .all(|&b| b as usize == pad)
        {
            return Err(DecryptError::BadTag);
        }
        buf.truncate(buf.len() - pad - 1);
        if tag.is_some() {
            if buf.len() < m {
                return Err(DecryptError::BadTag);
            }
            let (pt, mac) = buf.split_at(buf.len() - m);
            if !verify_mac(h, self.mac_key(), &[&hdr(pt.len()), pt], mac) {
                return Err(DecryptError::BadTag);
            }
            let n = pt.len();
            buf.truncate(n);
        }
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls12_prf_matches_a_published_vector() {
        // The P_SHA256 test vector widely used for TLS 1.2 PRF implementations.
        let secret = [
            0x9b, 0xbe, 0x43, 0x6b, 0xa9, 0x40, 0xf0, 0x17, 0xb1, 0x76, 0x52, 0x84, 0x9a, 0x71,
            0xdb, 0x35,
        ];
        let seed = [
            0xa0, 0xba, 0x9f, 0x93, 0x6c, 0xda, 0x31, 0x18, 0x27, 0xa6, 0xf7, 0x96, 0xff, 0xd5,
            0x19, 0x8c,
        ];
        let out = prf12(HashAlg::Sha256, &secret, b"test label", &seed, 16);
        assert_eq!(
            out,
            [
                0xe3, 0xf2, 0x29, 0xba, 0x72, 0x7b, 0xe1, 0x7b, 0x8d, 0x12, 0x26, 0x20, 0x55, 0x7c,
                0xd4, 0x53
            ]
        );
    }

    #[test]
    fn tls13_record_round_trip_and_wrong_key() {
        let suite = suite(0x1301).expect("suite");
        let secret = [7u8; 32];
        let mut rx = DirCipher::tls13(suite, &secret).expect("keys");
        // Seal with the same keys through the AEAD directly.
        let key = expand_label(HashAlg::Sha256, &secret, "key", 16).unwrap_or_default();
        let iv = expand_label(HashAlg::Sha256, &secret, "iv", 12).unwrap_or_default();
        let inner = b"REGISTER\x17".to_vec();
        let len = inner.len() + 16;
        let aad = [23u8, 3, 3, (len >> 8) as u8, len as u8];
        // Sealed by another implementation (RustCrypto) than the one that opens it (ring).
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        let ct = aes_gcm::Aes128Gcm::new_from_slice(&key)
            .expect("key")
            .encrypt(
                iv.as_slice().into(),
                Payload {
                    msg: &inner,
                    aad: &aad,
                },
            )
            .expect("seal");
        assert_eq!(rx.open(23, 0x0303, &ct), Ok((23, b"REGISTER".to_vec())));
        let mut wrong = DirCipher::tls13(suite, &[8u8; 32]).expect("keys");
        assert_eq!(wrong.open(23, 0x0303, &ct), Err(DecryptError::BadTag));
    }
}
