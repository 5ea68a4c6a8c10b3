//! SIP transactions (requests paired with their responses) and registrations per device.

use std::collections::HashMap;

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

type TxKey = (String, u32, String, String);

fn key(m: &SipMessage) -> Option<TxKey> {
    Some((
        m.call_id.clone()?,
        m.cseq?,
        m.method.clone(),
        m.branch.clone().unwrap_or_default(),
    ))
}

/// Pairs requests and responses and groups REGISTERs by device.
pub fn build(sip: &[SipMessage]) -> (Vec<Transaction>, Vec<Registration>) {
    let mut txs: Vec<Transaction> = Vec::new();
    let mut open: HashMap<TxKey, usize> = HashMap::new();
    for (i, m) in sip.iter().enumerate() {
        let Some(k) = key(m) else { continue };
        if m.is_request() {
            if m.method == "ACK" {
                continue;
            }
            match open.get(&k) {
                Some(&t) => txs[t].retransmissions.push(i),
                None => {
                    open.insert(k, txs.len());
                    txs.push(Transaction {
                        request: i,
                        retransmissions: Vec::new(),
                        responses: Vec::new(),
                    });
                }
            }
        } else if let Some(&t) = open.get(&k) {
            txs[t].responses.push(i);
        }
    }
    let mut regs: Vec<Registration> = Vec::new();
    let mut by_device: HashMap<String, usize> = HashMap::new();
    let mut by_call: HashMap<String, String> = HashMap::new();
    for (t, tx) in txs.iter().enumerate() {
        let req = &sip[tx.request];
        if req.method != "REGISTER" {
            continue;
        }
        let call = req.call_id.clone().unwrap_or_default();
        let device = req
            .device
            .clone()
            .or_else(|| by_call.get(&call).cloned())
            .or_else(|| req.to.clone())
            .unwrap_or_else(|| format!("call-id {call}"));
        by_call.entry(call).or_insert_with(|| device.clone());
        let r = *by_device.entry(device.clone()).or_insert_with(|| {
            regs.push(Registration {
                device,
                transactions: Vec::new(),
            });
            regs.len() - 1
        });
        regs[r].transactions.push(t);
    }
    (txs, regs)
}
