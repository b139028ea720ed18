//! `Socket`: the one owner of a libnanomsg socket number, closed in `Drop`.
//!
//! libnanomsg hands a freed socket number to the next `nn_socket` at once, so a stale number
//! would act on somebody else's socket. Every call therefore goes through a [`Guard`]: taking
//! one fails with `EBADF` once the socket is closed, and the real `nn_close` is deferred until
//! the last guard is gone. Blocking calls never block inside libnanomsg: they try with
//! `NN_DONTWAIT` and otherwise `poll()` the socket's `NN_RCVFD`/`NN_SNDFD` together with an
//! eventfd that `close` signals, so a close from another thread wakes them at once.

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::raw::{c_int, c_void};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::ffi;
use crate::nn::compat;
use crate::nn::compat::survey::SurveyClock;
use crate::nn::error::{check, NnError, NnResult};
use crate::nn::message::NnMsg;

const CLOSED: u64 = 1 << 63;
const DETACHED: u64 = 1 << 62;
/// `nn_close` has been called (or is being called).
const RELEASED: u64 = 1 << 61;
const USERS: u64 = RELEASED - 1;

/// nng never hands a closed socket's number out again (its ids only grow), and a call that
/// waits inside nng (a reply sent without `NN_DONTWAIT`, see
/// [`Guard::sends_replies_without_dontwait`], should it wait after all) ends only when the
/// socket closes: there `close` calls `nn_close` at once, not after the last call in flight.
const CLOSE_AT_ONCE: bool = cfg!(feature = "nng");

/// Set in the child after `fork()` of a process that had started libnanomsg: its worker
/// threads did not survive the fork.
static FORKED: AtomicBool = AtomicBool::new(false);
/// Set once this process has created a socket (and so started libnanomsg's threads).
static STARTED: AtomicBool = AtomicBool::new(false);

extern "C" fn mark_forked() {
    if STARTED.load(Ordering::SeqCst) {
        FORKED.store(true, Ordering::SeqCst);
    }
}

/// Registers the `fork()` child handler once per process.
pub fn install_fork_guard() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic; async-signal-safe.
        unsafe { libc::pthread_atfork(None, None, Some(mark_forked)) };
    });
}

/// True in a child process forked after this module was loaded.
pub fn forked() -> bool {
    FORKED.load(Ordering::Relaxed)
}

