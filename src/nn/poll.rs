//! `nn_poll` over guarded sockets: which of several sockets can receive (`NN_POLLIN`) or send
//! (`NN_POLLOUT`). Never waits inside the C library: each socket's `NN_RCVFD`/`NN_SNDFD` is
//! polled together with its wake fd, so a close from another thread ends the wait at once.
//! Where the wait happens (and what holds meanwhile, such as Python's GIL) is the caller's.
//!
//! Each descriptor is polled once however many items name it: `poll(2)` refuses (`EINVAL`)
//! more entries than the process may have open files, and a list that names one socket
//! many times would pass that limit with a handful of descriptors.
//!
//! A `Poll` is counted in as a waiter on every fd it polls (see `Waiting`) for its life, so
//! the library's lazy fds are signalled for it, from its first look to its last wait.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::time::Instant;

use crate::ffi;
use crate::nn::error::{NnError, NnResult};
use crate::nn::process;
use crate::nn::socket::{wait_any, Direction, Guard, Waiting};

/// Fails with `ETERM` once `nn_term` ran: it closed the sockets' fds (their numbers may
/// belong to other files by now), and signalled them first, which would read as "ready".
fn check_not_terminated() -> NnResult<()> {
    if process::terminated() {
        return Err(NnError::new(ffi::ETERM));
    }
    Ok(())
}

/// One poll over sockets held by guards that outlive it (`'g`).
#[derive(Debug)]
pub struct Poll<'g> {
    /// Each pollable fd the items ask about, once, with its revents after a wait.
    fds: Vec<(RawFd, libc::c_short)>,
    /// For each (item, event) asked for: the item, its event (`NN_POLLIN`/`NN_POLLOUT`) and
    /// the index of its fd in `fds`.
    owners: Vec<(usize, i32, usize)>,
    /// The wake fd of each item's socket, once.
    wakes: Vec<RawFd>,
    /// How many items were asked about.
    items: usize,
    /// Each socket's registration as a waiter on the fds polled (once per socket and
    /// direction): held for its drop, which counts the poll out.
    _waiting: Vec<Waiting<'g>>,
    guards: PhantomData<&'g ()>,
}

impl<'g> Poll<'g> {
    /// A poll of `(socket, events)` items; other event bits than `NN_POLLIN`/`NN_POLLOUT` are
    /// ignored. Fails with `ENOPROTOOPT` for `NN_POLLIN` on a send-only socket or
    /// `NN_POLLOUT` on a receive-only one.
    pub fn new<'s: 'g>(items: impl IntoIterator<Item = (&'g Guard<'s>, i32)>) -> NnResult<Self> {
        let mut fds = Vec::new();
        let mut owners = Vec::new();
        let mut wakes = Vec::new();
        // fd -> its index in `fds`; the wake fds in `wakes`.
        let mut fd_index = HashMap::new();
        let mut wakes_seen = HashSet::new();
        let mut items_seen = 0;
        // wake fd (one per socket) -> the directions it is counted in for already.
        let mut registered: HashMap<RawFd, libc::c_int> = HashMap::new();
        let mut waiting = Vec::new();
        for (i, (guard, events)) in items.into_iter().enumerate() {
            let mut polled = 0;
            for (flag, dir) in [
                (ffi::NN_POLLIN, Direction::Recv),
                (ffi::NN_POLLOUT, Direction::Send),
            ] {
                if events & i32::from(flag) != 0 {
                    let fd = guard.poll_fd(dir)?.ok_or(NnError::new(libc::ENOPROTOOPT))?;
                    let index = *fd_index.entry(fd).or_insert_with(|| {
                        fds.push((fd, 0));
                        fds.len() - 1
                    });
                    owners.push((i, i32::from(flag), index));
                    polled |= dir.poll_event();
                }
            }
            let wake = guard.wake_fd();
            let counted = registered.entry(wake).or_insert(0);
            if polled & !*counted != 0 {
                waiting.push(guard.waiting(polled & !*counted)?);
                *counted |= polled;
            }
            if wakes_seen.insert(wake) {
                wakes.push(wake);
            }
            items_seen = i + 1;
        }
        Ok(Self {
            fds,
            owners,
            items: items_seen,
            wakes,
            _waiting: waiting,
            guards: PhantomData,
        })
    }

    /// A look that does not wait (the deadline is now). Its outcome as [`Poll::wait`]'s.
    pub fn look(&mut self) -> NnResult<usize> {
        check_not_terminated()?;
        let outcome = wait_any(&mut self.fds, &self.wakes, Some(Instant::now()));
        check_not_terminated().and(outcome)
    }

    /// Waits until a socket is ready (the number of fds ready) or `deadline` passes
    /// (`ETIMEDOUT`); `None` waits for ever. Ends with `EBADF` when a socket is closed,
    /// `ETERM` after `nn_term` and `EINTR` when a signal arrives (call again: nothing is
    /// lost).
    pub fn wait(&mut self, deadline: Option<Instant>) -> NnResult<usize> {
        loop {
            check_not_terminated()?;
            match wait_any(&mut self.fds, &self.wakes, deadline) {
                Ok(0) => continue,
                // nn_term signals every socket's fds (and then closes them): not "ready".
                other => return check_not_terminated().and(other),
            }
        }
    }

    /// True for an outcome of [`Poll::look`] or [`Poll::wait`] that says "timed out".
    pub fn timed_out(outcome: &NnResult<usize>) -> bool {
        matches!(outcome, Err(e) if e.errno() == libc::ETIMEDOUT)
    }

    /// The ready events of each item, in order, given the outcome of the last look or wait:
    /// all 0 after a timeout; any other error is passed on.
    pub fn events(&self, outcome: NnResult<usize>) -> NnResult<Vec<i32>> {
        let mut revents = vec![0; self.items];
        match outcome {
            Ok(_) => {
                for &(item, flag, index) in &self.owners {
                    if self.fds[index].1 != 0 {
                        revents[item] |= flag;
                    }
                }
                Ok(revents)
            }
            Err(e) if e.errno() == libc::ETIMEDOUT => Ok(revents),
            Err(e) => Err(e),
        }
    }
}
