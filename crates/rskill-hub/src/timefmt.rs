//! Timestamps in the one format the Hub API uses (`2024-01-31T12:00:00.000Z`), which
//! also sorts chronologically as plain text; `humantime` does the calendar.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, as an API timestamp.
pub fn now() -> String {
    format(SystemTime::now())
}

/// `t` as an API timestamp (UTC, millisecond precision).
pub fn format(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Milliseconds since the Unix epoch, as an API timestamp.
pub fn format_millis(millis: u64) -> String {
    format(UNIX_EPOCH + Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(format_millis(1_706_702_400_000), "2024-01-31T12:00:00.000Z");
        assert_eq!(now().len(), 24);
    }
}
