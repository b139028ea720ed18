//! Socket options: `nn_getsockopt`/`nn_setsockopt` (checked against the option's row in
//! `nn::options`: its range, and what the backend supports), the values cached for the
//! socket's life or until the next set (timeouts, poll fds, the name), SUB subscriptions
//! counted where the library cannot be trusted with them, and `nn_get_statistic`.

use std::os::fd::RawFd;
use std::os::raw::c_int;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Direction, Guard, Usage, UNKNOWN};
use crate::ffi;
use crate::nn::backend;
use crate::nn::error::{check, NnError, NnResult};
use crate::nn::options;
use crate::nn::sync::lock;

impl Guard<'_> {
    /// `nn_getsockopt` of an int option.
    pub fn getsockopt_int(&self, level: c_int, option: c_int) -> NnResult<c_int> {
        backend::check_option(options::find(level, option))?;
        if let Some(bytes) = backend::tls_get(&self.socket.tls, level, option) {
            let int =
                <[u8; 4]>::try_from(bytes?.as_slice()).map_err(|_| NnError::new(libc::EINVAL))?;
            return Ok(c_int::from_ne_bytes(int));
        }
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
        .map_err(backend::option_error)?;
        Ok(value)
    }

    /// `nn_getsockopt` of a string option: its bytes as stored. libnanomsg says how long the
    /// value is when it does not fit (a TLS error text, a file path): then it is read again
    /// into a buffer that holds it (a few times at most: the value may change meanwhile).
    pub fn getsockopt_bytes(&self, level: c_int, option: c_int) -> NnResult<Vec<u8>> {
        let spec = options::find(level, option);
        backend::check_option(spec)?;
        if let Some(value) = backend::tls_get(&self.socket.tls, level, option) {
            return value;
        }
        let mut buf = vec![0u8; ffi::NN_SOCKADDR_MAX as usize];
        let mut len = buf.len();
        for _ in 0..4 {
            len = buf.len();
            // SAFETY: buf is writable for len bytes; libnanomsg writes at most len and
            // updates it.
            check(unsafe {
                ffi::nn_getsockopt(self.id(), level, option, buf.as_mut_ptr().cast(), &mut len)
            })
            .map_err(backend::option_error)?;
            if len <= buf.len() {
                break;
            }
            buf.resize(len, 0);
        }
        buf.truncate(len.min(buf.len()));
        if backend::is_c_string_option(spec) {
            if let Some(name) = self.name().as_ref() {
                return Ok(name.clone());
            }
            if buf.last() == Some(&0) {
                buf.pop();
            }
        }
        Ok(buf)
    }

    /// `nn_setsockopt` of an int option: refused first where its row (if the binding knows
    /// the option) says the value is out of range or the backend lacks it.
    pub fn setsockopt_int(&self, level: c_int, option: c_int, value: c_int) -> NnResult<()> {
        let spec = options::find(level, option);
        backend::check_option(spec)?;
        if let Some(spec) = spec {
            spec.check_int(value)?;
            backend::check_option_value(spec, value)?;
        }
        if let Some(done) = backend::tls_set_int(&self.socket.tls, level, option, value) {
            return done;
        }
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
        .map_err(backend::option_error)
    }

    /// `nn_setsockopt` of a string/bytes option, checked against its row as
    /// [`Guard::setsockopt_int`] is (an int option given as its bytes gets the int's checks).
    pub fn setsockopt_bytes(&self, level: c_int, option: c_int, value: &[u8]) -> NnResult<()> {
        let spec = options::find(level, option);
        backend::check_option(spec)?;
        if level == ffi::NN_SUB {
            return self.subscription(option, value);
        }
        if let Some(spec) = spec {
            spec.check_len(value.len())?;
            if let Ok(int) = <[u8; std::mem::size_of::<c_int>()]>::try_from(value) {
                let int = c_int::from_ne_bytes(int);
                spec.check_int(int)?;
                backend::check_option_value(spec, int)?;
            }
        }
        if let Some(done) = backend::tls_set_bytes(&self.socket.tls, level, option, value) {
            return done;
        }
        self.setsockopt_untracked(level, option, value)
    }

    /// `NN_SUB_SUBSCRIBE` / `NN_SUB_UNSUBSCRIBE`. Where the library cannot be trusted with
    /// it, keeps count of the prefixes held: unsubscribing a prefix not held fails with
    /// `EINVAL` without reaching the library, and where the library keeps no count of its
    /// own (nng), only a prefix's first subscribe and last unsubscribe reach it.
    fn subscription(&self, option: c_int, prefix: &[u8]) -> NnResult<()> {
        backend::check_subscriptions(self.socket.raw)?;
        if !backend::TRACKS_SUBSCRIPTIONS {
            self.setsockopt_untracked(ffi::NN_SUB, option, prefix)?;
            if option == ffi::NN_SUB_SUBSCRIBE {
                self.socket.note(Usage::Subscribed);
            }
            return Ok(());
        }
        let mut held = lock(&self.socket.subscriptions);
        let counts = backend::LIBRARY_COUNTS_SUBSCRIPTIONS;
        match option {
            ffi::NN_SUB_SUBSCRIBE => {
                let count = held.get(prefix).copied().unwrap_or(0);
                if counts || count == 0 {
                    self.setsockopt_untracked(ffi::NN_SUB, option, prefix)?;
                }
                held.insert(prefix.to_vec(), count + 1);
                self.socket.note(Usage::Subscribed);
            }
            ffi::NN_SUB_UNSUBSCRIBE => {
                let Some(count) = held.get_mut(prefix) else {
                    return Err(NnError::new(libc::EINVAL));
                };
                if counts || *count == 1 {
                    self.setsockopt_untracked(ffi::NN_SUB, option, prefix)?;
                }
                *count -= 1;
                if *count == 0 {
                    held.remove(prefix);
                }
            }
            _ => self.setsockopt_untracked(ffi::NN_SUB, option, prefix)?,
        }
        Ok(())
    }

    /// `nn_setsockopt` of a string/bytes option, past the subscription count (but keeping
    /// the timeout and name caches right).
    fn setsockopt_untracked(&self, level: c_int, option: c_int, value: &[u8]) -> NnResult<()> {
        self.forget_timeout(level, option);
        let c_string = if backend::is_c_string_option(options::find(level, option)) {
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
        .map_err(backend::option_error)?;
        if let Some(name) = name.as_mut() {
            **name = Some(value.to_vec());
        }
        Ok(())
    }

    fn name(&self) -> std::sync::MutexGuard<'_, Option<Vec<u8>>> {
        lock(&self.socket.name)
    }

    /// `nn_get_statistic`.
    ///
    /// `NN_STAT_CURRENT_SND_PRIORITY` is -1 while the socket has no peer to send to: the
    /// C call returns that as (uint64_t)-1, which is its error value for every other
    /// statistic.
    pub fn statistic(&self, stat: c_int) -> NnResult<i64> {
        backend::check_statistics()?;
        if let Some(value) = backend::statistic_of_another_library(stat) {
            return Ok(value);
        }
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
}
