//! Waiting: which way a call waits ([`Direction`]), `poll()` on socket fds together with the
//! wake fds that `close` signals ([`wait_any`]), the registration of a waiter on the
//! library's lazy fds ([`Waiting`]), the loop that retries a non-blocking call until the
//! socket is ready ([`Guard::retry_until_ready`]; a receive may poll first, see `spin`),
//! and the blocking call as a whole ([`Guard::call`], [`Guard::try_now`]): try at once,
//! then wait with the caller's locks let go ([`Unlocked`]). nng's REP and RESPONDENT
//! replies, which may not be sent with `NN_DONTWAIT`, are waited for here too, so that no
//! layer above knows of them.
//!
//! On our hardened libnanomsg the fds polled are the lazy ones (`NN_RCVFD_LAZY`,
//! `NN_SNDFD_LAZY`, patch 0035): the library signals them only while somebody is counted in
//! as their waiter, so a send or receive that does not wait costs no system call. Whoever
//! polls one holds a [`Waiting`] over the poll (counted in before, out after: the library
//! then signals the fd if the socket is ready by the time it is counted in, and whenever it
//! becomes so while it is). The plain `NN_RCVFD`/`NN_SNDFD` that Python code asks for (the
//! `rcvfd`/`sndfd` options, the event loops) stay upstream's: signalled whether anybody
//! waits or not, from the moment they are asked for.

use std::marker::PhantomData;
use std::os::fd::{AsRawFd, RawFd};
use std::os::raw::c_int;
use std::time::Instant;

use super::{spin, Guard};
use crate::ffi;
use crate::nn::error::{check, NnError, NnResult};

/// Which way a blocking call waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Wait until a message can be received (`NN_RCVFD`).
    Recv,
    /// Wait until a message can be sent (`NN_SNDFD`).
    Send,
}

impl Direction {
    pub(super) fn index(self) -> usize {
        match self {
            Direction::Recv => 0,
            Direction::Send => 1,
        }
    }

    /// The option that gives the fd this binding polls: the lazy one where the library has
    /// it (then polled only with a [`Waiting`] held).
    pub(super) fn fd_option(self) -> c_int {
        match (self, LAZY_FDS) {
            (Direction::Recv, true) => ffi::NN_RCVFD_LAZY,
            (Direction::Send, true) => ffi::NN_SNDFD_LAZY,
            (Direction::Recv, false) => ffi::NN_RCVFD,
            (Direction::Send, false) => ffi::NN_SNDFD,
        }
    }

    /// The `nn_poll` event of this direction (`NN_POLLIN`, `NN_POLLOUT`).
    pub fn poll_event(self) -> c_int {
        match self {
            Direction::Recv => c_int::from(ffi::NN_POLLIN),
            Direction::Send => c_int::from(ffi::NN_POLLOUT),
        }
    }

    pub(super) fn timeout_option(self) -> c_int {
        match self {
            Direction::Recv => ffi::NN_RCVTIMEO,
            Direction::Send => ffi::NN_SNDTIMEO,
        }
    }
}

/// True where the library has lazy readiness fds: our hardened libnanomsg (patch 0035). The
/// system libnanomsg and nng's compatibility layer have only the plain fds.
pub const LAZY_FDS: bool = cfg!(nanomsg_hardened);

/// A waiter counted in on a socket's lazy fds (`NN_POLL_ENTER`), for the directions of its
/// events; counted out (`NN_POLL_LEAVE`) when dropped. While it lives, the library signals
/// each of those fds whenever the socket is ready that way. Nothing where the library has
/// no lazy fds. Borrows the guard: the socket number stays the same socket's meanwhile.
#[derive(Debug)]
#[must_use = "the fds are signalled only while the Waiting lives"]
pub struct Waiting<'g> {
    id: c_int,
    /// `NN_POLLIN`/`NN_POLLOUT` bits counted in; 0 for nothing.
    events: c_int,
    guard: PhantomData<&'g ()>,
}

