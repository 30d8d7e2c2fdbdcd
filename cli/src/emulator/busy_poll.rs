//! Busy-polling while a lone request is in flight, so the emulator's hop does not cost two
//! extra wake-ups.
//!
//! A request through the emulator crosses processes four times (client → emulator →
//! function → emulator → client) where a server such as `next start` crosses twice. Each
//! crossing wakes a sleeping process, and on a virtual machine waking an idle CPU is the
//! largest cost of a small request (measured here: most of the emulator's time at c=1 went to
//! wake-ups, not to its own work). While one request is in flight, the emulator's thread
//! keeps polling its sockets instead of sleeping for a short window after each event, so the
//! function's answer and the client's next request on a keep-alive connection find it awake.
//! Go's scheduler spins before parking for the same reason.
//!
//! The window is short and only opened by traffic: an idle `nextr dev` sleeps, a slow
//! function is waited for by sleeping once the window has passed, and with two or more
//! requests in flight the thread has work anyway and the CPU is better left to the functions.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long the emulator keeps polling after a request starts or ends: long enough for a small
/// function's round trip through its Runtime API and a client's turnaround to its next
/// request. Chosen by the sweep in bench/RESULTS.md (2 cores, hello route): 100 µs gained
/// nothing, 250 µs and 500 µs gained the same.
pub const DEFAULT_WINDOW: Duration = Duration::from_micros(250);

/// The shared state of the gateway's requests and the polling task.
#[derive(Debug)]
pub struct BusyPoll {
    window: Duration,
    epoch: Instant,
    /// Nanoseconds since `epoch` of the last request start or end.
    last_event: AtomicU64,
    in_flight: AtomicUsize,
    wake: Notify,
    /// Scheduler yields so far (for tests).
    rounds: AtomicU64,
}

/// A request in flight; dropping it (answered, or cancelled) ends it.
#[must_use = "the request counts as in flight until this is dropped"]
pub struct InFlight(Arc<BusyPoll>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

impl BusyPoll {
    /// A poller with this window (zero turns polling off).
    pub fn new(window: Duration) -> Arc<Self> {
        Arc::new(BusyPoll {
            window,
            epoch: Instant::now(),
            last_event: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            wake: Notify::new(),
            rounds: AtomicU64::new(0),
        })
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last_event.store(self.now_ns(), Ordering::Release);
    }

    /// Counts a request in; the first of a quiet period starts the polling task.
    pub fn enter(self: &Arc<Self>) -> InFlight {
        let before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.touch();
        if before == 0 && !self.window.is_zero() {
            self.wake.notify_one();
        }
        InFlight(self.clone())
    }

    /// Whether the task should keep polling now.
    fn polling(&self) -> bool {
        let since = self
            .now_ns()
            .saturating_sub(self.last_event.load(Ordering::Acquire));
        self.in_flight.load(Ordering::Acquire) <= 1 && u128::from(since) < self.window.as_nanos()
    }

    /// The polling task: sleeps until a request starts, then yields to the scheduler (which
    /// then polls the sockets without blocking) until the window after the last event has
    /// passed. Runs until the runtime stops.
    pub async fn run(self: Arc<Self>) {
        if self.window.is_zero() {
            return;
        }
        loop {
            self.wake.notified().await;
            while self.polling() {
                self.rounds.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_only_within_the_window_and_with_one_request_in_flight() {
        let poll = BusyPoll::new(Duration::from_secs(3600));
        let first = poll.enter();
        assert!(poll.polling());
        let second = poll.enter();
        assert!(!poll.polling(), "two requests in flight: no polling");
        drop(second);
        assert!(poll.polling());
        drop(first);
        assert!(
            poll.polling(),
            "the window after the last answer still polls"
        );
        assert_eq!(poll.in_flight.load(Ordering::Acquire), 0);

        let short = BusyPoll::new(Duration::from_nanos(1));
        let _request = short.enter();
        std::thread::sleep(Duration::from_millis(1));
        assert!(!short.polling(), "past the window the task sleeps");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_task_polls_after_a_request_then_sleeps() {
        let poll = BusyPoll::new(Duration::from_millis(20));
        let task = tokio::spawn(poll.clone().run());
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(poll.rounds.load(Ordering::Relaxed), 0, "no request: asleep");
        drop(poll.enter());
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(
            poll.rounds.load(Ordering::Relaxed) > 0,
            "polls after a request"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        let after_window = poll.rounds.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(
            poll.rounds.load(Ordering::Relaxed),
            after_window,
            "asleep again once the window has passed"
        );
        assert!(!task.is_finished());
        task.abort();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_zero_window_never_polls() {
        let poll = BusyPoll::new(Duration::ZERO);
        let _request = poll.enter();
        assert!(!poll.polling());
        // The task returns at once instead of waiting for requests.
        tokio::time::timeout(Duration::from_secs(5), poll.clone().run())
            .await
            .unwrap();
    }
}
