//! `Socket`: the one owner of a libnanomsg socket number, closed in `Drop`.
//!
//! libnanomsg hands a freed socket number to the next `nn_socket` at once, so a stale number
//! would act on somebody else's socket. Every call therefore goes through a [`Guard`]: taking
//! one fails with `EBADF` once the socket is closed, and the real `nn_close` is deferred until
//! the last guard is gone. Blocking calls never block inside libnanomsg: they try with
//! `NN_DONTWAIT` and otherwise `poll()` the socket's `NN_RCVFD`/`NN_SNDFD` together with an
//! eventfd that `close` signals, so a close from another thread wakes them at once.
//!
//! - this file: the `Socket` and its `Guard`, and the socket's life: new, adopt, close,
//!   detach, `Drop`;
//! - `endpoints`: bind, connect, shutdown;
//! - `io`: send and receive (bytes, gathered parts, zero-copy messages, SP headers);
//! - `batch`: many messages sent or received in one call (`send_many`, `recv_many`);
//! - `options`: get/setsockopt with their caches (timeouts, poll fds, name, subscriptions),
//!   statistics;
//! - `wait`: [`Direction`], [`wait_any`], the retry loop of blocking calls, and the blocking
//!   call as a whole ([`Guard::call`]), with the caller's locks let go ([`Unlocked`]);
//! - `spin`: how long a blocking receive polls before it sleeps, adapted to its socket.

mod batch;
mod endpoints;
mod io;
mod options;
mod spin;
mod wait;

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::ffi;
use crate::nn::backend::{self, ReplyState, SurveyClock};
use crate::nn::error::{check, NnError, NnResult};
use crate::nn::library;
use crate::nn::process;
use crate::nn::sync::lock;

pub use batch::BatchWait;
use spin::Spin;
pub use wait::{wait_any, Direction, Unlocked, Waiting};

const CLOSED: u64 = 1 << 63;
const DETACHED: u64 = 1 << 62;
/// `nn_close` has been called (or is being called).
const RELEASED: u64 = 1 << 61;
const USERS: u64 = RELEASED - 1;

/// How [`Socket::end`] leaves the C library's socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Closed: `nn_close` runs, now or when the last guard goes.
    Close,
    /// Detached: the number stays open, for whoever takes it over.
    Detach,
}

impl Ending {
    /// The state bits set together with `CLOSED`.
    fn state_bits(self) -> u64 {
        match self {
            Ending::Close => 0,
            Ending::Detach => DETACHED,
        }
    }
}

/// Which [`Socket`] value owns each open socket number of this process (by its token).
///
/// Two owners of one number would both close it, and the second close could hit a socket
/// that a third party has got the number for since: so `adopt` refuses a number that is in
/// here. An entry is made under the lock together with the `nn_socket` (or the check of
/// `adopt`) that gave the number, and removed by its own owner only (by token): after its
/// `nn_close`, or at `detach`. Between an `nn_close` and that removal the number may already
/// belong to a new socket, whose entry then replaces the old one and stays.
fn owners() -> &'static Mutex<HashMap<c_int, u64>> {
    static OWNERS: OnceLock<Mutex<HashMap<c_int, u64>>> = OnceLock::new();
    OWNERS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A fresh token for a [`Socket`] value (never 0, never reused).
fn next_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Removes `id` from [`owners`] if the entry is still the one of `token`.
fn disown(id: c_int, token: u64) {
    let mut owners = lock(owners());
    if owners.get(&id) == Some(&token) {
        owners.remove(&id);
    }
}