impl Waiting<'_> {
    fn set(id: c_int, option: c_int, events: c_int) -> NnResult<()> {
        // SAFETY: events is live for the call and the length is its size; the guard the
        // Waiting borrows keeps the number this socket's.
        check(unsafe {
            ffi::nn_setsockopt(
                id,
                ffi::NN_SOL_SOCKET,
                option,
                (&events as *const c_int).cast(),
                std::mem::size_of::<c_int>(),
            )
        })
        .map(drop)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.events != 0 {
            // Fails only once the library is gone (nn_term), when no count matters any more.
            let _ = Self::set(self.id, ffi::NN_POLL_LEAVE, self.events);
        }
    }
}

/// What a blocking call needs of its caller: to run the parts that wait (and the calls that
/// may wait inside the C library) with the caller's own locks let go (the Python layer's:
/// the GIL), again after each `EINTR` that the caller does not turn into an error of its own.
pub trait Unlocked {
    /// Runs `f` with the caller's locks let go; on `EINTR`, again, unless the caller ends the
    /// call (then `EINTR`, and the caller knows why).
    fn run<T: Send>(&mut self, f: impl FnMut() -> NnResult<T> + Send) -> NnResult<T>;

    /// Runs `f`, a call's first try (which never waits), on the caller's thread as it is. A
    /// caller whose try copies a large message lets go of its locks for it as `run` does.
    #[inline]
    fn first_try<T: Send>(&mut self, mut f: impl FnMut() -> NnResult<T> + Send) -> NnResult<T> {
        f()
    }
}

