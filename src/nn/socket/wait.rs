//! Waiting: which way a call waits ([`Direction`]), `poll()` on socket fds together with the
//! wake fds that `close` signals ([`wait_any`]), the loop that retries a non-blocking call
//! until the socket is ready ([`Guard::retry_until_ready`]), and the blocking call as a whole
//! ([`Guard::call`], [`Guard::try_now`]): try at once, then wait with the caller's locks let
//! go ([`Unlocked`]). nng's REP and RESPONDENT replies, which may not be sent with
//! `NN_DONTWAIT`, are waited for here too, so that no layer above knows of them.

use std::os::fd::{AsRawFd, RawFd};
use std::os::raw::c_int;
use std::time::Instant;

use super::Guard;
use crate::ffi;
use crate::nn::error::{NnError, NnResult};

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

    pub(super) fn fd_option(self) -> c_int {
        match self {
            Direction::Recv => ffi::NN_RCVFD,
            Direction::Send => ffi::NN_SNDFD,
        }
    }

    pub(super) fn timeout_option(self) -> c_int {
        match self {
            Direction::Recv => ffi::NN_RCVTIMEO,
            Direction::Send => ffi::NN_SNDTIMEO,
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
}

impl Guard<'_> {
    /// Runs `op` (a call taking the flags to pass to the C library) with `NN_DONTWAIT`, on the
    /// caller's thread as it is. With `block`, waits while it fails with `EAGAIN`, up to the
    /// socket's own timeout for `dir` (`ETIMEDOUT`), through `unlocked`. Where the C library
    /// cannot take that flag (see [`Guard::sends_replies_without_dontwait`]), `op` runs
    /// without it once the socket is ready, through `unlocked` too.
    #[inline]
    pub fn call<T: Send>(
        &self,
        dir: Direction,
        block: bool,
        unlocked: &mut impl Unlocked,
        mut op: impl FnMut(c_int) -> NnResult<T> + Send,
    ) -> NnResult<T> {
        if self.sends_replies_without_dontwait(dir) {
            self.wait_for_reply(dir, block, unlocked)?;
            return unlocked.run(|| op(0));
        }
        match op(ffi::NN_DONTWAIT) {
            Err(e) if block && e.errno() == libc::EAGAIN => {}
            other => return other,
        }
        let deadline = self.deadline(dir)?;
        unlocked.run(|| self.retry_until_ready(dir, deadline, || op(ffi::NN_DONTWAIT)))
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
        loop {
            let retry = self.retry_at(dir);
            let until = match (deadline, retry) {
                (Some(d), Some(r)) => Some(d.min(r)),
                (d, r) => d.or(r),
            };
            match wait_any(&mut [(fd, 0)], &[self.wake_fd()], until) {
                Err(e) if e.errno() == libc::ETIMEDOUT && until != deadline => {}
                Err(e) => return Err(e),
                Ok(_) => {}
            }
            match op() {
                Err(e) if e.errno() == libc::EAGAIN => {}
                other => return other,
            }
        }
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
