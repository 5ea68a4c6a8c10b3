//! The three verdicts, on a run and on each input: vocabulary every layer may name.

use serde::Serialize;

/// What a run, or one input of it, concludes.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A finding of severity error.
    Failure,
    /// Registrations toward CUCM or Expressway-C were seen to succeed, nothing failed, and
    /// nothing was left unjudged.
    Ok,
    /// Nothing failed, but what was needed to say `ok` was not seen: the reasons say what.
    #[default]
    Inconclusive,
}

impl Verdict {
    /// `failure`, `ok` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Failure => "failure",
            Verdict::Ok => "ok",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}