/// An open libnanomsg socket, owned.
#[derive(Debug)]
pub struct Socket {
    id: c_int,
    /// This value's entry in [`owners`].
    token: u64,
    /// True for an `AF_SP_RAW` socket, whose messages carry SP headers.
    raw: bool,
    /// The protocol (`NN_PAIR`, `NN_PUB`, ...), fixed for the socket's life.
    protocol: c_int,
    /// What the socket has been used for ([`Usage`] bits).
    usage: AtomicU32,
    /// CLOSED, DETACHED and RELEASED flags, and the number of guards alive.
    state: AtomicU64,
    /// Signalled (and never reset) by `close`, to wake every waiter; never in a forked
    /// child, which shares it with the parent.
    wake: OwnedFd,
    /// SUB prefixes and how often each is subscribed, where the library cannot be asked to
    /// unsubscribe a prefix it does not hold (see [`backend::TRACKS_SUBSCRIPTIONS`]).
    subscriptions: Mutex<HashMap<Vec<u8>, usize>>,
    /// `NN_RCVFD` / `NN_SNDFD` (by [`Direction`]), looked up once: fixed for the socket's life.
    poll_fds: [OnceLock<Option<RawFd>>; 2],
    /// The endpoints this socket made and has not shut down, as (id, made by bind): nng's
    /// `nn_shutdown` ignores its socket argument and would close any socket's endpoint.
    endpoints: Mutex<HashSet<(c_int, bool)>>,
    /// For a REP or RESPONDENT on nng: whether a request waits for its reply (see
    /// [`Guard::sends_replies_without_dontwait`]).
    replies: Option<ReplyState>,
    /// The end of the survey in flight, for a SURVEYOR on nng (see [`SurveyClock`]).
    survey: Option<SurveyClock>,
    /// The name last set, where the C library cannot be trusted to read it back: nng 1.5
    /// copies a new name over the old without its NUL, so "B" over "71" reads "B1".
    name: Mutex<Option<Vec<u8>>>,
    /// `NN_RCVTIMEO` / `NN_SNDTIMEO` in ms, cached; [`UNKNOWN`] until read, and again after
    /// every set.
    timeouts: [AtomicI32; 2],
    /// How long a blocking receive polls before it sleeps (`spin`).
    spin: Spin,
    /// The socket's `NN_TLS` options where the binding keeps them (nng: see `backend`).
    tls: backend::TlsSettings,
}

/// Facts about a socket's use (which the layer above reads for its messages and warnings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// A bind or connect succeeded.
    Endpoint = 1,
    /// A SUB subscription was made.
    Subscribed = 2,
}

/// A cached timeout not read yet.
const UNKNOWN: i32 = i32::MIN;

/// A socket in use: while one exists the socket number cannot be released.
#[derive(Debug)]
pub struct Guard<'a> {
    socket: &'a Socket,
}

impl Socket {
    /// `nn_socket(domain, protocol)`.
    pub fn new(domain: c_int, protocol: c_int) -> NnResult<Self> {
        Self::check_usable()?;
        let wake = new_wake_fd()?;
        process::mark_started();
        let token = next_token();
        let mut owners = lock(owners());
        // SAFETY: nn_socket takes plain ints and reports failure with -1.
        let id = check(unsafe { ffi::nn_socket(domain, protocol) }).map_err(|e| {
            if e.errno() == libc::EMFILE && socket_limit_reached() {
                NnError::with_detail(libc::EMFILE, library::SOCKET_LIMIT_REACHED)
            } else {
                e
            }
        })?;
        owners.insert(id, token);
        drop(owners);
        let socket = Self::from_parts(id, token, domain, protocol, wake);
        if cfg!(nanomsg_hardened) {
            // Every new socket asks our worker thread to make way for its user on a shared
            // CPU (patch 0087; `worker_yield`, which documents it). Our library always takes
            // it; a failure would only leave the option off.
            let _ = socket
                .acquire()
                .and_then(|g| g.setsockopt_int(ffi::NN_SOL_SOCKET, ffi::NN_WORKER_YIELD, 1));
        }
        Ok(socket)
    }

