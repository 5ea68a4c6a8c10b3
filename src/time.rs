//! Capture timestamps. Time is an input: nothing on the analysis path reads the clock.

use serde::{Serialize, Serializer};

/// A capture timestamp in nanoseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

impl Ts {
    /// The time `days` after the epoch, `secs` into that day and `nanos` more, or `None` past
    /// what nanoseconds since the epoch can hold (the years 1678 to 2261): a log line dated
    /// after 2262 is refused, never wrapped to another time.
    pub fn checked_from(days: i64, secs: i64, nanos: i64) -> Option<Ts> {
        days.checked_mul(86_400)?
            .checked_add(secs)?
            .checked_mul(1_000_000_000)?
            .checked_add(nanos)
            .map(Ts)
    }

    /// This time moved back by `ns` nanoseconds (a zone offset), or `None` out of range.
    pub fn checked_sub_ns(self, ns: i64) -> Option<Ts> {
        self.0.checked_sub(ns).map(Ts)
    }

    /// Seconds between two timestamps (may be negative).
    pub fn secs_since(self, earlier: Ts) -> f64 {
        (self.0.saturating_sub(earlier.0)) as f64 / 1e9
    }

    /// RFC 3339 in UTC; microseconds when the value has no finer part, else nanoseconds.
    pub fn rfc3339(self) -> String {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (sod / 3600, (sod / 60) % 60, sod % 60);
        if nanos % 1000 == 0 {
            format!(
                "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:06}Z",
                nanos / 1000
            )
        } else {
            format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{nanos:09}Z")
        }
    }
}

impl schemars::JsonSchema for Ts {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "Capture time, RFC 3339 UTC (microseconds, or nanoseconds when the capture has them)"
        })
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::Ts;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(Ts(0).rfc3339(), "1970-01-01T00:00:00.000000Z");
        // 2024-02-29T12:34:56.789012Z
        assert_eq!(
            Ts(1_709_210_096_789_012_000).rfc3339(),
            "2024-02-29T12:34:56.789012Z"
        );
        assert_eq!(
            Ts(1_000_000_001).rfc3339(),
            "1970-01-01T00:00:01.000000001Z"
        );
        assert_eq!(Ts(-1_000_000_000).rfc3339(), "1969-12-31T23:59:59.000000Z");
    }

    #[test]
    fn times_past_the_range_are_refused_not_wrapped() {
        let day_2262 = 106_751; // 2262-04-11, the last whole day i64 nanoseconds hold
        assert!(Ts::checked_from(day_2262, 0, 0).is_some());
        assert_eq!(Ts::checked_from(day_2262 + 1, 0, 0), None);
        assert_eq!(Ts::checked_from(i64::MAX / 86_400, 0, 0), None);
        assert_eq!(Ts(i64::MIN + 5).checked_sub_ns(10), None);
        assert_eq!(Ts(20).checked_sub_ns(5), Some(Ts(15)));
    }
}
