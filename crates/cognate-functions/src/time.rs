//! UTC date and time for log stream names and SigV4 dates; the calendar is cognate-crypto's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The wall clock. The host runs real processes and tells them real times (Lambda deadlines,
/// log stream dates, trace ids, request signatures): outside the domain's injected clock.
#[allow(clippy::disallowed_methods)] // the one place the function host reads the wall clock
pub(crate) fn wall_clock() -> SystemTime {
    SystemTime::now()
}

/// A UTC date and time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UtcTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl UtcTime {
    pub fn from_system(t: SystemTime) -> Self {
        let secs = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
        Self::from_unix(secs)
    }

    pub fn from_unix(secs: u64) -> Self {
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        let rem = secs % 86_400;
        let (year, month, day) = cognate_crypto::calendar::civil_from_days(days);
        let narrow = |v: u64| u32::try_from(v).unwrap_or(0);
        Self {
            year,
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
            hour: narrow(rem / 3600),
            minute: narrow(rem / 60 % 60),
            second: narrow(rem % 60),
        }
    }

    /// `YYYYMMDD`
    pub fn date_stamp(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `YYYYMMDDTHHMMSSZ`
    pub fn amz_date(&self) -> String {
        format!(
            "{}T{:02}{:02}{:02}Z",
            self.date_stamp(),
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `YYYY/MM/DD`
    pub fn slashed_date(&self) -> String {
        format!("{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_unix_time() {
        let t = UtcTime::from_unix(1_440_938_160); // 2015-08-30T12:36:00Z
        assert_eq!(t.amz_date(), "20150830T123600Z");
        assert_eq!(t.slashed_date(), "2015/08/30");
        assert_eq!(UtcTime::from_unix(0).amz_date(), "19700101T000000Z");
        assert_eq!(UtcTime::from_unix(951_782_400).date_stamp(), "20000229");
    }
}
