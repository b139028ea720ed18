//! Polling before sleeping: a blocking receive whose socket's recent waits were short looks
//! at its fd for a few microseconds (`poll(2)` with a timeout of 0, counted in as the fd's
//! waiter, so the library signals it as it would for a sleeper) before it sleeps on it.
//!
//! Where the message a thread waits for comes from the library's worker thread a few tens
//! of microseconds later (a thread that publishes and then reads its own SUBs, a request
//! answered within the process), sleeping costs a wake-up, and on a virtual machine whose
//! idle CPUs halt the worker pays tens of microseconds to wake the sleeper's CPU. Polling
//! for as long as the wait would have lasted saves both. How long adapts to the socket's
//! traffic, as a guest kernel's halt-polling does: after a wait (polling, then sleeping)
//! that ended within the limit, polling for longer would have caught the message, and the
//! budget doubles (from an eighth of the limit, up to the limit); after a longer wait it
//! halves, down to 0, so that a socket whose messages come seldom, or from a peer whose
//! round trip is longer than the limit, soon stops polling. A poll that catches the message
//! leaves the budget as it is. Where waking a sleeper alone takes longer than the limit (an
//! Intel Xeon VM: 33 microseconds for an eventfd hand-off between two CPUs), every wait that
//! slept ends past it however soon its message came, and the budget could never start: so
//! while it is 0, one wait in [`PROBE_EVERY`] polls for the limit (a probe), and a probe that
//! catches its message sets the budget to the limit. A probe that catches nothing costs at
//! most the limit in that many waits. The looks take no lock the worker needs: trying the receive
//! itself would take the socket's, which the worker holds while it delivers, and the
//! thread would sleep on the lock instead.
//!
//! Only a thread that has sent since it last slept in a receive polls: what it waits for is
//! then likely the answer to what it sent, which comes as soon as the worker has carried
//! both. A thread that only receives (a PULL at the end of a stream) sleeps as before: its
//! messages come at the sender's pace, and polling for them would cost its CPU time and
//! save nothing the stream's rate depends on.
//!
//! The limit is 50 microseconds, or `NANOMSG_RS_SPIN_US` (0 to 1,000; 0 turns polling off)
//! from the environment when a receive first learns from a wait; 0 when the process may use
//! one CPU only, where the thread that polls would keep the worker from running.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The environment variable that sets the limit (microseconds).
const SPIN_ENV: &str = "NANOMSG_RS_SPIN_US";
/// The limit without the variable (microseconds).
const DEFAULT_LIMIT_US: u32 = 50;
/// The largest limit the variable may set (microseconds).
const MAX_LIMIT_US: u32 = 1000;
/// How many spin-loop hints between two looks at the fd.
const HINTS_PER_LOOK: u32 = 32;
/// While the budget is 0, one wait in this many (of a thread that has sent) is a probe.
const PROBE_EVERY: u32 = 16;

thread_local! {
    /// This thread has sent a message since it last slept in a receive.
    static SENT: Cell<bool> = const { Cell::new(false) };
}

/// Notes that this thread sent a message (a later receive of the thread may poll).
#[inline]
pub fn note_send() {
    SENT.with(|sent| sent.set(true));
}

/// The limit for this process: `NANOMSG_RS_SPIN_US` if it is a number up to 1,000, else 50;
/// 0 where the process may use one CPU only. Read once.
pub fn limit_us() -> u32 {
    static LIMIT: OnceLock<u32> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
        let asked = std::env::var(SPIN_ENV)
            .ok()
            .map(|v| v.trim().parse::<u32>());
        match (one_cpu, asked) {
            (true, _) => 0,
            (false, Some(Ok(us))) if us <= MAX_LIMIT_US => us,
            _ => DEFAULT_LIMIT_US,
        }
    })
}

/// A pause between two looks at a receive's fd while it polls.
#[inline]
pub fn pause() {
    for _ in 0..HINTS_PER_LOOK {
        std::hint::spin_loop();
    }
}

