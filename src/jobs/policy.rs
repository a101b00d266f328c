//! What happens after an attempt ends, in one place: every ending a runner
//! meets maps to [`Next`] through [`next_step`], a pure function of the
//! ending, the attempts made and allowed, and the retry settings.
//!
//! The rules: a file that cannot be processed fails at once (running again
//! will not help); a failure that may pass (storage, the database) is
//! retried after a backoff while attempts are left, and fails with its own
//! reason on the last; an attempt interrupted by a shutdown is handed back
//! without counting. A worker that dies mid-attempt cannot decide anything:
//! its lease runs out, and the claim that takes the job over counts it (or
//! `fail_exhausted_jobs` fails the job on its last attempt). No path
//! attempts a job more than `max_attempts` times: the claim requires
//! attempts left, and this policy retries only while some are.

use std::time::Duration;

/// Stable codes of a job's failures (`JobError.code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    UnreadableFile,
    UploadMissing,
    UploadChanged,
    Storage,
    Database,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnreadableFile => "UNREADABLE_FILE",
            Self::UploadMissing => "UPLOAD_MISSING",
            Self::UploadChanged => "UPLOAD_CHANGED",
            Self::Storage => "STORAGE",
            Self::Database => "DATABASE",
            Self::Internal => "INTERNAL",
        }
    }

    /// Whether another attempt may succeed where this one failed.
    fn may_pass(self) -> bool {
        matches!(self, Self::Storage | Self::Database)
    }
}

/// How an attempt ended, as far as the policy cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Succeeded,
    Failed(ErrorCode),
    /// The instance is shutting down and the attempt did not end in time.
    Interrupted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Succeed,
    Fail(ErrorCode),
    /// Back to PENDING, claimable again after this long; the attempt counts.
    RetryAfter(Duration),
    /// Back to PENDING at once; the attempt does not count.
    Release,
}

/// No attempt waits longer than this after the previous one.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// What follows an attempt that ended so, being attempt `attempts` of
/// `max_attempts`; `base` is the first retry's delay and `jitter` a number
/// in 0..1.
pub fn next_step(ending: Ending, attempts: i32, max_attempts: i32, base: Duration, jitter: f64) -> Next {
    match ending {
        Ending::Succeeded => Next::Succeed,
        Ending::Interrupted => Next::Release,
        Ending::Failed(code) if code.may_pass() && attempts < max_attempts => {
            Next::RetryAfter(retry_delay(base, attempts, jitter))
        }
        Ending::Failed(code) => Next::Fail(code),
    }
}

/// How long a job waits after its `attempts`-th attempt failed: `base`,
/// doubled for each earlier failure, stretched by up to half by `jitter`
/// (0..1) so jobs that failed together (one outage) do not all come back
/// at the same moment.
pub fn retry_delay(base: Duration, attempts: i32, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let delay = base.saturating_mul(1 << doublings).min(MAX_RETRY_DELAY);
    delay.mul_f64(1.0 + 0.5 * jitter.clamp(0.0, 1.0)).min(MAX_RETRY_DELAY)
}

/// A number in 0..1 that differs per call; std's randomly keyed hasher is
/// random enough to spread retries.
pub fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let bits = std::collections::hash_map::RandomState::new().build_hasher().finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(15);

    #[test]
    fn transient_failures_retry_until_the_last_attempt() {
        for code in [ErrorCode::Storage, ErrorCode::Database] {
            assert_eq!(next_step(Ending::Failed(code), 1, 3, BASE, 0.0), Next::RetryAfter(BASE));
            assert_eq!(next_step(Ending::Failed(code), 2, 3, BASE, 0.0), Next::RetryAfter(BASE * 2));
            assert_eq!(next_step(Ending::Failed(code), 3, 3, BASE, 0.0), Next::Fail(code));
            // Attempts past the maximum (a row from before the fix) never retry again.
            assert_eq!(next_step(Ending::Failed(code), 7, 3, BASE, 0.0), Next::Fail(code));
        }
    }

    #[test]
    fn lasting_failures_fail_at_once() {
        for code in [ErrorCode::UnreadableFile, ErrorCode::UploadMissing, ErrorCode::UploadChanged, ErrorCode::Internal]
        {
            assert_eq!(next_step(Ending::Failed(code), 1, 3, BASE, 0.0), Next::Fail(code));
        }
    }

    #[test]
    fn interrupted_attempts_are_released_and_successes_succeed() {
        assert_eq!(next_step(Ending::Interrupted, 3, 3, BASE, 0.0), Next::Release);
        assert_eq!(next_step(Ending::Succeeded, 3, 3, BASE, 0.0), Next::Succeed);
    }

    #[test]
    fn retries_back_off_exponentially() {
        assert_eq!(retry_delay(BASE, 1, 0.0), BASE);
        assert_eq!(retry_delay(BASE, 2, 0.0), BASE * 2);
        assert_eq!(retry_delay(BASE, 3, 0.0), BASE * 4);
        assert_eq!(retry_delay(BASE, 1, 1.0), BASE.mul_f64(1.5));
        assert_eq!(retry_delay(BASE, 40, 0.0), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(BASE, 40, 1.0), MAX_RETRY_DELAY);
    }

    /// With the default settings, the last attempt comes after a
    /// 30-second outage has ended, whatever the jitter.
    #[test]
    fn defaults_outlast_a_30_second_outage() {
        let config = crate::config::Config::from_args(Vec::<String>::new()).unwrap();
        let waited: Duration = (1..config.job_max_attempts as i32)
            .map(|attempt| retry_delay(config.job_retry_delay(), attempt, 0.0))
            .sum();
        assert!(waited > Duration::from_secs(30), "{waited:?}");
    }

    #[test]
    fn jitter_spreads() {
        let values: Vec<f64> = (0..100).map(|_| jitter()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(values.iter().any(|v| *v < 0.5) && values.iter().any(|v| *v >= 0.5));
    }
}