impl Guard<'_> {
    /// Runs `op` (a call taking the flags to pass to the C library) with `NN_DONTWAIT`, on the
    /// caller's thread as it is (see [`Unlocked::first_try`]). With `block`, waits while it
    /// fails with `EAGAIN`, up to the socket's own timeout for `dir` (`ETIMEDOUT`), through
    /// `unlocked`. Where the C library cannot take that flag (see
    /// [`Guard::sends_replies_without_dontwait`]), `op` runs without it once the socket is
    /// ready, through `unlocked` too.
    #[inline]
    pub fn call<T: Send>(
        &self,
        dir: Direction,
        block: bool,
        unlocked: &mut impl Unlocked,
        mut op: impl FnMut(c_int) -> NnResult<T> + Send,
    ) -> NnResult<T> {
        let done = if self.sends_replies_without_dontwait(dir) {
            self.wait_for_reply(dir, block, unlocked)?;
            unlocked.run(|| op(0))
        } else {
            match unlocked.first_try(|| op(ffi::NN_DONTWAIT)) {
                Err(e) if block && e.errno() == libc::EAGAIN => {
                    let deadline = self.deadline(dir)?;
                    unlocked.run(|| self.retry_until_ready(dir, deadline, || op(ffi::NN_DONTWAIT)))
                }
                other => other,
            }
        };
        if dir == Direction::Send && done.is_ok() {
            spin::note_send();
        }
        done
    }

    /// One try of `op` that does not wait for the socket ([`Guard::call`] without `block`):
    /// `None` where it would have to (`EAGAIN`), which costs no error.
    #[inline]
    pub fn try_now<T: Send>(
        &self,
        dir: Direction,
        unlocked: &mut impl Unlocked,
        op: impl FnMut(c_int) -> NnResult<T> + Send,
    ) -> NnResult<Option<T>> {
        match self.call(dir, false, unlocked, op) {
            Err(e) if e.errno() == libc::EAGAIN => Ok(None),
            other => other.map(Some),
        }
    }

    /// For a reply that may not be sent with `NN_DONTWAIT` (nng): returns once the socket
    /// can send it, waiting (with `block`) up to the socket's timeout; `EAGAIN` without.
    #[inline(never)]
    fn wait_for_reply(
        &self,
        dir: Direction,
        block: bool,
        unlocked: &mut impl Unlocked,
    ) -> NnResult<()> {
        if self.reply_ready()? {
            return Ok(());
        }
        if !block {
            return Err(NnError::new(libc::EAGAIN));
        }
        let deadline = self.deadline(dir)?;
        unlocked.run(|| {
            self.retry_until_ready(dir, deadline, || match self.reply_ready()? {
                true => Ok(()),
                false => Err(NnError::new(libc::EAGAIN)),
            })
        })
    }

    /// When a wait in `dir` that starts now ends, by the socket's own timeout (`None`: never).
    pub(super) fn deadline(&self, dir: Direction) -> NnResult<Option<Instant>> {
        Ok(self.timeout(dir)?.map(|t| Instant::now() + t))
    }

    /// The eventfd that becomes readable when the socket is closed.
    pub fn wake_fd(&self) -> RawFd {
        self.socket.wake.as_raw_fd()
    }

    /// True once the socket is closed (or detached): a loop that never waits checks it.
    pub fn is_closed(&self) -> bool {
        self.socket.is_closed()
    }

    /// Counts the caller in as a waiter on this socket's fds for `events` (`NN_POLLIN`,
    /// `NN_POLLOUT`), until the [`Waiting`] is dropped; see the module's notes.
    pub fn waiting(&self, events: c_int) -> NnResult<Waiting<'_>> {
        let events = if LAZY_FDS { events } else { 0 };
        if events != 0 {
            Waiting::set(self.id(), ffi::NN_POLL_ENTER, events)?;
        }
        Ok(Waiting {
            id: self.id(),
            events,
            guard: PhantomData,
        })
    }

    /// True where a send must not use `NN_DONTWAIT`: nng's REP and RESPONDENT sockets refuse
    /// a reply sent with it while the previous one is still going out (REP even loses the
    /// request it answers; RESPONDENT refuses every such send). Such a reply is sent without
    /// the flag once [`Guard::reply_ready`] says so, and then goes out without waiting.
    pub(super) fn sends_replies_without_dontwait(&self, dir: Direction) -> bool {
        dir == Direction::Send && self.socket.replies.is_some()
    }

    /// For [`Guard::sends_replies_without_dontwait`] sockets: true when a reply can be sent
    /// without waiting, or when there is nothing to answer (the send then fails at once
    /// with `EFSM`); false while the previous reply to that peer is still going out.
    fn reply_ready(&self) -> NnResult<bool> {
        let replies = self.socket.replies.as_ref();
        if !replies.is_some_and(|r| r.due()) {
            return Ok(true);
        }
        let Some(fd) = self.poll_fd(Direction::Send)? else {
            return Ok(true);
        };
        let _waiting = self.waiting(Direction::Send.poll_event())?;
        // A look at the fd that does not wait (the deadline is now).
        match wait_any(&mut [(fd, 0)], &[], Some(Instant::now())) {
            Err(e) if e.errno() == libc::ETIMEDOUT => Ok(false),
            other => other.map(|ready| ready > 0),
        }
    }

    /// When a wait in `dir` must try `op` again although its fd did not signal (see
    /// [`SurveyClock`](crate::nn::backend::SurveyClock)), if ever.
    pub fn retry_at(&self, dir: Direction) -> Option<Instant> {
        match (&self.socket.survey, dir) {
            (Some(clock), Direction::Recv) => clock.retry_at(),
            _ => None,
        }
    }

    /// Waits on the socket's fd and runs `op` (a call made with `NN_DONTWAIT`, which just
    /// failed with `EAGAIN`) until it does not fail with `EAGAIN`. Ends with `ETIMEDOUT` at
    /// `deadline`, `EBADF` when the socket is closed and `EINTR` when a signal arrives (the
    /// caller checks for it and calls again: nothing is lost).
    pub fn retry_until_ready<T>(
        &self,
        dir: Direction,
        deadline: Option<Instant>,
        mut op: impl FnMut() -> NnResult<T>,
    ) -> NnResult<T> {
        // No fd to wait on: the call can never proceed, and op said so already.
        let fd = self.poll_fd(dir)?.ok_or(NnError::new(libc::EAGAIN))?;
        // A receive first looks at the fd without sleeping, for as long as its socket's
        // recent waits say (`spin`); a send sleeps at once.
        let started = (dir == Direction::Recv).then(Instant::now);
        let poll = started.and_then(|t| self.socket.spin.until(t));
        let mut spin_until = poll.map(|p| p.until);
        let mut slept = false;
        // Counted in once for all the tries: a try that fails leaves the fd unsignalled (or
        // the thief that took the message did), and the next ready moment signals it again.
        let _waiting = self.waiting(dir.poll_event())?;
        let done = loop {
            let retry = self.retry_at(dir);
            let mut until = match (deadline, retry) {
                (Some(d), Some(r)) => Some(d.min(r)),
                (d, r) => d.or(r),
            };
            // While polling, a look that does not wait (the deadline is now).
            let look = spin_until.and_then(|s| {
                let now = Instant::now();
                (now < s && until.is_none_or(|u| now < u)).then_some(now)
            });
            let spinning = look.is_some();
            if spinning {
                until = look;
            } else {
                slept = true;
                spin_until = None; // polled out: sleeps from now on
            }
            match wait_any(&mut [(fd, 0)], &[self.wake_fd()], until) {
                Err(e) if e.errno() == libc::ETIMEDOUT && spinning => {
                    spin::pause();
                    continue;
                }
                Err(e) if e.errno() == libc::ETIMEDOUT && until != deadline => {}
                Err(e) => break Err(e),
                Ok(_) => {}
            }
            match op() {
                Err(e) if e.errno() == libc::EAGAIN => {}
                other => break other,
            }
        };
        match (started, slept) {
            (Some(started), true) => self.socket.spin.learn(started.elapsed()),
            // A probe's poll caught the message (the wait never slept, and did not end in an
            // error: a deadline within the probe, a close, a signal).
            (Some(_), false) if done.is_ok() && poll.is_some_and(|p| p.probe) => {
                self.socket.spin.caught()
            }
            _ => {}
        }
        done
    }
}