/// Which way a blocking call waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Wait until a message can be received (`NN_RCVFD`).
    Recv,
    /// Wait until a message can be sent (`NN_SNDFD`).
    Send,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Direction::Recv => 0,
            Direction::Send => 1,
        }
    }

    fn fd_option(self) -> c_int {
        match self {
            Direction::Recv => ffi::NN_RCVFD,
            Direction::Send => ffi::NN_SNDFD,
        }
    }

    fn timeout_option(self) -> c_int {
        match self {
            Direction::Recv => ffi::NN_RCVTIMEO,
            Direction::Send => ffi::NN_SNDTIMEO,
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
    let mut owners = crate::lock(owners());
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
    /// CLOSED, DETACHED and RELEASED flags, and the number of guards alive.
    state: AtomicU64,
    /// Signalled (and never reset) by `close`, to wake every waiter.
    wake: OwnedFd,
    /// SUB prefixes and how often each is subscribed, where the library cannot be asked to
    /// unsubscribe a prefix it does not hold (see [`compat::TRACKS_SUBSCRIPTIONS`]).
    subscriptions: Mutex<HashMap<Vec<u8>, usize>>,
    /// `NN_RCVFD` / `NN_SNDFD` (by [`Direction`]), looked up once: fixed for the socket's life.
    poll_fds: [OnceLock<Option<RawFd>>; 2],
    /// The ids of the endpoints this socket made (bind/connect) and has not shut down: nng's
    /// `nn_shutdown` ignores its socket argument and would close any socket's endpoint.
    endpoints: Mutex<HashSet<c_int>>,
    /// For a REP or RESPONDENT on nng: true while a request waits for its reply (see
    /// [`Guard::sends_replies_without_dontwait`]).
    reply_due: Option<AtomicBool>,
    /// The end of the survey in flight, for a SURVEYOR on nng (see `survey.rs`).
    survey: Option<SurveyClock>,
    /// The name last set, where the C library cannot be trusted to read it back: nng 1.5
    /// copies a new name over the old without its NUL, so "B" over "71" reads "B1".
    name: Mutex<Option<Vec<u8>>>,
    /// `NN_RCVTIMEO` / `NN_SNDTIMEO` in ms, cached; [`UNKNOWN`] until read, and again after
    /// every set.
    timeouts: [AtomicI32; 2],
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
        STARTED.store(true, Ordering::SeqCst);
        let token = next_token();
        let mut owners = crate::lock(owners());
        // SAFETY: nn_socket takes plain ints and reports failure with -1.
        let id = check(unsafe { ffi::nn_socket(domain, protocol) })?;
        owners.insert(id, token);
        drop(owners);
        Ok(Self::from_parts(id, token, domain, protocol, wake))
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
        let mut owners = crate::lock(owners());
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
        let domain = raw_int_option(id, ffi::NN_DOMAIN).map_err(not_open)?;
        let protocol = raw_int_option(id, ffi::NN_PROTOCOL).map_err(not_open)?;
        owners.insert(id, token);
        drop(owners);
        STARTED.store(true, Ordering::SeqCst);
        Ok(Self::from_parts(id, token, domain, protocol, wake))
    }

    /// Fails where no socket may be made or taken: after `fork()` or `nn_term`.
    fn check_usable() -> NnResult<()> {
        if forked() {
            return Err(NnError::forked());
        }
        // libnanomsg refuses new sockets after nn_term; nng's compatibility layer would
        // start afresh, so the binding refuses for both.
        if crate::nn::error::terminated() {
            return Err(NnError::new(ffi::ETERM));
        }
        Ok(())
    }

    fn from_parts(id: c_int, token: u64, domain: c_int, protocol: c_int, wake: OwnedFd) -> Self {
        Self {
            id,
            token,
            raw: domain == ffi::AF_SP_RAW,
            state: AtomicU64::new(0),
            wake,
            subscriptions: Mutex::new(HashMap::new()),
            endpoints: Mutex::new(HashSet::new()),
            name: Mutex::new(None),
            reply_due: (cfg!(feature = "nng")
                && domain == ffi::AF_SP
                && (protocol == ffi::NN_REP || protocol == ffi::NN_RESPONDENT))
                .then(|| AtomicBool::new(false)),
            survey: (cfg!(feature = "nng") && domain == ffi::AF_SP && protocol == ffi::NN_SURVEYOR)
                .then(SurveyClock::default),
            poll_fds: [OnceLock::new(), OnceLock::new()],
            timeouts: [AtomicI32::new(UNKNOWN), AtomicI32::new(UNKNOWN)],
        }
    }

    /// True for a raw (`AF_SP_RAW`) socket.
    pub fn is_raw(&self) -> bool {
        self.raw
    }

    /// The socket number (valid only while the socket is open).
    pub fn raw_id(&self) -> c_int {
        self.id
    }

    /// True once `close` or `detach` ran.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Marks the socket in use; fails with `EBADF` once it is closed.
    pub fn acquire(&self) -> NnResult<Guard<'_>> {
        if forked() {
            return Err(NnError::forked());
        }
        let mut cur = self.state.load(Ordering::SeqCst);
        loop {
            if cur & CLOSED != 0 {
                return Err(NnError::new(libc::EBADF));
            }
            match self
                .state
                .compare_exchange_weak(cur, cur + 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Ok(Guard { socket: self }),
                Err(now) => cur = now,
            }
        }
    }

    /// Closes the socket; idempotent. Calls in flight on other threads wake with `EBADF`,
    /// and the number goes back to libnanomsg when the last of them has returned.
    pub fn close(&self) -> NnResult<()> {
        self.shut(0)
    }

    /// Gives up ownership: this value acts closed, the libnanomsg socket stays open and its
    /// number is returned.
    pub fn detach(&self) -> NnResult<c_int> {
        let prev = self.state.load(Ordering::SeqCst);
        if prev & CLOSED != 0 {
            return Err(NnError::new(libc::EBADF));
        }
        self.shut(DETACHED)?;
        disown(self.id, self.token);
        Ok(self.id)
    }

    fn shut(&self, extra: u64) -> NnResult<()> {
        let prev = self.state.fetch_or(CLOSED | extra, Ordering::SeqCst);
        if prev & CLOSED != 0 {
            return Ok(());
        }
        self.signal_wake();
        if (prev & USERS == 0 || CLOSE_AT_ONCE) && extra & DETACHED == 0 {
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
    /// `close` itself where [`CLOSE_AT_ONCE`].
    fn release_number(&self) -> NnResult<()> {
        if self.state.fetch_or(RELEASED, Ordering::SeqCst) & RELEASED != 0 {
            return Ok(());
        }
        if forked() {
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

/// `nn_getsockopt` of an `NN_SOL_SOCKET` int option of a number no `Socket` owns yet.
fn raw_int_option(id: c_int, option: c_int) -> NnResult<c_int> {
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

/// Converts "-1 and errno" of a size-returning call into a result.
fn check_len(rc: c_int) -> NnResult<usize> {
    check(rc).map(|n| n as usize)
}

impl Guard<'_> {
    /// The socket number, safe to pass to libnanomsg while this guard lives.
    pub fn id(&self) -> c_int {
        self.socket.id
    }

    fn endpoints(&self) -> std::sync::MutexGuard<'_, HashSet<c_int>> {
        crate::lock(&self.socket.endpoints)
    }

    /// `nn_bind`; returns the endpoint id.
    pub fn bind(&self, addr: &CStr) -> NnResult<c_int> {
        // SAFETY: addr is NUL-terminated and outlives the call; the number is held by self.
        let ep = check(unsafe { ffi::nn_bind(self.id(), addr.as_ptr()) })
            .map_err(compat::endpoint_error)?;
        self.endpoints().insert(ep);
        Ok(ep)
    }

    /// `nn_connect`; returns the endpoint id.
    pub fn connect(&self, addr: &CStr) -> NnResult<c_int> {
        // SAFETY: as in bind.
        let ep = check(unsafe { ffi::nn_connect(self.id(), addr.as_ptr()) })
            .map_err(compat::endpoint_error)?;
        self.endpoints().insert(ep);
        Ok(ep)
    }

    /// `nn_shutdown` of one of this socket's endpoints (`EINVAL` for any other id).
    pub fn shutdown(&self, endpoint: c_int) -> NnResult<()> {
        if !self.endpoints().contains(&endpoint) {
            return Err(NnError::new(libc::EINVAL));
        }
        loop {
            // SAFETY: plain ints; the number is held by self.
            match check(unsafe { ffi::nn_shutdown(self.id(), endpoint) }) {
                Err(e) if e.errno() == libc::EINTR => continue,
                other => {
                    if other.is_ok() {
                        self.endpoints().remove(&endpoint);
                    }
                    return other.map(drop);
                }
            }
        }
    }

    /// `nn_send` of a copy of `data`.
    pub fn send(&self, data: &[u8], flags: c_int) -> NnResult<usize> {
        // SAFETY: data is valid for data.len() bytes during the call; libnanomsg copies it.
        self.sent_len(unsafe { ffi::nn_send(self.id(), data.as_ptr().cast(), data.len(), flags) })
    }

    /// `nn_sendmsg` of several buffers gathered into one message (copied by libnanomsg).
    pub fn send_parts(&self, parts: &[&[u8]], flags: c_int) -> NnResult<usize> {
        let mut iov: Vec<ffi::nn_iovec> = parts
            .iter()
            .map(|p| ffi::nn_iovec {
                iov_base: p.as_ptr() as *mut c_void,
                iov_len: p.len(),
            })
            .collect();
        let hdr = ffi::nn_msghdr {
            msg_iov: iov.as_mut_ptr(),
            msg_iovlen: c_int::try_from(iov.len()).map_err(|_| NnError::new(libc::EINVAL))?,
            msg_control: std::ptr::null_mut(),
            msg_controllen: 0,
        };
        // SAFETY: every iovec points at a live slice of its length; libnanomsg only reads
        // them (copying into a new message) during the call.
        self.sent_len(unsafe { ffi::nn_sendmsg(self.id(), &hdr, flags) })
    }

    /// `nn_send` with `NN_MSG`: hands `msg` over to libnanomsg; on failure it comes back.
    pub fn send_msg(&self, msg: NnMsg, flags: c_int) -> Result<usize, (NnError, NnMsg)> {
        if msg.is_empty() || msg.carries_header() {
            // nng sizes an NN_MSG send by its buffer, which is never empty there, and would
            // send a received buffer's hidden header along: copy those.
            return self.send(msg.as_slice(), flags).map_err(|e| (e, msg));
        }
        let mut ptr = msg.as_ptr();
        // SAFETY: &mut ptr points at a libnanomsg buffer; with NN_MSG the library takes it
        // only when the call succeeds.
        let rc = unsafe {
            ffi::nn_send(
                self.id(),
                (&mut ptr as *mut *mut c_void).cast(),
                ffi::NN_MSG,
                flags,
            )
        };
        match self.sent_len(rc) {
            Ok(n) => {
                let _ = msg.into_raw();
                Ok(n)
            }
            Err(e) => Err((e, msg)),
        }
    }

    /// `nn_recv` with `NN_MSG`: the whole message, in libnanomsg's own buffer.
    pub fn recv_msg(&self, flags: c_int) -> NnResult<NnMsg> {
        let mut ptr: *mut c_void = std::ptr::null_mut();
        // SAFETY: with NN_MSG, libnanomsg stores a fresh buffer's address into ptr.
        let rc = unsafe {
            ffi::nn_recv(
                self.id(),
                (&mut ptr as *mut *mut c_void).cast(),
                ffi::NN_MSG,
                flags,
            )
        };
        let len = self.received_len(rc)?;
        let ptr = NonNull::new(ptr).ok_or(NnError::new(libc::EFAULT))?;
        // SAFETY: the buffer came from libnanomsg, holds len bytes, and is ours alone.
        Ok(unsafe { NnMsg::from_raw(ptr, len) })
    }

    /// `nn_recv` into `buf`; returns the message's full length (bytes past `buf` are dropped).
    pub fn recv_into(&self, buf: &mut [u8], flags: c_int) -> NnResult<usize> {
        // SAFETY: buf is writable for buf.len() bytes during the call.
        self.received_len(unsafe {
            ffi::nn_recv(self.id(), buf.as_mut_ptr().cast(), buf.len(), flags)
        })
    }

    /// `nn_recvmsg` with `NN_MSG` body and control: the message and its SP header, if any.
    pub fn recv_with_header(&self, flags: c_int) -> NnResult<(NnMsg, Option<Vec<u8>>)> {
        let mut body: *mut c_void = std::ptr::null_mut();
        let mut control: *mut c_void = std::ptr::null_mut();
        let mut iov = ffi::nn_iovec {
            iov_base: (&mut body as *mut *mut c_void).cast(),
            iov_len: ffi::NN_MSG,
        };
        let mut hdr = ffi::nn_msghdr {
            msg_iov: &mut iov,
            msg_iovlen: 1,
            msg_control: (&mut control as *mut *mut c_void).cast(),
            msg_controllen: ffi::NN_MSG,
        };
        // SAFETY: hdr, iov, body and control live across the call; with NN_MSG libnanomsg
        // stores freshly allocated buffers into body and control.
        let len = self.received_len(unsafe { ffi::nn_recvmsg(self.id(), &mut hdr, flags) })?;
        let body = NonNull::new(body).ok_or(NnError::new(libc::EFAULT))?;
        // SAFETY: body came from libnanomsg with len bytes and is ours alone.
        let body = unsafe { NnMsg::from_raw(body, len) };
        let header = NonNull::new(control).map(|c| {
            // SAFETY: nn_recvmsg set msg_controllen to the control buffer's size.
            let control = unsafe { NnMsg::from_raw(c, hdr.msg_controllen) };
            sp_header(control.as_slice())
        });
        Ok((body, header.flatten()))
    }

    /// `nn_sendmsg` of `body` (zero-copy) with `header` as the SP header control data.
    pub fn send_with_header(
        &self,
        body: NnMsg,
        header: Option<&[u8]>,
        flags: c_int,
    ) -> Result<usize, (NnError, NnMsg)> {
        let mut control = Vec::new();
        if let Some(h) = header {
            // The SP header travels as a size_t length followed by its bytes.
            let mut data = h.len().to_ne_bytes().to_vec();
            data.extend_from_slice(h);
            control.resize(ffi::nn_cmsg_space(data.len()), 0);
            let cmsg = ffi::nn_cmsghdr {
                cmsg_len: ffi::nn_cmsg_len(data.len()),
                cmsg_level: ffi::PROTO_SP,
                cmsg_type: ffi::SP_HDR,
            };
            let at = ffi::nn_cmsg_align(std::mem::size_of::<ffi::nn_cmsghdr>());
            // SAFETY: control is at least size_of::<nn_cmsghdr>() bytes; unaligned write.
            unsafe { std::ptr::write_unaligned(control.as_mut_ptr().cast(), cmsg) };
            control[at..at + data.len()].copy_from_slice(&data);
        }
        let mut ptr = body.as_ptr();
        // Sent by copy: an empty body (nng sizes NN_MSG by its buffer), a buffer that holds a
        // received header (see `NnMsg::carries_header`), and on nng any body with a header,
        // as nng adds the header to the message itself and keeps it there when the send
        // fails, so a retry would carry it twice.
        let copy =
            body.is_empty() || body.carries_header() || (cfg!(feature = "nng") && header.is_some());
        let mut iov = if copy {
            ffi::nn_iovec {
                iov_base: ptr,
                iov_len: body.len(),
            }
        } else {
            ffi::nn_iovec {
                iov_base: (&mut ptr as *mut *mut c_void).cast(),
                iov_len: ffi::NN_MSG,
            }
        };
        let hdr = ffi::nn_msghdr {
            msg_iov: &mut iov,
            msg_iovlen: 1,
            msg_control: if control.is_empty() {
                std::ptr::null_mut()
            } else {
                control.as_mut_ptr().cast()
            },
            msg_controllen: control.len(),
        };
        // SAFETY: hdr, iov, ptr, body and control live across the call; libnanomsg takes the
        // body buffer (unless copied) only when the call succeeds and copies the control data.
        match self.sent_len(unsafe { ffi::nn_sendmsg(self.id(), &hdr, flags) }) {
            Ok(n) => {
                if !copy {
                    // Taken by the library.
                    let _ = body.into_raw();
                }
                Ok(n)
            }
            Err(e) => Err((e, body)),
        }
    }

    /// `nn_getsockopt` of an int option.
    pub fn getsockopt_int(&self, level: c_int, option: c_int) -> NnResult<c_int> {
        compat::check_option(level, option)?;
        let mut value: c_int = 0;
        let mut len = std::mem::size_of::<c_int>();
        // SAFETY: value and len are live and len holds value's size.
        check(unsafe {
            ffi::nn_getsockopt(
                self.id(),
                level,
                option,
                (&mut value as *mut c_int).cast(),
                &mut len,
            )
        })
        .map_err(compat::option_error)?;
        Ok(value)
    }

    /// `nn_getsockopt` of a string option: its raw bytes (at most `NN_SOCKADDR_MAX`).
    pub fn getsockopt_bytes(&self, level: c_int, option: c_int) -> NnResult<Vec<u8>> {
        compat::check_option(level, option)?;
        let mut buf = vec![0u8; ffi::NN_SOCKADDR_MAX as usize];
        let mut len = buf.len();
        // SAFETY: buf is writable for len bytes; libnanomsg writes at most len and updates it.
        check(unsafe {
            ffi::nn_getsockopt(self.id(), level, option, buf.as_mut_ptr().cast(), &mut len)
        })
        .map_err(compat::option_error)?;
        buf.truncate(len.min(buf.len()));
        if compat::is_c_string_option(level, option) {
            if let Some(name) = self.name().as_ref() {
                return Ok(name.clone());
            }
            if buf.last() == Some(&0) {
                buf.pop();
            }
        }
        Ok(buf)
    }

    /// `nn_setsockopt` of an int option.
    pub fn setsockopt_int(&self, level: c_int, option: c_int, value: c_int) -> NnResult<()> {
        compat::check_option(level, option)?;
        compat::check_option_value(level, option, value)?;
        self.forget_timeout(level, option);
        // SAFETY: value is live for the call and the length is its size.
        check(unsafe {
            ffi::nn_setsockopt(
                self.id(),
                level,
                option,
                (&value as *const c_int).cast(),
                std::mem::size_of::<c_int>(),
            )
        })
        .map(drop)
        .map_err(compat::option_error)
    }

    /// `nn_setsockopt` of a string/bytes option.
    pub fn setsockopt_bytes(&self, level: c_int, option: c_int, value: &[u8]) -> NnResult<()> {
        compat::check_option(level, option)?;
        if level == ffi::NN_SUB {
            return self.subscription(option, value);
        }
        self.setsockopt_raw(level, option, value)
    }

    /// `NN_SUB_SUBSCRIBE` / `NN_SUB_UNSUBSCRIBE`. Where the library cannot be trusted with
    /// it, keeps count of the prefixes held, and unsubscribing a prefix not held fails with
    /// `EINVAL` without reaching the library.
    fn subscription(&self, option: c_int, prefix: &[u8]) -> NnResult<()> {
        compat::check_subscriptions(self.socket.raw)?;
        if !compat::TRACKS_SUBSCRIPTIONS {
            return self.setsockopt_raw(ffi::NN_SUB, option, prefix);
        }
        let mut held = crate::lock(&self.socket.subscriptions);
        match option {
            ffi::NN_SUB_SUBSCRIBE => {
                self.setsockopt_raw(ffi::NN_SUB, option, prefix)?;
                *held.entry(prefix.to_vec()).or_insert(0) += 1;
            }
            ffi::NN_SUB_UNSUBSCRIBE => {
                let Some(count) = held.get_mut(prefix) else {
                    return Err(NnError::new(libc::EINVAL));
                };
                self.setsockopt_raw(ffi::NN_SUB, option, prefix)?;
                *count -= 1;
                if *count == 0 {
                    held.remove(prefix);
                }
            }
            _ => self.setsockopt_raw(ffi::NN_SUB, option, prefix)?,
        }
        Ok(())
    }

    fn setsockopt_raw(&self, level: c_int, option: c_int, value: &[u8]) -> NnResult<()> {
        self.forget_timeout(level, option);
        let c_string = if compat::is_c_string_option(level, option) {
            Some(std::ffi::CString::new(value).map_err(|_| NnError::new(libc::EINVAL))?)
        } else {
            None
        };
        let bytes = c_string.as_ref().map_or(value, |c| c.as_bytes_with_nul());
        // Held across the call, so that the name kept is the one the library has last.
        let mut name = c_string.is_some().then(|| self.name());
        // SAFETY: bytes is live for the call, with its length.
        check(unsafe {
            ffi::nn_setsockopt(self.id(), level, option, bytes.as_ptr().cast(), bytes.len())
        })
        .map_err(compat::option_error)?;
        if let Some(name) = name.as_mut() {
            **name = Some(value.to_vec());
        }
        Ok(())
    }

    fn name(&self) -> std::sync::MutexGuard<'_, Option<Vec<u8>>> {
        crate::lock(&self.socket.name)
    }

    /// `nn_get_statistic`.
    ///
    /// `NN_STAT_CURRENT_SND_PRIORITY` is -1 while the socket has no peer to send to: the
    /// C call returns that as (uint64_t)-1, which is its error value for every other
    /// statistic.
    pub fn statistic(&self, stat: c_int) -> NnResult<i64> {
        compat::check_statistics()?;
        // SAFETY: plain ints; errors come back as (uint64_t)-1 with errno set.
        let value = unsafe { ffi::nn_get_statistic(self.id(), stat) };
        if value == u64::MAX {
            if stat == ffi::NN_STAT_CURRENT_SND_PRIORITY {
                return Ok(-1);
            }
            return Err(NnError::last());
        }
        Ok(i64::try_from(value).unwrap_or(i64::MAX))
    }

    /// The descriptor that polls readable when a message can move in `dir`; `None` for
    /// a socket that cannot move messages that way.
    pub fn poll_fd(&self, dir: Direction) -> NnResult<Option<RawFd>> {
        let cache = &self.socket.poll_fds[dir.index()];
        if let Some(fd) = cache.get() {
            return Ok(*fd);
        }
        let fd = match self.getsockopt_int(ffi::NN_SOL_SOCKET, dir.fd_option()) {
            Ok(fd) => Some(fd),
            // libnanomsg says ENOPROTOOPT, nng ENOTSUP (mapped to ENOPROTOOPT as well).
            Err(e) if e.errno() == libc::ENOPROTOOPT => None,
            Err(e) => return Err(e),
        };
        Ok(*cache.get_or_init(|| fd))
    }

    /// The socket's own timeout for `dir` (`NN_RCVTIMEO`/`NN_SNDTIMEO`), `None` for forever.
    pub fn timeout(&self, dir: Direction) -> NnResult<Option<Duration>> {
        let cache = &self.socket.timeouts[dir.index()];
        let mut ms = cache.load(Ordering::Relaxed);
        if ms == UNKNOWN {
            ms = self.getsockopt_int(ffi::NN_SOL_SOCKET, dir.timeout_option())?;
            cache.store(ms, Ordering::Relaxed);
        }
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    /// Forgets a cached timeout that an option set may have changed.
    fn forget_timeout(&self, level: c_int, option: c_int) {
        if level == ffi::NN_SOL_SOCKET {
            for dir in [Direction::Recv, Direction::Send] {
                if option == dir.timeout_option() {
                    self.socket.timeouts[dir.index()].store(UNKNOWN, Ordering::Relaxed);
                }
            }
        }
    }

    /// The eventfd that becomes readable when the socket is closed.
    pub fn wake_fd(&self) -> RawFd {
        self.socket.wake.as_raw_fd()
    }

    /// True where a send must not use `NN_DONTWAIT`: nng's REP and RESPONDENT sockets refuse
    /// a reply sent with it while the previous one is still going out (REP even loses the
    /// request it answers; RESPONDENT refuses every such send). Such a reply is sent without
    /// the flag once [`Guard::reply_ready`] says so, and then goes out without waiting.
    pub fn sends_replies_without_dontwait(&self, dir: Direction) -> bool {
        dir == Direction::Send && self.socket.reply_due.is_some()
    }

    /// For [`Guard::sends_replies_without_dontwait`] sockets: true when a reply can be sent
    /// without waiting, or when there is nothing to answer (the send then fails at once
    /// with `EFSM`); false while the previous reply to that peer is still going out.
    pub fn reply_ready(&self) -> NnResult<bool> {
        let due = self.socket.reply_due.as_ref();
        if !due.is_some_and(|d| d.load(Ordering::SeqCst)) {
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
    /// `survey.rs`), if ever.
    pub fn retry_at(&self, dir: Direction) -> Option<Instant> {
        match (&self.socket.survey, dir) {
            (Some(clock), Direction::Recv) => clock.retry_at(),
            _ => None,
        }
    }

    /// [`check_len`] of a send, and the bookkeeping after a message went out.
    fn sent_len(&self, rc: c_int) -> NnResult<usize> {
        let result = check_len(rc);
        if let Some(due) = &self.socket.reply_due {
            // Sent, or refused for good: no reply is due any more either way.
            if result.is_ok() || result.is_err_and(|e| e.errno() != libc::EAGAIN) {
                due.store(false, Ordering::SeqCst);
            }
        }
        let n = result?;
        if let Some(clock) = &self.socket.survey {
            let deadline = self
                .getsockopt_int(ffi::NN_SURVEYOR, ffi::NN_SURVEYOR_DEADLINE)
                .unwrap_or(0);
            clock.started(deadline);
        }
        Ok(n)
    }

    /// [`check_len`] of a receive, with the error as libnanomsg would report it.
    fn received_len(&self, rc: c_int) -> NnResult<usize> {
        let n = check_len(rc).map_err(|e| match &self.socket.survey {
            Some(clock) => clock.recv_error(e),
            None => e,
        })?;
        if let Some(due) = &self.socket.reply_due {
            due.store(true, Ordering::SeqCst);
        }
        Ok(n)
    }

    /// Waits on the socket's fd and runs `op` (a call made with `NN_DONTWAIT`, which just
    /// failed with `EAGAIN`) until it does not fail with `EAGAIN`. Ends with `ETIMEDOUT` at
    /// `deadline`, `EBADF` when the socket is closed and `EINTR` when a signal arrives (the
    /// caller checks for it and calls again: nothing is lost).
    pub fn blocking<T>(
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
        return Err(NnError::new(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ));
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

/// Extracts the SP header from a control buffer received with `nn_recvmsg`.
fn sp_header(control: &[u8]) -> Option<Vec<u8>> {
    let hdr_size = std::mem::size_of::<ffi::nn_cmsghdr>();
    let data_at = ffi::nn_cmsg_align(hdr_size);
    let mut at = 0;
    while at + hdr_size <= control.len() {
        // SAFETY: at + hdr_size is within control; the read is unaligned-safe.
        let cmsg: ffi::nn_cmsghdr =
            unsafe { std::ptr::read_unaligned(control[at..].as_ptr().cast()) };
        if cmsg.cmsg_len < data_at || at + cmsg.cmsg_len > control.len() {
            return None;
        }
        if cmsg.cmsg_level == ffi::PROTO_SP && cmsg.cmsg_type == ffi::SP_HDR {
            // The data is a size_t length followed by the header bytes.
            let data = &control[at + data_at..at + cmsg.cmsg_len];
            let word = std::mem::size_of::<usize>();
            if data.len() < word {
                return None;
            }
            let n = usize::from_ne_bytes(data[..word].try_into().ok()?);
            return data.get(word..word + n).map(<[u8]>::to_vec);
        }
        at += ffi::nn_cmsg_align(cmsg.cmsg_len);
    }
    None
}
