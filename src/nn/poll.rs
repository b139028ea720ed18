//! `nn_poll` over guarded sockets: which of several sockets can receive (`NN_POLLIN`) or send
//! (`NN_POLLOUT`). Never waits inside the C library: each socket's `NN_RCVFD`/`NN_SNDFD` is
//! polled together with its wake fd, so a close from another thread ends the wait at once.
//! Where the wait happens (and what holds meanwhile, such as Python's GIL) is the caller's.
//! A `Poll` is counted in as a waiter on every fd it polls (see `Waiting`) for its life, so
//! the library's lazy fds are signalled for it, from its first look to its last wait.

use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::time::Instant;

use crate::ffi;
use crate::nn::error::{NnError, NnResult};
use crate::nn::socket::{wait_any, Direction, Guard, Waiting};

/// One poll over sockets held by guards that outlive it (`'g`).
#[derive(Debug)]
pub struct Poll<'g> {
    /// One pollable fd per (item, event) asked for, with its revents after a wait.
    fds: Vec<(RawFd, libc::c_short)>,
    /// For each of `fds`: the item it belongs to and its event (`NN_POLLIN`/`NN_POLLOUT`).
    owners: Vec<(usize, i32)>,
    /// The wake fd of every item's socket.
    wakes: Vec<RawFd>,
    /// How many items were asked about.
    items: usize,
    /// Each socket's registration as a waiter on the fds polled: held for its drop, which
    /// counts the poll out.
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
        let mut waiting = Vec::new();
        for (i, (guard, events)) in items.into_iter().enumerate() {
            let mut polled = 0;
            for (flag, dir) in [
                (ffi::NN_POLLIN, Direction::Recv),
                (ffi::NN_POLLOUT, Direction::Send),
            ] {
                if events & i32::from(flag) != 0 {
                    let fd = guard.poll_fd(dir)?.ok_or(NnError::new(libc::ENOPROTOOPT))?;
                    fds.push((fd, 0));
                    owners.push((i, i32::from(flag)));
                    polled |= dir.poll_event();
                }
            }
            waiting.push(guard.waiting(polled)?);
            wakes.push(guard.wake_fd());
        }
        Ok(Self {
            fds,
            owners,
            items: wakes.len(),
            wakes,
            _waiting: waiting,
            guards: PhantomData,
        })
    }

    /// A look that does not wait (the deadline is now). Its outcome as [`Poll::wait`]'s.
    pub fn look(&mut self) -> NnResult<usize> {
        wait_any(&mut self.fds, &self.wakes, Some(Instant::now()))
    }

    /// Waits until a socket is ready (the number of fds ready) or `deadline` passes
    /// (`ETIMEDOUT`); `None` waits for ever. Ends with `EBADF` when a socket is closed and
    /// `EINTR` when a signal arrives (call again: nothing is lost).
    pub fn wait(&mut self, deadline: Option<Instant>) -> NnResult<usize> {
        loop {
            match wait_any(&mut self.fds, &self.wakes, deadline) {
                Ok(0) => continue,
                other => return other,
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
                for ((item, flag), (_, rev)) in self.owners.iter().zip(&self.fds) {
                    if *rev != 0 {
                        revents[*item] |= flag;
                    }
                }
                Ok(revents)
            }
            Err(e) if e.errno() == libc::ETIMEDOUT => Ok(revents),
            Err(e) => Err(e),
        }
    }
}
