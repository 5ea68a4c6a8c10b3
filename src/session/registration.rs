//! SIP transactions (requests paired with their responses) and registrations per device.

// Lookups only (never iterated), so a seeded hash keeps the output deterministic.
use foldhash::{HashMap, HashMapExt};

use serde::Serialize;

use crate::sip::SipMessage;

/// A request with the responses that answered it (indices into the capture's SIP messages).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Transaction {
    /// The request (first copy).
    pub request: usize,
    /// Retransmissions of the request (same branch, same CSeq).
    pub retransmissions: Vec<usize>,
    /// Responses in order.
    pub responses: Vec<usize>,
}

impl Transaction {
    /// The final response (>= 200), if any.
    pub fn final_response<'a>(&self, sip: &'a [SipMessage]) -> Option<&'a SipMessage> {
        self.responses
            .iter()
            .map(|&i| &sip[i])
            .find(|m| m.status.unwrap_or(0) >= 200)
    }
}

/// The REGISTER transactions of one device, in order.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Registration {
    /// Device name from Contact, or the To URI when there is none.
    pub device: String,
    /// Indices into the capture's transactions.
    pub transactions: Vec<usize>,
}

/// A transaction as a digest ([`crate::net::key128`]): its top Via branch, Call-ID, CSeq
/// number and method, on one connection (RFC 3261 17.1.3 and 17.2.3: the branch on the
/// connection or UDP 5-tuple it came by; both ends in either order, so that an answer matches
/// its request). The same Call-ID and branch on another connection is another transaction: a
/// client that keeps its registration Call-ID and restarts its branch counter.
pub(crate) type TxKey = (u64, u64);

/// The transaction `m` belongs to (`None` without a Call-ID or CSeq).
pub(crate) fn key(m: &SipMessage) -> Option<TxKey> {
    let (a, b) = if m.src <= m.dst {
        (m.src, m.dst)
    } else {
        (m.dst, m.src)
    };
    Some(crate::net::key128(&(
        m.call_id.as_deref()?,
        m.cseq?,
        m.branch.as_deref().unwrap_or(""),
        m.method.as_str(),
        (m.transport, m.tcp_stream, a, b),
    )))
}

/// How long after a transaction's last message a copy of it is a copy (a retransmission, or
/// the same message logged twice): 64·T1, twice Timer F and Timer J (RFC 3261 17.1.2.2,
/// 17.2.2). Past it, the same key is a new transaction: a client that reuses its Call-ID,
/// CSeq numbers and branches after a restart, hours later, as rotated logs show.
pub(crate) const COPY_WINDOW_NS: i64 = 64 * 500_000_000;

/// Pairs requests and responses and groups REGISTERs by device.
pub fn build(sip: &[SipMessage]) -> (Vec<Transaction>, Vec<Registration>) {
    build_named(sip, &|_| None)
}