/// Polls `fds` (readable) and the wake descriptors until one is ready or the deadline passes.
/// Fills in the revents of `fds`; fails with `EBADF` if a wake fd fired, `ETIMEDOUT` at the
/// deadline, `EINTR` on a signal.
pub fn wait_any(
    fds: &mut [(RawFd, libc::c_short)],
    wakes: &[RawFd],
    deadline: Option<Instant>,
) -> NnResult<usize> {
    const NONE: libc::pollfd = libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    };
    let entry = |&fd: &RawFd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let all = fds.iter().map(|(fd, _)| fd).chain(wakes).map(entry);
    // The common waits (a socket fd and its wake fd) need no heap allocation.
    let mut small = [NONE; 8];
    let mut large = Vec::new();
    let pfds: &mut [libc::pollfd] = if fds.len() + wakes.len() <= small.len() {
        let n = fds.len() + wakes.len();
        for (slot, p) in small.iter_mut().zip(all) {
            *slot = p;
        }
        &mut small[..n]
    } else {
        large.extend(all);
        &mut large
    };
    let timeout = match deadline {
        None => -1,
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            // Round up so a wait never ends before the deadline.
            c_int::try_from(left.as_micros().div_ceil(1000)).unwrap_or(c_int::MAX)
        }
    };
    // SAFETY: pfds is a live array of pfds.len() pollfd structs.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout) };
    if rc < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if errno == libc::EINVAL {
            // poll(2)'s only EINVAL: more entries than RLIMIT_NOFILE.
            return Err(NnError::with_detail(
                libc::EINVAL,
                "more distinct descriptors to wait on (each socket has up to three) than \
                 the process's limit on open files (RLIMIT_NOFILE, `ulimit -n`) allows: \
                 raise the limit, or poll fewer sockets at once",
            ));
        }
        return Err(NnError::new(errno));
    }
    if pfds[fds.len()..].iter().any(|p| p.revents != 0) {
        return Err(NnError::new(libc::EBADF));
    }
    if rc == 0 {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(NnError::new(libc::ETIMEDOUT));
        }
        // Woken early (rounding): let the caller retry.
        return Ok(0);
    }
    for (slot, p) in fds.iter_mut().zip(pfds.iter()) {
        slot.1 = p.revents;
    }
    Ok(rc as usize)
}
