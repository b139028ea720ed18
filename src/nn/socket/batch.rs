//! Batches: many messages sent, or received, in one call ([`Guard::send_batch`],
//! [`Guard::recv_batch`]), so that the layer above leaves the GIL once for all of them. The
//! progress (how many went, what came, the deadline) lives in the caller's hands: a call that
//! ends with `EINTR` is called again and goes on where it stopped, with the time that is left,
//! and no message is sent twice or lost.

use std::cell::Cell;
use std::time::Instant;

use super::{Direction, Guard, Unlocked};
use crate::ffi;
use crate::nn::error::{NnError, NnResult};
use crate::nn::message::NnMsg;

/// How long a batch call may wait, kept across its returns on `EINTR`.
#[derive(Clone, Copy, Debug)]
pub struct BatchWait {
    /// The deadline once fixed (None inside: no deadline); None until the first wait, for the
    /// socket's own timeout.
    until: Option<Option<Instant>>,
    /// True when the deadline is the socket's timeout, whose expiry is `ETIMEDOUT`; false
    /// for a deadline of the caller's, whose expiry ends a receive with nothing.
    expiry_is_error: bool,
}

impl BatchWait {
    /// Up to the socket's own timeout for the direction (`NN_SNDTIMEO`, `NN_RCVTIMEO`),
    /// counted from the call's first wait, for the whole call; then `ETIMEDOUT`.
    pub fn socket_timeout() -> Self {
        Self {
            until: None,
            expiry_is_error: true,
        }
    }

    /// Until `deadline` (None: for ever), whatever the socket's timeout; a receive that
    /// reaches it ends with no message and no error.
    pub fn until(deadline: Option<Instant>) -> Self {
        Self {
            until: Some(deadline),
            expiry_is_error: false,
        }
    }

    /// The deadline of a wait in `dir` that starts now: fixed at the first wait.
    fn deadline(&mut self, guard: &Guard<'_>, dir: Direction) -> NnResult<Option<Instant>> {
        if let Some(until) = self.until {
            return Ok(until);
        }
        let until = guard.deadline(dir)?;
        self.until = Some(until);
        Ok(until)
    }
}

impl Guard<'_> {
    /// Sends `messages[*sent..]` in order, each with `nn_send` (a copy), adding each one
    /// that went to `sent`, with the caller's locks let go (`unlocked`) once for all of
    /// them. A message that cannot go at once is waited for (without `block`: `EAGAIN`), up
    /// to `wait`'s deadline (`ETIMEDOUT`). Also ends with `EBADF` once the socket is closed,
    /// between two messages too, and with `EINTR` where the caller ends the call on a signal.
    /// Where replies cannot be sent with `NN_DONTWAIT` (nng's REP and RESPONDENT), each goes
    /// as [`Guard::call`] sends one.
    pub fn send_batch(
        &self,
        messages: &[&[u8]],
        sent: &mut usize,
        block: bool,
        wait: &mut BatchWait,
        unlocked: &mut impl Unlocked,
    ) -> NnResult<()> {
        if self.sends_replies_without_dontwait(Direction::Send) {
            while let Some(&data) = messages.get(*sent) {
                self.call(Direction::Send, block, unlocked, |flags| {
                    self.send(data, flags)
                })?;
                *sent += 1;
            }
            return Ok(());
        }
        let done = unlocked.run(|| self.send_batch_waiting(messages, sent, block, wait));
        if *sent > 0 {
            super::spin::note_send();
        }
        done
    }

    /// [`Guard::send_batch`]'s loop, run with the caller's locks let go (`EINTR`: call again
    /// to go on).
    fn send_batch_waiting(
        &self,
        messages: &[&[u8]],
        sent: &mut usize,
        block: bool,
        wait: &mut BatchWait,
    ) -> NnResult<()> {
        while let Some(&data) = messages.get(*sent) {
            if self.socket.is_closed() {
                return Err(NnError::new(libc::EBADF));
            }
            match self.send(data, ffi::NN_DONTWAIT) {
                Ok(_) => {}
                Err(e) if block && e.errno() == libc::EAGAIN => {
                    let deadline = wait.deadline(self, Direction::Send)?;
                    self.retry_until_ready(Direction::Send, deadline, || {
                        self.send(data, ffi::NN_DONTWAIT)
                    })?;
                }
                Err(e) => return Err(e),
            }
            *sent += 1;
        }
        Ok(())
    }

    /// Receives into `got` up to `max` messages: the first one waited for (unless `got`
    /// holds one already), up to `wait`'s deadline, then whatever else is queued, without
    /// waiting. A failure after the first message ends the batch without an error (the
    /// messages in hand are the caller's; the next receive meets the failure again), as does
    /// the end of a deadline of the caller's ([`BatchWait::until`]) before the first.
    /// A REP or RESPONDENT takes one message at most: its next receive would drop the
    /// request it has to answer.
    /// Errors: `ETIMEDOUT` at the socket's timeout, `EBADF` once closed, `EINTR` when a
    /// signal arrives during the wait (call again to go on), any error of the first receive;
    /// `got` is empty after each.
    pub fn recv_batch(
        &self,
        got: &mut Vec<NnMsg>,
        max: usize,
        wait: &mut BatchWait,
    ) -> NnResult<()> {
        let max = if self.answers_each_request() {
            max.min(1)
        } else {
            max
        };
        if got.is_empty() && max > 0 {
            let first = match self.recv_msg(ffi::NN_DONTWAIT) {
                Err(e) if e.errno() == libc::EAGAIN => {
                    let deadline = wait.deadline(self, Direction::Recv)?;
                    // The library's own ETIMEDOUT (a survey's deadline) is an error whatever
                    // the wait; only the end of the wait itself can mean "nothing came".
                    let library_timeout = Cell::new(false);
                    let first = self.retry_until_ready(Direction::Recv, deadline, || {
                        self.recv_msg(ffi::NN_DONTWAIT).inspect_err(|e| {
                            library_timeout.set(e.errno() == libc::ETIMEDOUT);
                        })
                    });
                    match first {
                        Err(e)
                            if e.errno() == libc::ETIMEDOUT
                                && !wait.expiry_is_error
                                && !library_timeout.get() =>
                        {
                            return Ok(());
                        }
                        other => other?,
                    }
                }
                other => other?,
            };
            got.push(first);
        }
        while got.len() < max && !self.socket.is_closed() {
            match self.recv_msg(ffi::NN_DONTWAIT) {
                Ok(msg) => got.push(msg),
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// True for a REP or RESPONDENT (not raw): it holds the request it received until it
    /// answers, and a receive meanwhile drops it.
    fn answers_each_request(&self) -> bool {
        !self.socket.raw && matches!(self.socket.protocol, ffi::NN_REP | ffi::NN_RESPONDENT)
    }
}