/// As [`build`], with the device of a REGISTER request given by `named` (its index in `sip`)
/// when the caller knows it from messages outside `sip`.
pub fn build_named<'n>(
    sip: &[SipMessage],
    named: &dyn Fn(usize) -> Option<&'n str>,
) -> (Vec<Transaction>, Vec<Registration>) {
    let mut txs: Vec<Transaction> = Vec::new();
    // Each open transaction with the time of its last message.
    let mut open: HashMap<TxKey, (usize, crate::time::Ts)> = HashMap::new();
    for (i, m) in sip.iter().enumerate() {
        let Some(k) = key(m) else { continue };
        if m.is_request() {
            if m.method == "ACK" {
                continue;
            }
            match open.get_mut(&k) {
                Some((t, last)) if m.time.0.saturating_sub(last.0) <= COPY_WINDOW_NS => {
                    txs[*t].retransmissions.push(i);
                    *last = (*last).max(m.time);
                }
                _ => {
                    open.insert(k, (txs.len(), m.time));
                    txs.push(Transaction {
                        request: i,
                        retransmissions: Vec::new(),
                        responses: Vec::new(),
                    });
                }
            }
        } else if let Some((t, last)) = open.get_mut(&k) {
            txs[*t].responses.push(i);
            *last = (*last).max(m.time);
        }
    }
    let mut regs: Vec<Registration> = Vec::new();
    let mut by_device: HashMap<String, usize> = HashMap::new();
    let mut by_call: HashMap<&str, usize> = HashMap::new();
    // The registration of `device`, made on first sight.
    let mut of_device = |device: &str, regs: &mut Vec<Registration>| match by_device.get(device) {
        Some(&r) => r,
        None => {
            regs.push(Registration {
                device: device.to_string(),
                transactions: Vec::new(),
            });
            by_device.insert(device.to_string(), regs.len() - 1);
            regs.len() - 1
        }
    };
    for (t, tx) in txs.iter().enumerate() {
        let req = &sip[tx.request];
        if req.method != "REGISTER" {
            continue;
        }
        let call = req.call_id.as_deref().unwrap_or("");
        let r = match named(tx.request).or(req.device.as_deref()) {
            Some(device) => of_device(device, &mut regs),
            None => match by_call.get(call) {
                Some(&r) => r,
                None => match &req.to {
                    Some(to) => of_device(to, &mut regs),
                    None => of_device(&format!("call-id {call}"), &mut regs),
                },
            },
        };
        by_call.entry(call).or_insert(r);
        regs[r].transactions.push(t);
    }
    (txs, regs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Ts;

    fn msg(frame: u64, text: &str) -> SipMessage {
        crate::session::test_sip(frame, Ts(frame as i64), text)
    }

    fn register(
        frame: u64,
        call: &str,
        cseq: u32,
        branch: &str,
        device: Option<&str>,
    ) -> SipMessage {
        let contact = device.map_or(String::new(), |d| {
            format!("Contact: <sip:x@10.0.0.1:5090>;+u.sip!devicename.ccm.cisco.com=\"{d}\"\r\n")
        });
        msg(
            frame,
            &format!(
                "REGISTER sip:cucm SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1:5090;branch={branch}\r\n\
To: <sip:1001@cucm>\r\nCall-ID: {call}\r\nCSeq: {cseq} REGISTER\r\n{contact}Content-Length: 0\r\n\r\n"
            ),
        )
    }

    fn response(frame: u64, status: u16, call: &str, cseq: u32, branch: &str) -> SipMessage {
        msg(
            frame,
            &format!(
                "SIP/2.0 {status} X\r\nVia: SIP/2.0/TLS 10.0.0.1:5090;branch={branch}\r\n\
Call-ID: {call}\r\nCSeq: {cseq} REGISTER\r\nContent-Length: 0\r\n\r\n"
            ),
        )
    }

    #[test]
    fn pairs_responses_and_retransmissions_by_call_cseq_and_branch() {
        let sip = vec![
            register(1, "a", 1, "z9hG4bK1", Some("CSFa")),
            register(2, "a", 1, "z9hG4bK1", Some("CSFa")), // retransmission
            response(3, 100, "a", 1, "z9hG4bK1"),
            response(4, 401, "a", 1, "z9hG4bK1"),
            register(5, "a", 2, "z9hG4bK2", Some("CSFa")),
            response(6, 200, "a", 2, "z9hG4bK2"),
            response(7, 200, "zzz", 9, "z9hG4bK9"), // answers nothing seen
        ];
        let (txs, regs) = build(&sip);
        assert_eq!(txs.len(), 2);
        assert_eq!(txs[0].retransmissions, vec![1]);
        assert_eq!(txs[0].responses, vec![2, 3]);
        assert_eq!(
            txs[0].final_response(&sip).and_then(|m| m.status),
            Some(401)
        );
        assert_eq!(txs[1].final_response(&sip).map(|m| m.at.number()), Some(6));
        assert_eq!(regs.len(), 1);
        assert_eq!(regs[0].device, "CSFa");
        assert_eq!(regs[0].transactions, vec![0, 1]);
    }

    #[test]
    fn a_register_without_device_name_joins_its_call_id_device() {
        let sip = vec![
            register(1, "a", 1, "b1", Some("CSFa")),
            register(2, "a", 2, "b2", None),
            register(3, "b", 1, "b3", Some("CSFb")),
            register(4, "c", 1, "b4", None),
        ];
        let (_, regs) = build(&sip);
        let got: Vec<(&str, &[usize])> = regs
            .iter()
            .map(|r| (r.device.as_str(), r.transactions.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("CSFa", &[0, 1][..]),
                ("CSFb", &[2][..]),
                ("sip:1001@cucm", &[3][..])
            ]
        );
    }
}