    /// Takes ownership of an open socket number of this library, such as one that
    /// [`Socket::detach`] gave up. Fails with `EBADF` if `id` is not an open socket, and with
    /// `EINVAL` if it is negative or another `Socket` value of this process owns it.
    pub fn adopt(id: c_int) -> NnResult<Self> {
        Self::check_usable()?;
        if id < 0 {
            return Err(NnError::with_detail(
                libc::EINVAL,
                "a socket number is never negative",
            ));
        }
        let wake = new_wake_fd()?;
        let token = next_token();
        let mut owners = lock(owners());
        if owners.contains_key(&id) {
            return Err(NnError::with_detail(
                libc::EINVAL,
                "another Socket object of this process owns that socket number: detach() it \
                 first, or use that object",
            ));
        }
        let not_open = |e: NnError| match e.errno() {
            libc::EBADF => NnError::with_detail(
                libc::EBADF,
                "not an open socket of this process's nanomsg library",
            ),
            _ => e,
        };
        let domain = unowned_int_option(id, ffi::NN_DOMAIN).map_err(not_open)?;
        let protocol = unowned_int_option(id, ffi::NN_PROTOCOL).map_err(not_open)?;
        owners.insert(id, token);
        drop(owners);
        process::mark_started();
        let socket = Self::from_parts(id, token, domain, protocol, wake);
        // Its past is unknown: take it as used for both.
        socket.note(Usage::Endpoint);
        socket.note(Usage::Subscribed);
        Ok(socket)
    }

    /// Fails where no socket may be made or taken: after `fork()` or `nn_term`.
    fn check_usable() -> NnResult<()> {
        if process::forked() {
            return Err(NnError::forked());
        }
        // libnanomsg refuses new sockets after nn_term; nng's compatibility layer would
        // start afresh, so the binding refuses for both.
        if process::terminated() {
            return Err(NnError::new(ffi::ETERM));
        }
        Ok(())
    }

    fn from_parts(id: c_int, token: u64, domain: c_int, protocol: c_int, wake: OwnedFd) -> Self {
        Self {
            id,
            token,
            raw: domain == ffi::AF_SP_RAW,
            protocol,
            usage: AtomicU32::new(0),
            state: AtomicU64::new(0),
            wake,
            subscriptions: Mutex::new(HashMap::new()),
            endpoints: Mutex::new(HashSet::new()),
            name: Mutex::new(None),
            replies: ReplyState::for_socket(domain, protocol),
            survey: SurveyClock::for_socket(domain, protocol),
            poll_fds: [OnceLock::new(), OnceLock::new()],
            timeouts: [AtomicI32::new(UNKNOWN), AtomicI32::new(UNKNOWN)],
            spin: Spin::default(),
            tls: Default::default(),
        }
    }

    /// True for a raw (`AF_SP_RAW`) socket.
    pub fn is_raw(&self) -> bool {
        self.raw
    }

    /// The protocol (`NN_PAIR`, `NN_PUB`, ...).
    pub fn protocol(&self) -> c_int {
        self.protocol
    }

    /// True once the socket was used for `what`.
    #[inline]
    pub fn used(&self, what: Usage) -> bool {
        self.usage.load(Ordering::Relaxed) & what as u32 != 0
    }

    /// Records that the socket was used for `what` (bits are never cleared).
    pub fn note(&self, what: Usage) {
        self.usage.fetch_or(what as u32, Ordering::Relaxed);
    }

    /// The socket number, without a guard: valid only while the socket is open, and by the
    /// time it is used it may have been closed and handed to another socket.
    pub fn unguarded_id(&self) -> c_int {
        self.id
    }