/// One socket's polling budget for its blocking receives, in microseconds (see the module).
#[derive(Debug, Default)]
pub struct Spin {
    budget_us: AtomicU32,
    /// The waits that could have polled but had no budget since the last probe.
    unprobed: AtomicU32,
}

/// How a receive that starts to wait polls: until when, and whether as a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    /// The receive looks at its fd without sleeping until then.
    pub until: Instant,
    /// The socket had no budget: a poll that catches its message starts it ([`Spin::caught`]).
    pub probe: bool,
}

impl Spin {
    /// How a receive that starts to wait at `started` polls; `None` for not at all (polling
    /// off, this thread has not sent since it last slept in a receive, or no budget and not
    /// the turn of a probe).
    pub fn until(&self, started: Instant) -> Option<Poll> {
        if !SENT.with(Cell::get) {
            return None;
        }
        let budget = self.budget_us.load(Ordering::Relaxed);
        let (us, probe) = if budget > 0 {
            (budget, false)
        } else {
            let limit = limit_us();
            if limit == 0 || self.unprobed.fetch_add(1, Ordering::Relaxed) + 1 < PROBE_EVERY {
                return None;
            }
            self.unprobed.store(0, Ordering::Relaxed);
            (limit, true)
        };
        let until = started + Duration::from_micros(us.into());
        Some(Poll { until, probe })
    }

    /// Learns that a probe caught its message: polling pays, the budget starts at the limit.
    pub fn caught(&self) {
        self.budget_us.store(limit_us(), Ordering::Relaxed);
    }

    /// Learns from a receive's wait that slept (after polling or not), `waited` long in all.
    pub fn learn(&self, waited: Duration) {
        SENT.with(|sent| sent.set(false));
        let limit = limit_us();
        if limit == 0 {
            return;
        }
        let budget = self.budget_us.load(Ordering::Relaxed);
        let next = if waited <= Duration::from_micros(limit.into()) {
            (budget * 2).clamp((limit / 8).max(1), limit)
        } else {
            budget / 2
        };
        self.budget_us.store(next, Ordering::Relaxed);
    }

    /// The budget now, in microseconds (for tests).
    #[cfg(test)]
    fn budget(&self) -> u32 {
        self.budget_us.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_waits_grow_the_budget_to_the_limit_and_long_ones_end_it() {
        let limit = limit_us();
        if limit == 0 {
            return; // one CPU, or polling turned off: nothing adapts
        }
        let spin = Spin::default();
        spin.learn(Duration::from_micros(1));
        assert_eq!(spin.budget(), (limit / 8).max(1));
        for _ in 0..10 {
            spin.learn(Duration::from_micros(1));
        }
        assert_eq!(spin.budget(), limit);
        let long = Duration::from_micros(u64::from(limit) + 1);
        for _ in 0..20 {
            spin.learn(long);
        }
        assert_eq!(spin.budget(), 0);
    }

    #[test]
    fn without_a_budget_one_wait_in_sixteen_probes_and_a_catch_starts_the_budget() {
        let limit = limit_us();
        if limit == 0 {
            return; // one CPU, or polling turned off: no probes
        }
        let spin = Spin::default();
        let now = Instant::now();
        SENT.with(|sent| sent.set(false));
        for _ in 0..2 * PROBE_EVERY {
            assert_eq!(spin.until(now), None); // has not sent: never polls
        }
        note_send();
        for _ in 1..PROBE_EVERY {
            assert_eq!(spin.until(now), None);
        }
        let limit_later = now + Duration::from_micros(limit.into());
        let probe = Poll {
            until: limit_later,
            probe: true,
        };
        assert_eq!(spin.until(now), Some(probe));
        assert_eq!(spin.until(now), None); // the count starts again
        spin.caught();
        assert_eq!(spin.budget(), limit);
        assert_eq!(
            spin.until(now),
            Some(Poll {
                until: limit_later,
                probe: false
            })
        );
    }
}