    /// True once `close` or `detach` ran.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Marks the socket in use; fails with `EBADF` once it is closed.
    pub fn acquire(&self) -> NnResult<Guard<'_>> {
        if process::forked() {
            return Err(NnError::forked());
        }
        // One atomic add, not a load and a compare-exchange: a guard taken on a closed socket
        // is dropped at once, and that drop releases the number if it was the last user.
        let prev = self.state.fetch_add(1, Ordering::SeqCst);
        let guard = Guard { socket: self };
        if prev & CLOSED != 0 {
            drop(guard);
            return Err(NnError::new(libc::EBADF));
        }
        Ok(guard)
    }

    /// Closes the socket; idempotent. Calls in flight on other threads wake with `EBADF`,
    /// and the number goes back to libnanomsg when the last of them has returned.
    pub fn close(&self) -> NnResult<()> {
        self.end(Ending::Close)
    }

    /// Gives up ownership: this value acts closed, the libnanomsg socket stays open and its
    /// number is returned.
    pub fn detach(&self) -> NnResult<c_int> {
        let prev = self.state.load(Ordering::SeqCst);
        if prev & CLOSED != 0 {
            return Err(NnError::new(libc::EBADF));
        }
        self.end(Ending::Detach)?;
        disown(self.id, self.token);
        Ok(self.id)
    }

    /// Marks the socket closed (and detached, for [`Ending::Detach`]) and wakes its waiters;
    /// for [`Ending::Close`], releases the number if no guard holds it (or at once, where
    /// [`backend::CLOSE_AT_ONCE`]). Only the first call does anything.
    fn end(&self, how: Ending) -> NnResult<()> {
        let prev = self
            .state
            .fetch_or(CLOSED | how.state_bits(), Ordering::SeqCst);
        if prev & CLOSED != 0 {
            return Ok(());
        }
        // In a forked child the eventfd is the parent's too: signalling it would end every
        // wait on this socket in the parent (whose socket stays open), so only the parent
        // signals it. A child has no thread waiting on it (it cannot call the library).
        if !process::forked() {
            self.signal_wake();
        }
        if (prev & USERS == 0 || backend::CLOSE_AT_ONCE) && how == Ending::Close {
            return self.release_number();
        }
        Ok(())
    }

    fn signal_wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own eventfd; failure (counter full)
        // still leaves it readable, which is all that matters.
        unsafe { libc::write(self.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// The real `nn_close`, reached exactly once: by whoever leaves the socket last, or by
    /// `close` itself where [`backend::CLOSE_AT_ONCE`].
    fn release_number(&self) -> NnResult<()> {
        if self.state.fetch_or(RELEASED, Ordering::SeqCst) & RELEASED != 0 {
            return Ok(());
        }
        if process::forked() {
            // The child's libnanomsg has no worker threads: calling it would hang.
            return Ok(());
        }
        loop {
            // SAFETY: the number is still ours: CLOSED is set and no guard is alive.
            let rc = unsafe { ffi::nn_close(self.id) };
            match check(rc) {
                Err(e) if e.errno() == libc::EINTR => continue,
                other => {
                    disown(self.id, self.token);
                    return other.map(drop);
                }
            }
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Errors cannot be reported from Drop; the number is released either way.
        let _ = self.close();
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let prev = self.socket.state.fetch_sub(1, Ordering::SeqCst);
        if prev & (CLOSED | DETACHED | USERS) == CLOSED | 1 {
            let _ = self.socket.release_number();
        }
    }
}

/// A fresh eventfd for [`Socket::wake`].
fn new_wake_fd() -> NnResult<OwnedFd> {
    // SAFETY: eventfd has no memory preconditions; it returns -1 on failure.
    let wake = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if wake < 0 {
        return Err(NnError::new(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ));
    }
    // SAFETY: wake is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(wake) })
}

/// Whether the library's own limit on open sockets is what an `EMFILE` of `nn_socket` met,
/// rather than the process's descriptor limit (libnanomsg says `EMFILE` for both). At the
/// limit every number below it is open (libnanomsg hands out the lowest numbers), so the first
/// number that is not open says no: cheap unless the limit is near. (A socket closed by
/// another thread right after the failure can make it say no.)
fn socket_limit_reached() -> bool {
    match library::MAX_SOCKETS {
        Some(limit) => (0..limit).all(|id| unowned_int_option(id, ffi::NN_DOMAIN).is_ok()),
        None => false,
    }
}

/// `nn_getsockopt` of an `NN_SOL_SOCKET` int option of a number no `Socket` owns yet (no
/// guard, no option checks or caches).
fn unowned_int_option(id: c_int, option: c_int) -> NnResult<c_int> {
    let mut value: c_int = 0;
    let mut len = std::mem::size_of::<c_int>();
    // SAFETY: value and len are live and len holds value's size; libnanomsg checks the
    // number itself (EBADF for one that is not an open socket).
    check(unsafe {
        ffi::nn_getsockopt(
            id,
            ffi::NN_SOL_SOCKET,
            option,
            (&mut value as *mut c_int).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

impl Guard<'_> {
    /// The socket number, safe to pass to libnanomsg while this guard lives.
    #[inline]
    pub fn id(&self) -> c_int {
        self.socket.id
    }
}
